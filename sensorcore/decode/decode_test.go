package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

func eth(et uint16, vlans []uint16, tpid uint16, payload []byte) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 0, 0x1b, 0x1b, 1, 2, 3}
	for i, v := range vlans {
		t := uint16(EtherTypeVLAN)
		if i == 0 && len(vlans) > 1 {
			t = tpid
		}
		b = binary.BigEndian.AppendUint16(b, t)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, payload...)
}

func ipv4(proto byte, flagsFrag uint16, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[6:], flagsFrag)
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{198, 18, 0, 1})
	copy(h[16:], []byte{198, 18, 0, 2})
	return append(h, payload...)
}

func tcp(sport, dport uint16, seq uint32, flags byte, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12], h[13] = 5<<4, flags
	return append(h, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func TestLayers(t *testing.T) {
	mb := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}
	ip6 := make([]byte, 40)
	ip6[0] = 0x60
	ip6[6] = 60 // destination options header first
	ip6[7] = 64
	ip6[23], ip6[39] = 1, 2
	ext := []byte{ProtoUDP, 0, 1, 4, 0, 0, 0, 0}
	u := udp(47808, 47808, []byte{0x81, 0x0b, 0, 4})
	binary.BigEndian.PutUint16(ip6[4:], uint16(len(ext)+len(u)))
	ip6 = append(append(ip6, ext...), u...)
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 1, 0, 0x1b, 0x1b, 1, 2, 3, 198, 18, 0, 9, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1}
	padded := append(eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, tcp(1024, 502, 7, TCPAck|TCPPsh, mb))), 0, 0, 0, 0)

	tests := []struct {
		name  string
		frame []byte
		check func(t *testing.T, p *Packet)
		err   error
	}{
		{"ethernet ipv4 tcp with padding", padded, func(t *testing.T, p *Packet) {
			if p.Proto != ProtoTCP || p.DstPort != 502 || p.Seq != 7 || !bytes.Equal(p.Payload, mb) {
				t.Fatalf("tcp %+v payload %x", p, p.Payload)
			}
		}, nil},
		{"802.1Q", eth(EtherTypeIPv4, []uint16{100}, 0, ipv4(ProtoUDP, 0, udp(1, 2, []byte{9}))), func(t *testing.T, p *Packet) {
			if p.NumVLAN != 1 || p.VLANs[0] != 100 || p.DstPort != 2 || len(p.Payload) != 1 {
				t.Fatalf("%+v", p)
			}
		}, nil},
		{"QinQ", eth(EtherTypeIPv4, []uint16{200, 100}, EtherTypeQinQ, ipv4(ProtoUDP, 0, udp(1, 2, nil))), func(t *testing.T, p *Packet) {
			if p.NumVLAN != 2 || p.VLANs[0] != 200 || p.VLANs[1] != 100 || p.IPVersion != 4 {
				t.Fatalf("%+v", p)
			}
		}, nil},
		{"ipv6 with extension header", eth(EtherTypeIPv6, nil, 0, ip6), func(t *testing.T, p *Packet) {
			if p.IPVersion != 6 || p.Proto != ProtoUDP || p.SrcPort != 47808 || p.Src.B[15] != 1 || len(p.Payload) != 4 {
				t.Fatalf("%+v", p)
			}
		}, nil},
		{"arp", eth(EtherTypeARP, nil, 0, arp), func(t *testing.T, p *Packet) {
			if !p.IsARP || p.ARPSenderIP.B[3] != 9 || p.ARPSenderMAC[1] != 0x1b {
				t.Fatalf("%+v", p)
			}
		}, nil},
		{"first fragment", eth(EtherTypeIPv4, nil, 0, ipv4(ProtoUDP, 0x2000, udp(1, 2, []byte{1, 2}))), func(t *testing.T, p *Packet) {
			if !p.Fragment || !p.FragFirst || !p.HasTransport {
				t.Fatalf("%+v", p)
			}
		}, nil},
		{"later fragment", eth(EtherTypeIPv4, nil, 0, ipv4(ProtoUDP, 0x0010, []byte{1, 2, 3})), func(t *testing.T, p *Packet) {
			if !p.Fragment || p.FragFirst || p.HasTransport {
				t.Fatalf("%+v", p)
			}
		}, nil},
		{"truncated tcp", eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, []byte{1, 2, 3})), nil, ErrTruncated},
		{"bad ihl", eth(EtherTypeIPv4, nil, 0, append([]byte{0x41}, make([]byte, 19)...)), nil, ErrBadHeader},
		{"runt", []byte{1, 2, 3}, nil, ErrTruncated},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := d.Decode(tc.frame, 1)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.check != nil {
				tc.check(t, &d.Pkt)
			}
		})
	}
	if d.Counters.Fragments != 2 || d.Counters.VLAN != 3 || d.Counters.ARP != 1 || d.Counters.Errors != 3 {
		t.Fatalf("counters %+v", d.Counters)
	}
	if err := d.Decode([]byte{1}, 9999); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("unknown link type: %v", err)
	}
}

// TestDecodeNoAlloc: the steady-state decode path does not allocate.
func TestDecodeNoAlloc(t *testing.T) {
	frame := eth(EtherTypeIPv4, []uint16{5}, 0, ipv4(ProtoTCP, 0, tcp(1024, 502, 7, TCPAck, []byte{1, 2, 3})))
	var d Decoder
	if n := testing.AllocsPerRun(100, func() { d.Decode(frame, 1) }); n != 0 {
		t.Fatalf("%v allocations per decode", n)
	}
}

func BenchmarkDecode(b *testing.B) {
	frame := eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, tcp(1024, 502, 7, TCPAck, make([]byte, 12))))
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(frame, 1)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(eth(EtherTypeIPv4, []uint16{100}, 0, ipv4(ProtoTCP, 0, tcp(1, 502, 1, TCPSyn, nil))), 1)
	f.Add(eth(EtherTypeIPv6, nil, 0, make([]byte, 48)), 1)
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, 101)
	f.Fuzz(func(t *testing.T, b []byte, link int) {
		var d Decoder
		d.Decode(b, link%256)
		if p := &d.Pkt; len(p.Payload) > len(b) {
			t.Fatal("payload longer than the frame")
		}
	})
}

// FuzzTCP4 checks the IPv4/TCP fast path against the general decoding:
// where tcp4 takes a packet, ipv4Any must decode it to the same Packet
// and counters, and the flow hash tcp4 takes from the headers must be
// keyHash of the decoded fields; where it declines, it must have changed
// nothing.
func FuzzTCP4(f *testing.F) {
	f.Add(ipv4(ProtoTCP, 0, tcp(1024, 502, 7, TCPAck, make([]byte, 12))))
	f.Add(ipv4(ProtoTCP, 0x4000, tcp(1024, 502, 7, TCPAck|TCPPsh, []byte{1, 2, 3})))
	f.Add(append(ipv4(ProtoTCP, 0, tcp(1, 2, 3, TCPSyn, nil)), 0, 0, 0, 0, 0, 0)) // Ethernet padding
	f.Add(ipv4(ProtoTCP, 0, tcp(1, 2, 3, TCPAck, make([]byte, 100)))[:60])        // cut by the snapshot length
	f.Add(ipv4(ProtoTCP, 0x2000, tcp(1, 2, 3, TCPAck, nil)))                      // first fragment
	f.Add(ipv4(ProtoUDP, 0, udp(47808, 47808, []byte{0x81, 0x0b, 0, 4})))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow Decoder
		fast.frameCap, slow.frameCap = cap(b), cap(b)
		took := fast.tcp4(b)
		if !took {
			if fast.Counters != (Counters{}) || !reflect.DeepEqual(fast.Pkt, Packet{}) {
				t.Fatalf("tcp4 declined but changed the decoder: %+v", fast)
			}
			return
		}
		if err := slow.ipv4Any(b); err != nil {
			t.Fatalf("tcp4 took a packet the general decoding refuses: %v", err)
		}
		if fast.Counters != slow.Counters {
			t.Fatalf("counters: fast %+v, general %+v", fast.Counters, slow.Counters)
		}
		fp, sp := fast.Pkt, slow.Pkt
		if !bytes.Equal(fp.Payload, sp.Payload) || cap(fp.Payload) != cap(sp.Payload) {
			t.Fatalf("payload: fast % x, general % x", fp.Payload, sp.Payload)
		}
		if h := keyHash(&sp.Src, &sp.Dst, sp.SrcPort, sp.DstPort, sp.Proto); fp.hash != h {
			t.Fatalf("flow hash from the headers %x, from the decoded fields %x", fp.hash, h)
		}
		if k := sp.Key(); fp.words != keyWords(&k) {
			t.Fatalf("flow words from the headers %x, from the decoded key %x", fp.words, keyWords(&k))
		}
		fp.Payload, sp.Payload, fp.hash, fp.words = nil, nil, 0, [2]uint64{}
		if !reflect.DeepEqual(fp, sp) {
			t.Fatalf("packet: fast %+v, general %+v", fp, sp)
		}
	})
}
