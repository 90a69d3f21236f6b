package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The repository stands on its own: no code, script or document cites a
// design note kept outside it (the field facts it relies on are in
// docs/field-facts.md), and every "docs/NAME.md" a Go comment or document
// cites exists.
func TestRepositoryStandsAlone(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root := repoRoot()
	outside := regexp.MustCompile(`FIELD-FACTS|ARCHITECTURE\.md|STYLE\.md|shared/design`)
	cited := regexp.MustCompile(`docs/([a-z0-9-]+\.md)`)
	n := walkRepo(t, func(name string) bool {
		return strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".sh") || name == "Makefile"
	}, func(p, rel string, b []byte) {
		if p == here {
			return
		}
		for i, line := range strings.Split(string(b), "\n") {
			if outside.MatchString(line) {
				t.Errorf("%s:%d cites a note outside the repository: %s", rel, i+1, strings.TrimSpace(line))
			}
			for _, m := range cited.FindAllStringSubmatch(line, -1) {
				if _, err := os.Stat(filepath.Join(root, "docs", m[1])); err != nil {
					t.Errorf("%s:%d cites docs/%s, which does not exist", rel, i+1, m[1])
				}
			}
		}
	})
	if n < 100 {
		t.Fatalf("read only %d files: is the walk rooted at the repository?", n)
	}
}
