package decode

import (
	"encoding/binary"
	"testing"
)

// TestLinkTypes: the same TCP segment under every link type Decode
// claims, with 802.1Q tags where the link carries an EtherType.
func TestLinkTypes(t *testing.T) {
	mb := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}
	ip := ipv4(ProtoTCP, 0, tcp(40000, 502, 7, TCPAck, mb))
	ip6 := make([]byte, 40)
	ip6[0] = 0x60
	seg := tcp(40000, 502, 7, TCPAck, mb)
	binary.BigEndian.PutUint16(ip6[4:], uint16(len(seg)))
	ip6[6], ip6[7] = ProtoTCP, 64
	ip6 = append(ip6, seg...)
	afLE := func(af uint32, p []byte) []byte { return append(binary.LittleEndian.AppendUint32(nil, af), p...) }
	afBE := func(af uint32, p []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, af), p...) }
	sll := func(et uint16, p []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[14:], et)
		return append(h, p...)
	}
	sll2 := func(et uint16, p []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], et)
		return append(h, p...)
	}
	vlan := func(id, et uint16, p []byte) []byte {
		return append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, id), et), p...)
	}
	cases := []struct {
		name  string
		link  int
		frame []byte
		ver   int
		vlans int
	}{
		{"ethernet", LinkEthernet, eth(EtherTypeIPv4, nil, 0, ip), 4, 0},
		{"ethernet 802.1Q", LinkEthernet, eth(EtherTypeIPv4, []uint16{5}, 0, ip), 4, 1},
		{"null little-endian IPv4", LinkNull, afLE(2, ip), 4, 0},
		{"null big-endian IPv4", LinkNull, afBE(2, ip), 4, 0},
		{"null macOS IPv6", LinkNull, afLE(30, ip6), 6, 0},
		{"null FreeBSD IPv6", LinkNull, afLE(28, ip6), 6, 0},
		{"null OpenBSD IPv6", LinkNull, afBE(24, ip6), 6, 0},
		{"loop IPv4", LinkLoop, afBE(2, ip), 4, 0},
		{"raw IPv4", LinkRaw, ip, 4, 0},
		{"raw IPv6", LinkRaw, ip6, 6, 0},
		{"raw (DLT 12)", LinkRawOld, ip, 4, 0},
		{"ipv4", LinkIPv4, ip, 4, 0},
		{"ipv6", LinkIPv6, ip6, 6, 0},
		{"sll", LinkLinuxSLL, sll(EtherTypeIPv4, ip), 4, 0},
		{"sll 802.1Q", LinkLinuxSLL, sll(EtherTypeVLAN, vlan(9, EtherTypeIPv4, ip)), 4, 1},
		{"sll2", LinkLinuxSLL2, sll2(EtherTypeIPv6, ip6), 6, 0},
		{"sll2 802.1Q", LinkLinuxSLL2, sll2(EtherTypeVLAN, vlan(9, EtherTypeIPv4, ip)), 4, 1},
	}
	var d Decoder
	for _, c := range cases {
		if !Decodable(c.link) {
			t.Errorf("%s: link type %d not Decodable", c.name, c.link)
		}
		if err := d.Decode(c.frame, c.link); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		p := &d.Pkt
		if p.IPVersion != c.ver || !p.HasTransport || p.DstPort != 502 || string(p.Payload) != string(mb) || p.NumVLAN != c.vlans {
			t.Errorf("%s: ip v%d transport %v port %d vlans %d payload %x", c.name, p.IPVersion, p.HasTransport, p.DstPort, p.NumVLAN, p.Payload)
		}
	}
	if err := d.Decode(ip, 147); err != ErrUnsupported || Decodable(147) || LinkTypeName(147) != "LINKTYPE 147" {
		t.Errorf("LINKTYPE 147: %v", err)
	}
	for _, short := range [][]byte{nil, {2, 0}, make([]byte, 15), make([]byte, 19)} {
		for _, lt := range []int{LinkNull, LinkLoop, LinkLinuxSLL, LinkLinuxSLL2} {
			if err := d.Decode(short, lt); err == nil && len(short) < 4 {
				t.Errorf("%s: %d bytes decoded", LinkTypeName(lt), len(short))
			}
		}
	}
}
