package decode

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
	"unsafe"
)

// reuseFrames are frames of every kind the decoder takes apart, each of
// which leaves different fields set: a Packet reused from one to the next
// must hold only the next frame's.
func reuseFrames() []struct {
	link  int
	frame []byte
} {
	mb := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}
	ip6 := make([]byte, 40)
	ip6[0] = 0x60
	seg := tcp(40000, 502, 7, TCPAck, mb)
	binary.BigEndian.PutUint16(ip6[4:], uint16(len(seg)))
	ip6[6], ip6[7] = ProtoTCP, 64
	for i := 8; i < 40; i++ {
		ip6[i] = byte(i) // every address byte set
	}
	ip6 = append(ip6, seg...)
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 2, 0, 0x1b, 0x1b, 9, 9, 9, 198, 18, 0, 9, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1}
	cut := eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, tcp(1, 502, 3, TCPAck, make([]byte, 100))))[:80]
	// An IPv4 header with 4 bytes of options (a router alert): not the
	// fast path's.
	opts := ipv4(ProtoTCP, 0, nil)
	opts[0] = 0x46
	opts = append(opts, 0x94, 4, 0, 0)
	opts = append(opts, tcp(40000, 502, 7, TCPAck, mb)...)
	binary.BigEndian.PutUint16(opts[2:], uint16(len(opts)))
	return []struct {
		link  int
		frame []byte
	}{
		{LinkEthernet, eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, tcp(40000, 502, 7, TCPAck|TCPPsh, mb)))},
		{LinkEthernet, append(eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, tcp(1, 2, 3, TCPSyn, nil))), 0, 0, 0, 0, 0, 0)},
		{LinkEthernet, cut},
		{LinkEthernet, eth(EtherTypeIPv4, nil, 0, opts)},
		{LinkEthernet, eth(EtherTypeIPv4, []uint16{100, 200}, EtherTypeQinQ, ipv4(ProtoTCP, 0, tcp(502, 40000, 9, TCPAck, mb)))},
		{LinkEthernet, eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0x2000, tcp(1, 502, 3, TCPAck, mb)))},
		{LinkEthernet, eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0x0010, mb))},
		{LinkEthernet, eth(EtherTypeIPv4, nil, 0, ipv4(ProtoUDP, 0, udp(47808, 47808, []byte{0x81, 0x0b, 0, 4})))},
		{LinkEthernet, eth(EtherTypeIPv6, []uint16{7}, 0, ip6)},
		{LinkEthernet, eth(EtherTypeARP, nil, 0, arp)},
		{LinkEthernet, eth(EtherTypePROFINET, nil, 0, []byte{0xfe, 0xfe, 5, 0})},
		{LinkEthernet, eth(EtherTypeIPv4, nil, 0, []byte{0x45, 0, 0})},
		{LinkEthernet, []byte{1, 2, 3}},
		{LinkLinuxSLL2, append(binary.BigEndian.AppendUint16(nil, EtherTypeIPv4), append(make([]byte, 18), ipv4(ProtoTCP, 0, seg)...)...)},
		{LinkRaw, ip6},
		{LinkNull, append([]byte{2, 0, 0, 0}, ipv4(ProtoTCP, 0, seg)...)},
		{147, []byte{1, 2, 3, 4}},
	}
}

// TestDecodeReusedPacket: whatever frame the Packet held before, decoding
// the next gives the same Packet as a fresh decoder (the common Ethernet
// frame's decoding does not clear the Packet first but writes all of it).
func TestDecodeReusedPacket(t *testing.T) {
	frames := reuseFrames()
	for i, prev := range frames {
		for j, cur := range frames {
			var reused, fresh Decoder
			reused.Decode(prev.frame, prev.link)
			errR := reused.Decode(cur.frame, cur.link)
			errF := fresh.Decode(cur.frame, cur.link)
			if errR != errF || !reflect.DeepEqual(reused.Pkt, fresh.Pkt) {
				t.Errorf("frame %d after frame %d: %v %+v, fresh decoder %v %+v", j, i, errR, reused.Pkt, errF, fresh.Pkt)
			}
		}
	}
}

// TestDecodeWritesEveryField: with every field of the Packet set,
// including fields added after this test was written, each frame decodes
// as into a fresh decoder.
func TestDecodeWritesEveryField(t *testing.T) {
	for j, cur := range reuseFrames() {
		var dirty, fresh Decoder
		fill(t, reflect.ValueOf(&dirty.Pkt).Elem())
		if reflect.DeepEqual(dirty.Pkt, Packet{}) {
			t.Fatal("fill left the Packet zero")
		}
		dirty.Decode(cur.frame, cur.link)
		fresh.Decode(cur.frame, cur.link)
		if !reflect.DeepEqual(dirty.Pkt, fresh.Pkt) {
			t.Errorf("frame %d: over a filled Packet %+v, fresh decoder %+v", j, dirty.Pkt, fresh.Pkt)
		}
	}
}

// fill sets every field of v, exported or not, to a value other than zero.
func fill(t *testing.T, v reflect.Value) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(t, v.Field(i))
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(t, v.Index(i))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	default:
		t.Fatalf("fill: a %s field; teach fill to set it", v.Kind())
	}
}

// FuzzDecodeSequence decodes two frames with one decoder: the second must
// decode as into a fresh decoder, whatever the first left in the Packet.
func FuzzDecodeSequence(f *testing.F) {
	for _, a := range reuseFrames() {
		for _, b := range reuseFrames()[:3] {
			f.Add(a.frame, a.link, b.frame)
		}
	}
	f.Fuzz(func(t *testing.T, a []byte, link int, b []byte) {
		var reused, fresh Decoder
		reused.Decode(a, link%300)
		errR := reused.Decode(b, LinkEthernet)
		errF := fresh.Decode(b, LinkEthernet)
		if errR != errF || !reflect.DeepEqual(reused.Pkt, fresh.Pkt) {
			t.Fatalf("after % x: %v %+v, fresh decoder %v %+v", a, errR, reused.Pkt, errF, fresh.Pkt)
		}
	})
}

// TestIPv4OptionsTCP: a TCP segment behind an IPv4 header with options
// (declined by the fast path) decodes to the same fields, its payload
// after the options and the TCP header.
func TestIPv4OptionsTCP(t *testing.T) {
	var d Decoder
	f := reuseFrames()[3].frame
	if err := d.Decode(f, LinkEthernet); err != nil {
		t.Fatal(err)
	}
	p := &d.Pkt
	mb := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}
	if !p.HasTransport || p.Proto != ProtoTCP || p.SrcPort != 40000 || p.DstPort != 502 || p.Seq != 7 ||
		p.L4Offset != 14+24 || !bytes.Equal(p.Payload, mb) || p.Src.B[3] != 1 || p.Dst.B[3] != 2 {
		t.Fatalf("decoded %+v", *p)
	}
}
