package certs

import (
	"encoding/asn1"
	"testing"
	"unicode/utf16"
)

// rawName encodes RDNs whose values are given with their string type, so a
// test can write the same name as PrintableString, UTF8String or BMPString.
type rawAttr struct {
	oid   asn1.ObjectIdentifier
	tag   int
	value string
}

func rawName(t *testing.T, rdns ...[]rawAttr) []byte {
	t.Helper()
	var seq []asn1.RawValue
	for _, rdn := range rdns {
		var set []asn1.RawValue
		for _, a := range rdn {
			v := []byte(a.value)
			if a.tag == 30 { // BMPString: UTF-16 big endian
				v = nil
				for _, u := range utf16.Encode([]rune(a.value)) {
					v = append(v, byte(u>>8), byte(u))
				}
			}
			oid, err := asn1.Marshal(a.oid)
			if err != nil {
				t.Fatal(err)
			}
			val, err := asn1.Marshal(asn1.RawValue{Tag: a.tag, Bytes: v})
			if err != nil {
				t.Fatal(err)
			}
			atv, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(oid, val...)})
			if err != nil {
				t.Fatal(err)
			}
			set = append(set, asn1.RawValue{FullBytes: atv})
		}
		var body []byte
		for _, s := range set {
			body = append(body, s.FullBytes...)
		}
		b, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: body})
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, asn1.RawValue{FullBytes: b})
	}
	var body []byte
	for _, s := range seq {
		body = append(body, s.FullBytes...)
	}
	out, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	oidC  = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
)

const (
	printable = 19
	utf8s     = 12
	bmp       = 30
)

// TestNameEqual: distinguished names match per RFC 5280 §7.1 with RFC 4518
// string preparation (the cases of NIST PKITS §4.3), and only then.
func TestNameEqual(t *testing.T) {
	a := func(oid asn1.ObjectIdentifier, tag int, v string) []rawAttr { return []rawAttr{{oid, tag, v}} }
	base := rawName(t, a(oidC, printable, "US"), a(oidO, printable, "Test Certificates 2011"), a(oidCN, printable, "Plant Root CA"))
	cases := []struct {
		name  string
		other []byte
		want  bool
	}{
		{"same bytes", base, true},
		{"UTF8String for PrintableString", rawName(t, a(oidC, printable, "US"), a(oidO, utf8s, "Test Certificates 2011"), a(oidCN, utf8s, "Plant Root CA")), true},
		{"BMPString", rawName(t, a(oidC, printable, "US"), a(oidO, bmp, "Test Certificates 2011"), a(oidCN, bmp, "Plant Root CA")), true},
		{"case", rawName(t, a(oidC, printable, "us"), a(oidO, printable, "TEST certificates 2011"), a(oidCN, utf8s, "plant ROOT ca")), true},
		{"insignificant spaces", rawName(t, a(oidC, printable, "US"), a(oidO, printable, "  Test   Certificates 2011 "), a(oidCN, printable, "Plant Root CA")), true},
		{"another CN", rawName(t, a(oidC, printable, "US"), a(oidO, printable, "Test Certificates 2011"), a(oidCN, printable, "Plant Root CA2")), false},
		{"RDNs in another order", rawName(t, a(oidO, printable, "Test Certificates 2011"), a(oidC, printable, "US"), a(oidCN, printable, "Plant Root CA")), false},
		{"another attribute type", rawName(t, a(oidC, printable, "US"), a(oidOU, printable, "Test Certificates 2011"), a(oidCN, printable, "Plant Root CA")), false},
		{"one RDN fewer", rawName(t, a(oidO, printable, "Test Certificates 2011"), a(oidCN, printable, "Plant Root CA")), false},
		{"space inside a word", rawName(t, a(oidC, printable, "US"), a(oidO, printable, "Test Certifi cates 2011"), a(oidCN, printable, "Plant Root CA")), false},
		{"not DER", []byte{0x30, 0x03, 0x31, 0x01}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := nameEqual(base, c.other); got != c.want {
				t.Errorf("nameEqual = %v, want %v", got, c.want)
			}
			if got := nameEqual(c.other, base); got != c.want {
				t.Errorf("nameEqual (swapped) = %v, want %v", got, c.want)
			}
		})
	}
	multi := rawName(t, []rawAttr{{oidO, printable, "Plant"}, {oidOU, printable, "OT"}})
	if !nameEqual(multi, rawName(t, []rawAttr{{oidOU, utf8s, "ot"}, {oidO, utf8s, "PLANT"}})) {
		t.Error("a multi-valued RDN is a set: order and case of its values do not matter")
	}
	if nameEqual(multi, rawName(t, []rawAttr{{oidO, printable, "Plant"}, {oidO, printable, "Plant"}})) {
		t.Error("a value matched twice")
	}
	fold := rawName(t, a(oidCN, utf8s, "Straße"))
	if !nameEqual(fold, rawName(t, a(oidCN, utf8s, "STRASSE"))) {
		t.Error("case folding is Unicode's, not ASCII's")
	}
}

// TestAppendRDN builds the full name of a nameRelativeToCRLIssuer.
func TestAppendRDN(t *testing.T) {
	base := rawName(t, []rawAttr{{oidC, printable, "US"}}, []rawAttr{{oidO, printable, "Plant"}})
	want := rawName(t, []rawAttr{{oidC, printable, "US"}}, []rawAttr{{oidO, printable, "Plant"}}, []rawAttr{{oidCN, printable, "CRL1"}})
	one := rawName(t, []rawAttr{{oidCN, printable, "CRL1"}})
	set := one[4:] // the contents of one's single RDN SET (short lengths)
	got, ok := appendRDN(base, set)
	if !ok || !nameEqual(got, want) || string(got) != string(want) {
		t.Errorf("appendRDN = %x, want %x", got, want)
	}
}
