package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityDocNamesRealTests: every test, fuzz target and benchmark
// docs/security.md names as proof of a defence exists, so the document
// cannot point at a test that was renamed or removed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(), "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	walkRepo(t, func(name string) bool { return strings.HasSuffix(name, "_test.go") }, func(_, _ string, b []byte) { src.Write(b) })
	all := src.String()
	names := regexp.MustCompile(`\b(?:Test|Fuzz|Benchmark)[A-Z][A-Za-z0-9_]*`).FindAllString(string(doc), -1)
	if len(names) < 20 {
		t.Fatalf("docs/security.md names only %d tests", len(names))
	}
	for _, n := range names {
		if !strings.Contains(all, "func "+n+"(") {
			t.Errorf("docs/security.md names %s, which no test file defines", n)
		}
	}
}
