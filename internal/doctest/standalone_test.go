package doctest

import (
	"io/fs"
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
	root := filepath.Join(filepath.Dir(here), "..", "..")
	outside := regexp.MustCompile(`FIELD-FACTS|ARCHITECTURE\.md|STYLE\.md|shared/design`)
	cited := regexp.MustCompile(`docs/([a-z0-9-]+\.md)`)
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == ".git" || name == "testdata" || name == "bin" || name == "dist" || (strings.HasPrefix(name, ".") && p != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, ".md") && !strings.HasSuffix(name, ".sh") && name != "Makefile" {
			return nil
		}
		if p == here {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(root, p)
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
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("read only %d files: is the walk rooted at the repository?", n)
	}
}
