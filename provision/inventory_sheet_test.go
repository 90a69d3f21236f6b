package provision

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tapline/tapline/internal/libreoffice"
)

// TestInventoryFromLibreOffice: an inventory kept in LibreOffice Calc and
// saved as CSV with a semicolon (as Calc and Excel do in European locales),
// then with a byte-order mark and CRLF line ends as on Windows, reads as
// the sheet holds it: a DNS list with a comma, paths with spaces, umlauts
// and Windows backslashes relative to the inventory's folder.
func TestInventoryFromLibreOffice(t *testing.T) {
	libreoffice.Require(t)
	dir := t.TempDir()
	sheet := [][]string{
		{"sensor", "address", "ssh_user", "auth", "key_file", "new_ip", "new_mask", "new_dns", "cert_source", "cert", "key"},
		{"sensor-01", "192.0.2.10", "admin", "key", `keys\field laptop.ppk`, "192.0.2.110", "24", "192.0.2.53;192.0.2.54", "files", `certs\Zürich Süd\sensor-01.crt`, `certs\Zürich Süd\sensor-01.key`},
		{"sensor-02", "192.0.2.11", "admin", "agent", "", "192.0.2.111", "255.255.255.0", "192.0.2.53", "self-signed", "", ""},
	}
	ods := filepath.Join(dir, "site-a.ods")
	if err := libreoffice.WriteODS(ods, sheet); err != nil {
		t.Fatal(err)
	}
	saved := libreoffice.Convert(t, t.TempDir(), "csv:Text - txt - csv (StarCalc):"+libreoffice.SemicolonCSV, "", ods)[0]
	raw, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`;"192.0.2.53;192.0.2.54";`)) {
		t.Fatalf("Calc did not quote the cell holding its separator:\n%s", raw)
	}
	windows := append([]byte("\xEF\xBB\xBF"), bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))...)
	for name, data := range map[string][]byte{"as Calc saved it": raw, "with a BOM and CRLF": windows} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "site-a.csv")
			os.WriteFile(p, data, 0o600)
			inv, err := ReadInventory(p)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Dialect.Comma != ';' || len(inv.Rows) != 2 || !slices.Equal(inv.Header, sheet[0]) {
				t.Fatalf("read %+v %q", inv.Dialect, inv.Header)
			}
			r := inv.Rows[0]
			if r.KeyFile != filepath.Join(dir, "keys", "field laptop.ppk") || r.Cert != filepath.Join(dir, "certs", "Zürich Süd", "sensor-01.crt") ||
				!slices.Equal(r.NewDNS, []string{"192.0.2.53", "192.0.2.54"}) || r.NewMask != "24" {
				t.Fatalf("row 1: %+v", r)
			}
			if r2 := inv.Rows[1]; r2.Auth != AuthAgent || r2.NewMask != "255.255.255.0" || r2.Line != 3 {
				t.Fatalf("row 2: %+v", r2)
			}
		})
	}
}
