// Package sheetcsv reads and writes CSV files the way spreadsheets save and
// open them, because a spreadsheet is where field engineers edit an
// inventory and read a report.
//
// Reading takes what Excel and LibreOffice Calc write in any locale: UTF-8
// with or without a byte-order mark (and UTF-16 with one, Excel's "Unicode
// Text"), CRLF or LF line ends, a comma, semicolon or tab separator
// (detected from the header line), and quoted fields holding separators,
// quotes and line breaks. Text in another encoding (Excel's plain "CSV" in
// a Windows code page) is refused with the line and how to save it again,
// never guessed.
//
// Writing gives what both open correctly with a double click: UTF-8 with a
// byte-order mark, CRLF line ends, the separator of the inventory the file
// came from, and every cell that a spreadsheet would take for a formula
// neutralised (OWASP, "CSV Injection"): a cell beginning with = + - @, a
// tab or a carriage return gets a leading apostrophe, which spreadsheets
// read as "this is text". The reader removes exactly that apostrophe again,
// so a file Tapline wrote reads back as the values that went in.
package sheetcsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
)

// Dialect is how a file separates its fields.
type Dialect struct {
	// Comma is the field separator: ',', ';' or '\t'.
	Comma rune
	// BOM reports whether the file began with a byte-order mark.
	BOM bool
}

// Comma is the dialect of a file that says nothing else.
var Comma = Dialect{Comma: ','}

// MaxSize bounds what the reader takes in: an inventory of ten thousand
// sensors is about 3 MiB.
const MaxSize = 64 << 20

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// EncodingError says the file is not UTF-8 text, where, and how to save it
// so it is.
type EncodingError struct {
	Line int
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("line %d is not UTF-8 text: save the file again as \"CSV UTF-8\" (Excel) or with the character set \"Unicode (UTF-8)\" (LibreOffice)", e.Line)
}

// Reader reads records, with the neutralising apostrophe removed.
// FieldPos and the other csv.Reader methods report positions in the file.
type Reader struct {
	*csv.Reader
	Dialect Dialect
}

// NewReader reads all of r (at most MaxSize bytes), decodes it to UTF-8,
// detects the separator from the first line and returns a reader for its
// records. Comment lines start with '#'.
func NewReader(r io.Reader) (*Reader, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d MiB: this is not an inventory", MaxSize>>20)
	}
	var d Dialect
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		d.BOM, data = true, data[len(bomUTF8):]
	case bytes.HasPrefix(data, bomUTF16LE), bytes.HasPrefix(data, bomUTF16BE):
		d.BOM = true
		if data, err = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data); err != nil {
			return nil, fmt.Errorf("UTF-16 text: %v", err)
		}
	}
	if !utf8.Valid(data) {
		return nil, &EncodingError{Line: invalidLine(data)}
	}
	d.Comma = detectComma(data)
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = d.Comma
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	return &Reader{Reader: cr, Dialect: d}, nil
}

// Read returns the next record, each field as it was before a writer
// neutralised it.
func (r *Reader) Read() ([]string, error) {
	rec, err := r.Reader.Read()
	for i := range rec {
		rec[i] = Unescape(rec[i])
	}
	return rec, err
}

// invalidLine is the line of the first byte that is not UTF-8.
func invalidLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		c, size := utf8.DecodeRune(data)
		if c == utf8.RuneError && size <= 1 {
			return line
		}
		if c == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

// detectComma picks the separator of the header line (the first line that
// is neither blank nor a '#' comment): whichever of comma, semicolon and
// tab it holds most often outside quotes, a comma when it holds none.
func detectComma(data []byte) rune {
	var header string
	for line := range strings.Lines(string(data)) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			header = line
			break
		}
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range header {
		if c == '"' {
			quoted = !quoted
		} else if !quoted {
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// Writer writes records for a spreadsheet: UTF-8 with a byte-order mark,
// CRLF line ends, the dialect's separator, formula cells neutralised.
type Writer struct {
	out   *bufio.Writer
	comma rune
	start bool
	err   error
}

// NewWriter writes to w with the separator of d (a comma when d has none).
func NewWriter(w io.Writer, d Dialect) *Writer {
	comma := d.Comma
	if comma == 0 {
		comma = ','
	}
	return &Writer{out: bufio.NewWriter(w), comma: comma, start: true}
}

// begin writes the byte-order mark before the first line.
func (w *Writer) begin() error {
	if w.err == nil && w.start {
		w.start = false
		_, w.err = w.out.Write(bomUTF8)
	}
	return w.err
}

// Comment writes a comment line, "# " and text (one line), which readers
// of this package skip. A spreadsheet shows it as a cell of text.
func (w *Writer) Comment(text string) error {
	if err := w.begin(); err != nil {
		return err
	}
	if strings.ContainsAny(text, "\r\n") {
		w.err = errors.New("sheetcsv: a comment is one line")
		return w.err
	}
	_, w.err = w.out.WriteString("# " + text + "\r\n")
	return w.err
}

// Write writes one record (RFC 4180 quoting, CRLF).
func (w *Writer) Write(rec []string) error {
	if err := w.begin(); err != nil {
		return err
	}
	for i, f := range rec {
		if i > 0 {
			w.out.WriteRune(w.comma)
		}
		f = Escape(f)
		// Quoted: a separator, quote or line break inside; a leading or
		// trailing space (readers may trim it); "#" first on a line (a
		// comment otherwise); the only field of a record and empty (an
		// empty line otherwise, which readers skip).
		if strings.ContainsRune(f, w.comma) || strings.ContainsAny(f, "\"\r\n") || strings.TrimSpace(f) != f ||
			i == 0 && strings.HasPrefix(f, "#") || len(rec) == 1 && f == "" {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		w.out.WriteString(f)
	}
	_, w.err = w.out.WriteString("\r\n")
	return w.err
}

// Flush writes what is buffered and reports the first error of any
// Write, Comment or Flush.
func (w *Writer) Flush() error {
	if err := w.out.Flush(); w.err == nil {
		w.err = err
	}
	return w.err
}

// Error is the first error the writer met.
func (w *Writer) Error() error { return w.err }

// formulaStart reports whether a spreadsheet takes a cell beginning with c
// for a formula (OWASP's list).
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// needsQuote reports whether v, after any apostrophes it starts with,
// begins like a formula: such a value gets one more apostrophe on the way
// out and loses one on the way in, so every value round-trips.
func needsQuote(v string) bool {
	v = strings.TrimLeft(v, "'")
	return v != "" && formulaStart(v[0])
}

// Escape neutralises a cell a spreadsheet would evaluate: a leading
// apostrophe makes it text.
func Escape(v string) string {
	if needsQuote(v) {
		return "'" + v
	}
	return v
}

// Unescape undoes Escape.
func Unescape(v string) string {
	if strings.HasPrefix(v, "'") && needsQuote(v) {
		return v[1:]
	}
	return v
}
