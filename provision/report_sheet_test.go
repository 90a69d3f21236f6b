package provision

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/libreoffice"
)

// attackName is the sensor name of the classic CSV injection: in a
// spreadsheet that evaluates it, a DDE formula that starts a program.
const attackName = `=cmd|' /C calc'!A1`

// TestReportCSVInjection: an inventory whose sensor name and whose failure
// text are formulas yields a report and a retry inventory that a real
// LibreOffice Calc, told to evaluate formulas, opens with every cell as
// text (and with the inventory's semicolon, column for column); the retry
// inventory reads back as the very rows that went in.
func TestReportCSVInjection(t *testing.T) {
	dir := t.TempDir()
	inv, err := ParseInventory(strings.NewReader("sensor;address;ssh_user;auth;new_dns;cert_source\n"+
		`"`+strings.ReplaceAll(attackName, `"`, `""`)+`";192.0.2.10;admin;agent;"192.0.2.53,192.0.2.54";self-signed`+"\n"+
		"+sensor-02;192.0.2.11;@admin;agent;;self-signed\n"), dir, "site.csv")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Rows[0].Sensor != attackName {
		t.Fatalf("the inventory read %q", inv.Rows[0].Sensor)
	}
	rep := &BatchReport{Inventory: filepath.Join(dir, "site.csv"), Dialect: inv.Dialect}
	for i, row := range inv.Rows {
		rep.Results = append(rep.Results, RowResult{Row: row, Attempts: 1,
			Result: Result{Outcome: OutcomeFailed, Error: []string{"=1+1", "-2+3"}[i], Fix: "@SUM(1;2)", Code: "\t=1"}})
	}
	var report, retry bytes.Buffer
	if err := rep.WriteCSV(&report); err != nil {
		t.Fatal(err)
	}
	if _, err := rep.WriteRetryInventory(&retry, inv.Header, "site"); err != nil {
		t.Fatal(err)
	}
	// Calc opens both, evaluating formulas (as Excel always does): no cell
	// is a formula, each shows its value behind the neutralising apostrophe.
	libreoffice.Require(t)
	paths := []string{filepath.Join(dir, "site.report.csv"), filepath.Join(dir, "site.retry.csv")}
	os.WriteFile(paths[0], report.Bytes(), 0o600)
	os.WriteFile(paths[1], retry.Bytes(), 0o600)
	// CSV import options: ';', '"', UTF-8, line 1, standard cells, language,
	// quoted fields as text off, special numbers off, ..., evaluate formulas on.
	odss := libreoffice.Convert(t, t.TempDir(), "ods", "CSV:59,34,76,1,,0,false,false,false,false,false,-1,true", paths...)
	want := map[string][]string{
		"report": {reportCSVHeader[0], "'" + attackName, "'+sensor-02"},
		"retry":  {"# tapline retry of site: ", "sensor", "'" + attackName, "'+sensor-02"},
	}
	for i, name := range []string{"report", "retry"} {
		rows, err := libreoffice.Cells(odss[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want[name]) {
			t.Fatalf("%s: %d rows in Calc, want %d", name, len(rows), len(want[name]))
		}
		for r, row := range rows {
			for c, cell := range row {
				if cell.Formula != "" {
					t.Errorf("%s row %d column %d became the formula %q", name, r+1, c+1, cell.Formula)
				}
			}
			if row[0].Text != want[name][r] && !(r == 0 && name == "retry" && strings.HasPrefix(row[0].Text, want[name][0])) {
				t.Errorf("%s row %d shows %q, want %q", name, r+1, row[0].Text, want[name][r])
			}
		}
		if name == "report" && len(rows[0]) != len(reportCSVHeader) {
			t.Errorf("report: %d columns in Calc, want %d", len(rows[0]), len(reportCSVHeader))
		}
	}
	// The retry inventory is an inventory again, with the same values.
	back, err := ParseInventory(bytes.NewReader(retry.Bytes()), dir, "site.retry.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 2 || back.Rows[0].Sensor != attackName || back.Rows[1].Sensor != "+sensor-02" || back.Rows[1].User != "@admin" ||
		back.Dialect.Comma != ';' || strings.Join(back.Rows[0].Record, "|") != strings.Join(inv.Rows[0].Record, "|") {
		t.Fatalf("retry inventory read back as %+v", back.Rows)
	}

	// It still names the report it belongs to, behind the byte-order mark.
	if got := RetryOf(paths[1]); got != "site" {
		t.Errorf("RetryOf = %q, want site", got)
	}
	// And the bytes are what spreadsheets open with a double click.
	for name, b := range map[string][]byte{"report": report.Bytes(), "retry": retry.Bytes()} {
		if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) || !bytes.Contains(b, []byte(";")) || !bytes.HasSuffix(b, []byte("\r\n")) {
			t.Fatalf("%s: not UTF-8 with a BOM, semicolons and CRLF:\n%q", name, b)
		}
	}
}
