package safefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/internal/filemode"
)

func skipUnderWine(t *testing.T) {
	t.Helper()
	if filemode.UnderWine() {
		t.Skip("running under Wine, which keeps no file ACLs: this test needs real Windows")
	}
}

func check(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if ok, err := filemode.Is(path, perm); err != nil || !ok {
		t.Fatalf("%s is not %v on Windows (an ACL for the user alone when private): %v", path, perm, err)
	}
}

// TestPrivateFileACL: a private file is for the current user alone on
// Windows (a protected ACL with one entry), whatever its folder allows; a
// shared file keeps what its folder gives; a rewrite stays private.
func TestPrivateFileACL(t *testing.T) {
	skipUnderWine(t)
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "sensor.key"), filepath.Join(dir, "sensor.crt")
	if err := WriteFile(key, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, key, 0o600)
	if err := WriteFile(pub, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, pub, 0o644)
	if err := WriteFile(key, []byte("secret 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, key, 0o600)
}

// TestMkdirPrivateACL: a private folder is the user's alone, and so is
// whatever is created inside it, by inheritance; Restrict makes a file
// written some other way private.
func TestMkdirPrivateACL(t *testing.T) {
	skipUnderWine(t)
	ca := filepath.Join(t.TempDir(), "files", "ca")
	if err := MkdirPrivate(ca); err != nil {
		t.Fatal(err)
	}
	check(t, ca, 0o700)
	f := filepath.Join(ca, "journal")
	if err := os.WriteFile(f, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(outside, nil, 0o666)
	if err := Restrict(outside); err != nil {
		t.Fatal(err)
	}
	check(t, outside, 0o600)
}
