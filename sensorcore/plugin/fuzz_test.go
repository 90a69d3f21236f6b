package plugin

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// FuzzInterpreter feeds the parser random plugins (mutations of the
// examples) and the interpreter random PDUs, seeded with each example
// paired with the PDUs of its own shared captures (Modbus, OPC UA,
// C37.118 over TCP and UDP): parsing either refuses or compiles, and no
// plugin decodes any PDU with a panic or beyond its bounds.
func FuzzInterpreter(f *testing.F) {
	f.Add([]byte(attackHead+attackFields), pdu(1, 0, 2, 1, 2))
	for _, ex := range []struct{ name, glob string }{{"modbus", "modbus/*.pcap"}, {"opcua", "opcua/*.pcap"}, {"c37118", "c37118/*.pcap"}} {
		src, err := os.ReadFile(example(f, ex.name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, []byte{})
		if files, _ := filepath.Glob(filepath.Join(needs.SharedDir(f), "pcaps", ex.glob)); len(files) == 0 {
			continue // the shared captures are optional seeds here
		}
		p, err := Parse(src)
		if err != nil {
			f.Fatal(err)
		}
		pdus := capturePDUs(f, p, ex.glob)
		if len(pdus) == 0 {
			f.Fatalf("no %s PDU in the shared captures %s", ex.name, ex.glob)
		}
		// at most 64 seeds per example, spread over the captures
		step := max(1, len(pdus)/64)
		for i := 0; i < len(pdus); i += step {
			f.Add(src, pdus[i])
		}
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

// capturePDUs are the PDUs of p's protocol in the shared captures glob:
// TCP and UDP payloads on its ports or matching its signature, split by
// its framing.
func capturePDUs(tb testing.TB, p *Plugin, glob string) [][]byte {
	var out [][]byte
	ports := map[uint16]bool{}
	for _, x := range append(append([]uint16(nil), p.TCPPorts...), p.UDPPorts...) {
		ports[x] = true
	}
	for _, f := range shared(tb, glob) {
		cf, err := capture.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		var d decode.Decoder
		for {
			data, ci, err := cf.Reader.Next()
			if err != nil {
				break
			}
			if d.Decode(data, ci.LinkType) != nil || len(d.Pkt.Payload) == 0 {
				continue
			}
			b := d.Pkt.Payload
			if !ports[d.Pkt.SrcPort] && !ports[d.Pkt.DstPort] && !p.match(b) {
				continue
			}
			if p.frame == nil {
				out = append(out, append([]byte(nil), b...))
				continue
			}
			for len(b) > 0 {
				n := p.frameLen(b)
				if n <= 0 {
					break
				}
				out = append(out, append([]byte(nil), b[:n]...))
				b = b[n:]
			}
		}
		cf.Close()
	}
	return out
}

// FuzzPluginSequence runs whole packet sequences through the monitor with
// the four examples loaded: the input is cut into segments (a length
// byte before each) sent alternately by the client and the server of a
// TCP stream on each TCP example's port, as UDP datagrams to C37.118's,
// and as Ethernet frames of PROFINET DCP's EtherType; nothing panics and the counts stay consistent (malformed by a plugin
// within malformed, within PDUs).
func FuzzPluginSequence(f *testing.F) {
	var ps []*Plugin
	for _, n := range []string{"modbus", "opcua", "c37118", "pndcp"} {
		src, err := os.ReadFile(example(f, n))
		if err != nil {
			f.Fatal(err)
		}
		ps = append(ps, mustParse(f, string(src)))
	}
	seq := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, byte(len(p)))
			b = append(b, p...)
		}
		return b
	}
	f.Add(seq([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}, []byte{0, 1, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2}))
	f.Add(seq([]byte("HELF\x20\x00\x00\x00"), []byte("ACKF\x1c\x00\x00\x00")))
	f.Add(seq([]byte{0xaa, 0x41, 0, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, []byte{0xaa, 0x01, 0, 16}))
	f.Add(seq([]byte{0xfe, 0xfe, 5, 0, 0, 0, 0, 1, 0, 1, 0, 4, 0xff, 0xff, 0, 0}, []byte{0xfe, 0xff, 5, 1, 0, 0, 0, 1, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, closeAll := monitorWith(t, ps...)
		defer closeAll()
		at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
		send := func(frame []byte) {
			at = at.Add(time.Millisecond)
			m.Packet(frame, capture.Info{UnixNano: at.UnixNano(), LinkType: capture.LinkEthernet})
		}
		ports := []uint16{502, 12001, 4712}
		var cseq, sseq [3]uint32
		for i := range ports {
			cseq[i], sseq[i] = 1000, 9000
			send(pcaptest.TCPFrame(1, 2, 40000+uint16(i), ports[i], cseq[i]-1, 0x02, nil))
			send(pcaptest.TCPFrame(2, 1, ports[i], 40000+uint16(i), sseq[i]-1, 0x12, nil))
		}
		for k := 0; len(in) > 0; k++ {
			n := min(int(in[0]), len(in)-1)
			seg := in[1 : 1+n]
			in = in[1+n:]
			i := k % len(ports)
			if k%2 == 0 {
				send(pcaptest.TCPFrame(1, 2, 40000+uint16(i), ports[i], cseq[i], 0x18, seg))
				cseq[i] += uint32(len(seg))
			} else {
				send(pcaptest.TCPFrame(2, 1, ports[i], 40000+uint16(i), sseq[i], 0x18, seg))
				sseq[i] += uint32(len(seg))
			}
			send(pcaptest.UDPFrame(1, 2, 40100, 4713, seg))
			send(pcaptest.EtherFrame(byte(1+k%2), byte(2-k%2), 0x8892, seg))
		}
		for name, c := range m.Report().Protocols {
			if c.MalformedByPlugin > c.Malformed || c.Malformed > c.PDUs {
				t.Fatalf("%s: %+v", name, c)
			}
		}
	})
}
