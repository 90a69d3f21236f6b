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

// TestSecurityDocNamesRealTests: every test, fuzz target and benchmark
// docs/security.md names as proof of a defence exists, so the document
// cannot point at a test that was renamed or removed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(here), "..", "..")
	doc, err := os.ReadFile(filepath.Join(repo, "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	err = filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
