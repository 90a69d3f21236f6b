package inventory

import (
	"os"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

func TestParseManuf(t *testing.T) {
	text := "# comment\n00:00:0C\tCisco\tCisco Systems, Inc\n00:1B:1B\tSiemens\tSiemens AG,\n" +
		"00:1B:C5:00:00:00/36\tConverging\tConverging Systems Inc.\n70:B3:D5:20:00:00/28\tShort\n" +
		"garbage line\n00:1B:C5\tIEEERegi\tIEEE Registration Authority\n"
	o, err := ParseManuf(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[[6]byte]string{
		{0x00, 0x00, 0x0c, 1, 2, 3}:          "Cisco Systems, Inc",
		{0x00, 0x1b, 0x1b, 0x1a, 0xd6, 0xe0}: "Siemens AG",
		{0x00, 0x1b, 0xc5, 0x00, 0x00, 0x01}: "Converging Systems Inc.",
		{0x00, 0x1b, 0xc5, 0x00, 0x10, 0x01}: "IEEE Registration Authority",
		{0x70, 0xb3, 0xd5, 0x20, 0x01, 0x02}: "Short",
		{0x02, 0x00, 0x0c, 1, 2, 3}:          "", // locally administered
		{0xde, 0xad, 0xbe, 0, 0, 0}:          "",
	}
	for mac, want := range cases {
		if got := o.Lookup(mac); got != want {
			t.Errorf("%x: %q, want %q", mac, got, want)
		}
	}
	if _, err := ParseManuf(strings.NewReader("# nothing\n")); err == nil {
		t.Error("empty manuf accepted")
	}
}

// TestDebianManuf reads the real registry copy that tshark pulls in.
func TestDebianManuf(t *testing.T) {
	if _, err := os.Stat(DefaultManuf); err != nil {
		needs.Missing(t, "needs %s (Debian package libwireshark-data, pulled in by tshark)", DefaultManuf)
	}
	o, err := ReadManuf(DefaultManuf)
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() < 30000 {
		t.Fatalf("only %d prefixes", o.Len())
	}
	if v := o.Lookup([6]byte{0x00, 0x1b, 0x1b, 1, 2, 3}); !strings.Contains(v, "Siemens") {
		t.Fatalf("00:1b:1b is %q, want Siemens", v)
	}
	lazy, _ := ReadManuf(DefaultManuf)
	macs := [][6]byte{{0x00, 0x1b, 0x1b, 1, 2, 3}, {0x00, 0x0e, 0x8c, 9, 9, 9}, {0xde, 0xad, 0xbe, 0, 0, 0}}
	lazy.Resolve(macs)
	for _, m := range macs {
		if got, want := lazy.Lookup(m), o.Lookup(m); got != want {
			t.Fatalf("%x: resolved %q, indexed %q", m, got, want)
		}
	}
	if lazy.full {
		t.Fatal("Resolve built the full index")
	}
	if _, err := ReadManuf("/nonexistent/manuf"); err == nil || !strings.Contains(err.Error(), "libwireshark-data") {
		t.Fatalf("missing file error %v", err)
	}
}

func FuzzParseManuf(f *testing.F) {
	f.Add("00:00:0C\tCisco\tCisco Systems, Inc\n00:1B:C5:00:00:00/36\tX\tY\n")
	f.Add("70:B3:D5:20:00:00/28\tShort\n# c\n")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseManuf(strings.NewReader(s))
		if err == nil {
			o.Lookup([6]byte{0, 0, 0x0c, 1, 2, 3})
		}
	})
}

func BenchmarkReadManuf(b *testing.B) {
	if _, err := os.Stat(DefaultManuf); err != nil {
		needs.Missing(b, "needs %s (Debian package libwireshark-data, pulled in by tshark)", DefaultManuf)
	}
	b.ReportAllocs()
	for b.Loop() {
		o, err := ReadManuf(DefaultManuf)
		if err != nil {
			b.Fatal(err)
		}
		o.Resolve([][6]byte{{0x00, 0x1b, 0x1b, 1, 2, 3}, {0x00, 0x0e, 0x8c, 9, 9, 9}})
	}
}

// TestResolveFilter: Resolve's line filter keeps the wanted entries in
// any hex case and separator, with MA-M/MA-S prefixes, after lines
// shorter than the eight bytes it tests (whose word runs into the entry
// that follows) and on a last line without a newline, and the answers are
// those of the full index.
func TestResolveFilter(t *testing.T) {
	text := "00:00:0c\tCisco\tCisco Systems, Inc\n12:45:\n00-1B-1B\tSiemens\tSiemens AG\n" +
		"00:1B:C5:00:00:00/36\tConverging\tConverging Systems Inc.\nab:cd:e\n00:1b:c5\tIEEERegi\tIEEE Registration Authority\n" +
		"12:45:\nAC:64:17\tSiemens\tSiemens AG"
	macs := [][6]byte{{0, 0, 0x0c, 1, 2, 3}, {0, 0x1b, 0x1b, 4, 5, 6}, {0, 0x1b, 0xc5, 0, 0, 1}, {0, 0x1b, 0xc5, 0, 0x10, 1}, {0xac, 0x64, 0x17, 1, 1, 1}, {0xde, 0xad, 0xbe, 0, 0, 0}}
	full, _ := ParseManuf(strings.NewReader(text))
	lazy, _ := ParseManuf(strings.NewReader(text))
	lazy.Resolve(macs)
	for _, mac := range macs {
		if got, want := lazy.Lookup(mac), full.Lookup(mac); got != want {
			t.Errorf("%x: %q after Resolve, %q from the full index", mac, got, want)
		}
	}
	if lazy.full {
		t.Fatal("Resolve built the full index")
	}
	if full.Lookup(macs[4]) != "Siemens AG" || full.Lookup(macs[2]) != "Converging Systems Inc." {
		t.Fatal("full index")
	}
}
