package doctest

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository's top folder.
func repoRoot() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}

// walkRepo calls visit with each file of the repository (not .git, bin,
// dist, testdata or hidden folders) whose name want accepts, and returns
// how many it read.
func walkRepo(t *testing.T, want func(name string) bool, visit func(path, rel string, b []byte)) int {
	t.Helper()
	root := repoRoot()
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
		if !want(name) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(root, p)
		visit(p, rel, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
