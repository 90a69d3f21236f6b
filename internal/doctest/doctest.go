// Package doctest reads the examples in docs/ so tests can check that the
// documented formats and the code agree.
package doctest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// JSONBlock returns the body of the fenced block "```json TAG" in
// docs/NAME (NAME such as "formats.md"), failing the test when it is missing.
func JSONBlock(t testing.TB, name, tag string) []byte {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "..", "docs", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := "```json " + tag + "\n"
	s := string(b)
	i := strings.Index(s, open)
	if i < 0 {
		t.Fatalf("docs/%s has no ```json %s block", name, tag)
	}
	s = s[i+len(open):]
	end := strings.Index(s, "```")
	if end < 0 {
		t.Fatalf("docs/%s: the ```json %s block is not closed", name, tag)
	}
	return []byte(s[:end])
}
