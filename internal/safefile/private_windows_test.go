package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// skipUnderWine: Wine keeps no ACLs on files (it derives one from the
// Unix mode whatever was set), so these tests prove only on real Windows.
func skipUnderWine(t *testing.T) {
	t.Helper()
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		t.Skip("running under Wine, which keeps no file ACLs: this test needs real Windows")
	}
}

// dacl is path's DACL in SDDL ("D:P(A;;FA;;;S-1-5-21-...)").
func dacl(t *testing.T, path string) string {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	return sd.String()
}

func currentSID(t *testing.T) string {
	t.Helper()
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	return u.User.Sid.String()
}

// onlyUser reports whether every access entry of the SDDL names sid.
func onlyUser(sddl, sid string) bool {
	aces := strings.Split(sddl, "(")[1:]
	for _, a := range aces {
		if !strings.HasSuffix(strings.TrimSuffix(a, ")"), ";"+sid) && !strings.Contains(a, ";"+sid+")") {
			return false
		}
	}
	return len(aces) > 0
}

// TestPrivateFileACL: a private file is for the current user alone on
// Windows (a protected ACL with one entry), whatever its folder allows; a
// shared file keeps what its folder gives.
func TestPrivateFileACL(t *testing.T) {
	skipUnderWine(t)
	dir := t.TempDir()
	sid := currentSID(t)
	key := filepath.Join(dir, "sensor.key")
	if err := WriteFile(key, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := dacl(t, key)
	if !strings.HasPrefix(got, "D:P") || !onlyUser(got, sid) {
		t.Fatalf("sensor.key: %s, want a protected ACL for %s alone", got, sid)
	}
	pub := filepath.Join(dir, "sensor.crt")
	if err := WriteFile(pub, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := dacl(t, pub); strings.HasPrefix(got, "D:P") {
		t.Fatalf("sensor.crt: %s, want the folder's inherited ACL", got)
	}
	// Rewriting keeps it private (the new file replaces the old one).
	if err := WriteFile(key, []byte("secret 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := dacl(t, key); !strings.HasPrefix(got, "D:P") || !onlyUser(got, sid) {
		t.Fatalf("rewritten sensor.key: %s", got)
	}
}

// TestMkdirPrivateACL: a private folder is the user's alone, and so is
// whatever is created inside it, by inheritance.
func TestMkdirPrivateACL(t *testing.T) {
	skipUnderWine(t)
	sid := currentSID(t)
	ca := filepath.Join(t.TempDir(), "files", "ca")
	if err := MkdirPrivate(ca); err != nil {
		t.Fatal(err)
	}
	if got := dacl(t, ca); !strings.HasPrefix(got, "D:P") || !onlyUser(got, sid) || !strings.Contains(got, "OICI") {
		t.Fatalf("folder: %s", got)
	}
	f := filepath.Join(ca, "journal")
	if err := os.WriteFile(f, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if got := dacl(t, f); !onlyUser(got, sid) {
		t.Fatalf("file in the folder: %s", got)
	}
	if err := Restrict(filepath.Join(ca, "journal")); err != nil {
		t.Fatal(err)
	}
}
