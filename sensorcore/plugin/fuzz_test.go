package plugin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// FuzzInterpreter feeds the parser random plugins (mutations of the
// examples) and the interpreter random PDUs (seeded with the shared
// captures' Modbus ADUs): parsing either refuses or compiles, and no
// plugin decodes any PDU with a panic or beyond its bounds.
func FuzzInterpreter(f *testing.F) {
	examples, _ := filepath.Glob(filepath.Join(repoRoot(f), "examples", "plugins", "*", "*.yaml"))
	var seeds [][]byte
	for _, e := range examples {
		b, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	pdus := [][]byte{{'K', 'N', 1, 4, 0, 8, 0, 7}, {0xaa, 0x41, 0, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, []byte("HELF\x20\x00\x00\x00")}
	if files, _ := filepath.Glob(filepath.Join(repoRoot(f), "..", "shared", "pcaps", "modbus", "*.pcap")); len(files) > 0 {
		for i, a := range modbusADUs(f) {
			if i%97 == 0 {
				pdus = append(pdus, a.b)
			}
		}
	}
	for i, p := range pdus {
		f.Add(seeds[i%len(seeds)], p)
	}
	f.Fuzz(func(t *testing.T, src, pdu []byte) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		id, err := p.Register(dissect.NewRegistry())
		if err != nil {
			return
		}
		var r dissect.Result
		for _, dir := range []decode.Direction{decode.DirToServer, decode.DirToClient} {
			p.Decode(id, pdu, dir, &r)
			if len(r.Fields) > 1<<16 {
				t.Fatalf("fields %d bytes", len(r.Fields))
			}
		}
		if p.frame != nil {
			if n := p.frameLen(pdu); n > len(pdu) || n > MaxPDU {
				t.Fatalf("frameLen %d of %d bytes", n, len(pdu))
			}
		}
		p.match(pdu)
		p.matchPort(pdu)
	})
}
