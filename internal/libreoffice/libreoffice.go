// Package libreoffice lets tests use a real LibreOffice Calc, headless, as
// the spreadsheet a field engineer edits inventories and reads reports in:
// build an .ods, have Calc save it as CSV with given filter options, open
// a CSV as Calc would and read back what each cell became (text, number or
// formula).
package libreoffice

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// Require returns the soffice command, or skips the test (fails it under
// CI=true) when LibreOffice Calc is not installed.
func Require(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("soffice")
	if err != nil {
		needs.Missing(t, "this test needs LibreOffice Calc (Debian's libreoffice-calc); install it with tools/ensure-deps.sh test")
	}
	return p
}

// CSV filter options (LibreOffice's "Filter Options for the CSV Filter"):
// separator, text delimiter '"', character set UTF-8 (76), first line 1.
const (
	CommaCSV     = "44,34,76,1"
	SemicolonCSV = "59,34,76,1"
)

// Convert runs one headless soffice over files: --convert-to to into
// outDir, with the import filter infilter when not empty. Its own user
// profile keeps it apart from any other LibreOffice running. It returns
// the outputs in the order of files.
func Convert(t testing.TB, outDir, to, infilter string, files ...string) []string {
	t.Helper()
	bin := Require(t)
	profile := t.TempDir()
	args := []string{"-env:UserInstallation=file://" + profile, "--headless", "--norestore", "--convert-to", to, "--outdir", outDir}
	if infilter != "" {
		args = append(args, "--infilter="+infilter)
	}
	cmd := exec.Command(bin, append(args, files...)...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice --convert-to %s: %v\n%s", to, err, out)
	}
	ext, _, _ := strings.Cut(to, ":")
	var res []string
	for _, f := range files {
		p := filepath.Join(outDir, strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))+"."+ext)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("soffice made no %s: %s", p, out)
		}
		res = append(res, p)
	}
	return res
}

// WriteODS writes an OpenDocument spreadsheet with one sheet of text cells.
func WriteODS(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	z := zip.NewWriter(f)
	// The mimetype comes first, stored, as ODF 1.2 part 3 §3.3 requires.
	w, err := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return err
	}
	io.WriteString(w, "application/vnd.oasis.opendocument.spreadsheet")
	w, _ = z.Create("META-INF/manifest.xml")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>`)
	w, _ = z.Create("content.xml")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Inventory">`)
	for _, r := range rows {
		io.WriteString(w, "<table:table-row>")
		for _, c := range r {
			io.WriteString(w, `<table:table-cell office:value-type="string">`)
			for _, line := range strings.Split(c, "\n") { // a line break in a cell is a new paragraph
				io.WriteString(w, "<text:p>")
				xml.EscapeText(w, []byte(line))
				io.WriteString(w, "</text:p>")
			}
			io.WriteString(w, "</table:table-cell>")
		}
		io.WriteString(w, "</table:table-row>")
	}
	io.WriteString(w, `</table:table></office:spreadsheet></office:body></office:document-content>`)
	return z.Close()
}

// Cell is what a spreadsheet cell became.
type Cell struct {
	Text    string // what it shows, paragraphs joined by "\n"
	Formula string // the formula when Calc took the cell for one, else ""
}

// Cells reads the first sheet of an .ods: its rows of cells.
func Cells(path string) ([][]Cell, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	var content io.ReadCloser
	for _, f := range z.File {
		if f.Name == "content.xml" {
			content, err = f.Open()
			if err != nil {
				return nil, err
			}
		}
	}
	if content == nil {
		return nil, fmt.Errorf("%s has no content.xml", path)
	}
	defer content.Close()
	var doc struct {
		Tables []struct {
			Rows []struct {
				Cells []struct {
					Formula string   `xml:"formula,attr"`
					Repeat  int      `xml:"number-columns-repeated,attr"`
					Paras   []string `xml:"p"`
				} `xml:"table-cell"`
			} `xml:"table-row"`
		} `xml:"body>spreadsheet>table"`
	}
	if err := xml.NewDecoder(content).Decode(&doc); err != nil {
		return nil, err
	}
	if len(doc.Tables) == 0 {
		return nil, fmt.Errorf("%s has no sheet", path)
	}
	var rows [][]Cell
	for _, r := range doc.Tables[0].Rows {
		var cells []Cell
		for _, c := range r.Cells {
			cell := Cell{Text: strings.Join(c.Paras, "\n"), Formula: c.Formula}
			n := max(c.Repeat, 1)
			if cell == (Cell{}) {
				n = min(n, 1) // trailing empty cells repeated to the sheet's edge
			}
			for range n {
				cells = append(cells, cell)
			}
		}
		for len(cells) > 0 && cells[len(cells)-1] == (Cell{}) {
			cells = cells[:len(cells)-1]
		}
		rows = append(rows, cells)
	}
	return rows, nil
}
