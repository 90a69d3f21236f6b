package filemode

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIs: a file Tapline did not make private is not reported private, and
// a folder made 0700 is (on Windows these are ACL checks; Wine keeps no
// ACLs, so there Is reports true whatever the file).
func TestIs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644) // past the umask
	if ok, err := Is(p, 0o644); err != nil || !ok {
		t.Fatalf("Is(0644) = %v %v", ok, err)
	}
	if ok, _ := Private(p); ok && !UnderWine() {
		t.Fatal("a 0644 file reported private")
	}
	if _, err := Is(filepath.Join(dir, "none"), 0o600); err == nil {
		t.Fatal("a missing file has a mode")
	}
}
