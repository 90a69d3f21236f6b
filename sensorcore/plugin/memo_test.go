package plugin

import (
	"strings"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// TestAlertMemoNeverStale: a condition is evaluated again whenever a
// field it reads (or the direction) differs from its last evaluation, so
// alternating PDUs alternate the outcome; texts longer than the memo's
// bound are evaluated every time.
func TestAlertMemoNeverStale(t *testing.T) {
	const src = `format: tapline-plugin/1
protocol: memotest
title: Memo test
version: 1.0.0
byte_order: big
transport: {udp: [7701]}
fields:
  - {id: kind, type: u1}
  - {id: name, type: str, prefix: u2}
operation: {function: kind}
alerts:
  - {id: memo-stop, when: "kind == 4 && request && name.startsWith('pump')", title: {en: Stop}, message: {en: "stop {name}"}}
`
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Register(dissect.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pdu := func(kind byte, name string) []byte {
		return append([]byte{kind, byte(len(name) >> 8), byte(len(name))}, name...)
	}
	long := "pump" + strings.Repeat("a", 600)
	cases := []struct {
		b     []byte
		dir   decode.Direction
		alert bool
	}{
		{pdu(4, "pump1"), decode.DirToServer, true},
		{pdu(4, "pump1"), decode.DirToServer, true},
		{pdu(3, "pump1"), decode.DirToServer, false},
		{pdu(4, "pump1"), decode.DirToServer, true},
		{pdu(4, "pump1"), decode.DirToClient, false},
		{pdu(4, "valve"), decode.DirToServer, false},
		{pdu(4, "pump2"), decode.DirToServer, true},
		{pdu(4, long), decode.DirToServer, true},
		{pdu(4, "x"+long), decode.DirToServer, false},
		{pdu(4, long), decode.DirToServer, true},
		{pdu(4, ""), decode.DirToServer, false},
		{pdu(4, "pump1"), decode.DirToServer, true},
	}
	var r dissect.Result
	for i, c := range cases {
		if err := p.Decode(id, c.b, c.dir, &r); err != nil {
			t.Fatalf("PDU %d: %v", i, err)
		}
		if got := r.Action != dissect.ActNone; got != c.alert {
			t.Fatalf("PDU %d (kind %d, %d-byte name, dir %v): alert %v, want %v", i, c.b[0], len(c.b)-3, c.dir, got, c.alert)
		}
		if c.alert && r.Detail.Message["en"] != "stop "+sanitize(string(c.b[3:])) {
			t.Fatalf("PDU %d: message %q", i, r.Detail.Message["en"])
		}
	}
}
