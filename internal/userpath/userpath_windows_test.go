package userpath

import (
	"strings"
	"testing"
)

// TestResolveWindows: backslashes, forward slashes, drive letters, UNC and
// rooted paths, as Windows reads them, relative ones under the folder of
// the inventory.
func TestResolveWindows(t *testing.T) {
	dir := `C:\Users\eng\Site A`
	for in, want := range map[string]string{
		`certs\sensor-01.crt`:        `C:\Users\eng\Site A\certs\sensor-01.crt`,
		"certs/sensor-01.crt":        `C:\Users\eng\Site A\certs\sensor-01.crt`,
		`..\shared\chain.pem`:        `C:\Users\eng\shared\chain.pem`,
		`D:\pki\root.crt`:            `D:\pki\root.crt`,
		"d:/pki/root.crt":            `d:\pki\root.crt`,
		`\\fileserver\pki\chain.pem`: `\\fileserver\pki\chain.pem`,
		`\pki\root.crt`:              `C:\pki\root.crt`,
		`Zürich Süd\a b.crt`:         `C:\Users\eng\Site A\Zürich Süd\a b.crt`,
	} {
		got, err := Resolve(dir, in)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := Resolve(dir, `D:pki\root.crt`); err == nil || !strings.Contains(err.Error(), `D:\pki\root.crt`) {
		t.Errorf("a drive-relative path: %v", err)
	}
}
