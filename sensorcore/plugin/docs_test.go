package plugin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/plugin/plugintest"
)

// TestDocsWorkedExample: the worked example in docs/plugins.md is a
// plugin that loads without a warning and decodes as the text says.
func TestDocsWorkedExample(t *testing.T) {
	p, err := Parse(plugintest.WorkedExample(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) > 0 {
		t.Fatalf("warnings: %v", p.Warnings)
	}
	reg := dissect.NewRegistry()
	id, err := p.Register(reg)
	if err != nil {
		t.Fatal(err)
	}
	var r dissect.Result
	// stop_furnace, sequence 7
	stop := []byte{'K', 'N', 1, 4, 0, 8, 0, 7}
	if err := p.Decode(id, stop, decode.DirToServer, &r); err != nil {
		t.Fatal(err)
	}
	if r.Function != 4 || r.Txn != 7 || !r.Request || r.Action == dissect.ActNone || !strings.Contains(r.Detail.Message["de"], "Folgenummer 7") {
		t.Fatalf("%+v %+v", r, r.Detail)
	}
	// set_point zone 2 to 1250.0 °C
	set := []byte{'K', 'N', 1, 2, 0, 11, 0, 8, 2, 0x30, 0xd4}
	if err := p.Decode(id, set, decode.DirToServer, &r); err != nil || !strings.Contains(r.Detail.Message["en"], "Zone 2 set to 12500") || string(r.Fields) != `"zone":2,"set_point":12500` {
		t.Fatalf("%v %+v %s", err, r.Detail, r.Fields)
	}
	// identify answer: vendor, model, firmware
	ident := []byte{'K', 'N', 1, 5, 0, 0, 0, 9, 4, 'A', 'c', 'm', 'e', 2, 'K', '9', 3, '2', '.', '1'}
	ident[5] = byte(len(ident))
	if err := p.Decode(id, ident, decode.DirToClient, &r); err != nil || !r.HasIdent || r.Ident.Vendor != "Acme" || r.Ident.Model != "K9" || r.Ident.Firmware != "2.1" {
		t.Fatalf("%v %+v", err, r.Ident)
	}
	// an unknown message type is malformed
	bad := []byte{'K', 'N', 1, 9, 0, 8, 0, 1}
	if err := p.Decode(id, bad, decode.DirToServer, &r); err == nil {
		t.Fatal("type 9 decoded")
	}
	if n := p.frameLen(append(stop, 'K')); n != 8 {
		t.Fatalf("framing %d", n)
	}
}

// TestResetAfterPluginPDU: a PDU decoded after a plugin's (by the plugin
// or a built-in dissector, into the same Result) carries none of the
// plugin PDU's fields, counted values or alert text.
func TestResetAfterPluginPDU(t *testing.T) {
	// the worked example, and the same without counted fields (so that
	// a PDU's fields are all it writes of the three)
	example := plugintest.WorkedExample(t)
	uncounted := bytes.Replace(example, []byte("\ncounts: [msg_type]"), []byte("\n"), 1)
	modbus := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}
	for _, file := range [][]byte{example, uncounted} {
		p, err := Parse(file)
		if err != nil {
			t.Fatal(err)
		}
		id, err := p.Register(dissect.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range [][]byte{
			{'K', 'N', 1, 2, 0, 11, 0, 8, 2, 0x30, 0xd4}, // raises the set-point alert
			{'K', 'N', 1, 2, 0, 11, 0, 8, 1, 0x00, 0x01}, // does not
		} {
			for _, next := range []func(r *dissect.Result){
				func(r *dissect.Result) { dissect.DecodeModbus(modbus, decode.DirToServer, r) },
				func(r *dissect.Result) { r.Reset(dissect.Modbus) },
				func(r *dissect.Result) { p.Decode(id, []byte{'K', 'N', 1, 9, 0, 8, 0, 1}, decode.DirToServer, r) },
			} {
				var r dissect.Result
				if err := p.Decode(id, set, decode.DirToServer, &r); err != nil || len(r.Fields) == 0 {
					t.Fatalf("set_point: %v, fields %q", err, r.Fields)
				}
				next(&r)
				if len(r.Fields) != 0 || len(r.Tallies) != 0 || r.Detail != nil {
					t.Fatalf("the next PDU kept the plugin's fields %q, tallies %v, detail %+v", r.Fields, r.Tallies, r.Detail)
				}
			}
		}
	}
}
