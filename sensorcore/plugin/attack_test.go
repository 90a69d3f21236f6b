package plugin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// Attacks on the interpreter and the parser: a hostile PDU against a
// plugin that reads what it says (every bound reached), and a hostile
// plugin file against the parser. A PDU either decodes, is malformed, or
// is malformed by the plugin (counted as both); a file either loads or is
// refused at its line. Nothing panics, nothing runs unbounded.

// attackHead is a plugin's header: TCP port 7701, PDUs framed by a
// 2-byte length at offset 2 (the whole PDU), starting with "AT".
const attackHead = `format: tapline-plugin/1
protocol: attack
title: Attack
version: 1.0.0
byte_order: big
transport: {tcp: [7701]}
signature: [{at: 0, is: "AT"}]
framing: {length: {at: 2, size: 2}, min: 5, max: 65535}
operation: {function: kind}
`

// attackFields are the fields every attack plugin starts with.
const attackFields = `fields:
  - {id: magic, type: str, size: 2}
  - {id: length, type: u2}
  - {id: kind, type: u1}
`

func mustParse(t testing.TB, src string) *Plugin {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return p
}

// pdu is an attack PDU: "AT", its length, kind, then body.
func pdu(kind byte, body ...byte) []byte {
	b := []byte{'A', 'T', 0, 0, kind}
	b = append(b, body...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// decodeOnce decodes b with p registered in a registry of its own and
// returns the error and the steps the interpreter took.
func decodeOnce(t testing.TB, p *Plugin, b []byte) (error, int, *dissect.Result) {
	t.Helper()
	id, err := p.Register(dissect.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := &dissect.Result{}
	err = p.Decode(id, b, decode.DirToServer, r)
	return err, p.state(r).steps, r
}

// needleAlert is a rule whose condition costs in proportion to the text:
// over its cost on a long text, within it on a short one.
const needleAlert = `alerts:
  - id: attack-text
    when: text.contains("needle") && text.endsWith("zz")
    cost: 200
    title: {en: Needle, de: Nadel}
    message: {en: "needle", de: "Nadel"}
`

// TestAttackPDUBounds: each bound a PDU can push the interpreter to is
// reached, and the PDU is malformed by the plugin (dissect.ErrPluginLimit)
// or malformed (its own fault: a length past its end), after a bounded
// number of steps.
func TestAttackPDUBounds(t *testing.T) {
	long := bytes.Repeat([]byte("z"), 60000)
	cases := []struct {
		name   string
		fields string
		alerts string
		pdu    []byte
		limit  bool // ErrPluginLimit, else another malformed error; nil: decodes
		ok     bool
	}{
		{name: "step limit: nested fixed repeats of empty reads", fields: `
  - repeat: 64
    max: 64
    fields:
      - repeat: 64
        max: 64
        fields:
          - repeat: 64
            max: 64
            fields: [{type: skip, size: 0}]
`, pdu: pdu(1), limit: true},
		{name: "step limit: 4096 items of 3 reads", fields: `
  - {id: count, type: u2}
  - repeat: count
    max: 4096
    fields: [{id: a, type: u1}, {id: b, type: u1}, {id: c, type: u1}]
`, pdu: pdu(1, append([]byte{0x10, 0}, make([]byte, 3*4096)...)...), limit: true},
		{name: "repeat cap: count over max", fields: `
  - {id: count, type: u2}
  - repeat: count
    max: 10
    fields: [{id: item, type: u1}]
`, pdu: pdu(1, append([]byte{0, 11}, make([]byte, 11)...)...), limit: true},
		{name: "repeat cap: count at max decodes", fields: `
  - {id: count, type: u2}
  - repeat: count
    max: 10
    fields: [{id: item, type: u1}]
`, pdu: pdu(1, append([]byte{0, 10}, make([]byte, 10)...)...), ok: true},
		{name: "repeat cap: repeat rest over max", fields: `
  - repeat: rest
    max: 4
    fields: [{id: item, type: u1}]
`, pdu: pdu(1, 1, 2, 3, 4, 5), limit: true},
		{name: "repeat rest: an item that reads nothing", fields: `
  - repeat: rest
    max: 4096
    fields: [{type: skip, size: 0}]
`, pdu: pdu(1, 1, 2, 3), limit: true},
		{name: "repeat rest: items of bits make progress", fields: `
  - repeat: rest
    max: 16
    fields: [{id: flag, type: b4}]
`, pdu: pdu(1, 0x12, 0x34), ok: true},
		{name: "CEL cost: a long text over the condition's cost", fields: `
  - {id: text, type: str, size: rest}
`, alerts: needleAlert, pdu: pdu(1, long...), limit: true},
		{name: "CEL cost: the same condition on a short text fires", fields: `
  - {id: text, type: str, size: rest}
`, alerts: needleAlert, pdu: pdu(1, []byte("a needle zz")...), ok: true},
		{name: "length field past the PDU", fields: `
  - {id: n, type: u2}
  - {id: data, type: bytes, size: n}
`, pdu: pdu(1, 0x03, 0xe8, 1, 2, 3)},
		{name: "length prefix past the PDU (4 GiB)", fields: `
  - {id: data, type: bytes, prefix: u4}
`, pdu: pdu(1, 0xff, 0xff, 0xff, 0xff, 1, 2)},
		{name: "negative size from a signed field", fields: `
  - {id: n, type: s4}
  - {id: data, type: bytes, size: n}
  - {type: end}
`, pdu: pdu(1, 0x80, 0, 0, 0, 1), limit: false},
		{name: "negative repeat count", fields: `
  - {id: n, type: s2}
  - repeat: n
    max: 10
    fields: [{id: item, type: u1}]
`, pdu: pdu(1, 0xff, 0xff)},
		{name: "group window past the PDU", fields: `
  - {id: n, type: u2}
  - size: n
    fields: [{id: item, type: u1}]
`, pdu: pdu(1, 0x7f, 0xff, 1)},
		{name: "huge count from a u8 field", fields: `
  - {id: n, type: u8}
  - repeat: n
    max: 4096
    fields: [{id: item, type: u1}]
`, pdu: pdu(1, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), limit: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, attackHead+attackFields+strings.TrimPrefix(c.fields, "\n")+c.alerts)
			err, steps, r := decodeOnce(t, p, c.pdu)
			if steps > MaxSteps+1 {
				t.Errorf("%d steps, over the bound %d", steps, MaxSteps)
			}
			switch {
			case c.ok:
				if err != nil {
					t.Fatalf("want a clean decode, got %v", err)
				}
				if c.alerts != "" && r.Detail == nil {
					t.Errorf("the alert did not fire")
				}
			case c.limit:
				if err != dissect.ErrPluginLimit {
					t.Fatalf("want ErrPluginLimit, got %v", err)
				}
			default:
				if err == nil || err == dissect.ErrPluginLimit || !errors.Is(err, dissect.ErrMalformed) {
					t.Fatalf("want a malformed PDU (not a plugin bound), got %v", err)
				}
			}
			if r.Detail != nil && !c.ok {
				t.Errorf("an alert fired on a PDU that failed: %+v", r.Detail)
			}
		})
	}
}

// TestAttackFileBounds: hostile plugin files are refused at their line,
// promptly; none makes the parser run away.
func TestAttackFileBounds(t *testing.T) {
	typeBomb := func(levels, width int, leaves bool) string {
		var b strings.Builder
		b.WriteString(attackHead + attackFields + "  - t0\ntypes:\n")
		for l := 0; l < levels; l++ {
			fmt.Fprintf(&b, "  t%d:\n", l)
			for w := 0; w < width; w++ {
				if l == levels-1 && leaves {
					fmt.Fprintf(&b, "    - {id: f, type: u1}\n")
				} else if l == levels-1 {
					fmt.Fprintf(&b, "    - {fields: []}\n")
				} else {
					fmt.Fprintf(&b, "    - t%d\n", l+1)
				}
			}
		}
		return b.String()
	}
	nested := func(depth int) string {
		var b strings.Builder
		b.WriteString(attackHead + attackFields)
		indent := "  "
		for i := 0; i < depth; i++ {
			fmt.Fprintf(&b, "%s- fields:\n", indent)
			indent += "    "
		}
		fmt.Fprintf(&b, "%s- {id: deep, type: u1}\n", indent)
		return b.String()
	}
	manyNames := func(n int) string {
		var b strings.Builder
		b.WriteString(attackHead + attackFields)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  - {id: f%d, type: u1, optional: true}\n", i)
		}
		return b.String()
	}
	cases := []struct {
		name, src, want string
	}{
		{"a type bomb: 15 levels of 16 uses", typeBomb(15, 16, true), "with the types expanded"},
		{"a type bomb: 64 wide", typeBomb(6, 64, true), "with the types expanded"},
		{"a type bomb of empty types", typeBomb(14, 16, false), "with the types expanded"},
		{"a type that contains itself", attackHead + attackFields + "  - loop\ntypes:\n  loop:\n    - {id: x, type: u1}\n    - loop\n", "contains itself"},
		{"nesting deeper than the bound", nested(MaxDepth + 1), "nested deeper"},
		{"YAML nesting deeper than the bound", attackHead + attackFields + "  - " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", ""},
		{"an alias bomb", attackHead + "x: &a [1, 1, 1, 1, 1, 1, 1, 1]\ny: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nz: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n" + attackFields, "anchors and aliases"},
		{"a merge key", attackHead + attackFields + "  - {<<: {id: m, type: u1}}\n", "merge keys"},
		{"a file over the size bound", attackHead + attackFields + "  - {id: pad, type: u1}\n#" + strings.Repeat("x", MaxFileSize) + "\n", "over the"},
		{"more field names than the bound", manyNames(MaxFields + 1), "field names, over"},
		{"a repeat without max", attackHead + attackFields + "  - repeat: rest\n    fields: [{id: i, type: u1}]\n", "needs max"},
		{"a repeat max over the bound", attackHead + attackFields + "  - repeat: rest\n    max: 100000\n    fields: [{id: i, type: u1}]\n", "max"},
		{"a size from a field read later", attackHead + attackFields + "  - {id: data, type: bytes, size: later}\n  - {id: later, type: u1}\n", "read after"},
		{"a condition over the expression bound", attackHead + attackFields + "alerts:\n  - {id: long, when: \"" + strings.Repeat("kind == 1 || ", 200) + "true\", title: {en: a, de: b}, message: {en: a, de: b}}\n", "bytes, over"},
		{"a cost over the bound", attackHead + attackFields + "alerts:\n  - {id: dear, when: \"kind == 1\", cost: 1000000, title: {en: a, de: b}, message: {en: a, de: b}}\n", "cost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Parse([]byte(c.src))
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the parser did not return within 30 s")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("want the file refused, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("refusal %q does not say %q", err, c.want)
			}
			if len(c.src) <= MaxFileSize && pe.Errors()[0].Line == 0 {
				t.Errorf("refusal %q names no line", err)
			}
		})
	}
}

// TestAttackPipelineCounts: hostile PDUs on a plugin's port through the
// whole monitor: each is counted as malformed (and by the plugin when a
// bound was reached), the stream goes on, and the good PDU after them is
// decoded.
func TestAttackPipelineCounts(t *testing.T) {
	src := attackHead + attackFields + `  - {id: count, type: u2}
  - repeat: count
    max: 10
    fields: [{id: item, type: u1}]
`
	m, closeAll := monitorWith(t, mustParse(t, src))
	defer closeAll()
	good := pdu(7, 0, 2, 1, 2)
	overCap := pdu(7, 0, 11)                                    // a count over its cap: malformed by the plugin
	short := pdu(7, 0, 5, 1)                                    // a count past the PDU's end: malformed
	badFrame := []byte{'A', 'T', 0, 2, 0}                       // a length below the framing's min: resynchronised
	seq := [][]byte{good, overCap, good, short, badFrame, good} // one segment each, in order
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	packet := func(seqNo uint32, flags byte, payload []byte) {
		at = at.Add(time.Millisecond)
		m.Packet(pcaptest.TCPFrame(1, 2, 40001, 7701, seqNo, flags, payload), capture.Info{UnixNano: at.UnixNano(), LinkType: capture.LinkEthernet})
	}
	seqNo := uint32(1000)
	packet(seqNo-1, 0x02, nil)
	for _, b := range seq {
		packet(seqNo, 0x18, b)
		seqNo += uint32(len(b))
	}
	c := m.Report().Protocols["attack"]
	if c.PDUs != 6 || c.Malformed != 3 || c.MalformedByPlugin != 1 {
		t.Fatalf("counts %+v: want 6 PDUs, 3 malformed, 1 by the plugin", c)
	}
	if c.Functions["7"] != 5 {
		t.Errorf("functions %v: want kind 7 counted on every decoded header", c.Functions)
	}
}
