package pcaptest

import "encoding/binary"

// TCPFrame builds an Ethernet/IPv4/TCP frame from 198.18.0.<src> to
// 198.18.0.<dst> (the benchmarking range, RFC 2544) with the given ports,
// sequence number, flags and payload; IP and TCP checksums are left zero,
// as a sensor on a SPAN port does not check them.
func TCPFrame(src, dst byte, sport, dport uint16, seq uint32, flags byte, payload []byte) []byte {
	b := ethernetIPv4(src, dst, 6, 20+len(payload))
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12], tcp[13] = 5<<4, flags
	return append(append(b, tcp...), payload...)
}

// UDPFrame builds an Ethernet/IPv4/UDP frame from 198.18.0.<src> to
// 198.18.0.<dst> with the given ports and payload.
func UDPFrame(src, dst byte, sport, dport uint16, payload []byte) []byte {
	b := ethernetIPv4(src, dst, 17, 8+len(payload))
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	return append(append(b, udp...), payload...)
}

// EtherFrame builds an Ethernet frame from host src to host dst (locally
// administered MACs 00:1b:1b:00:00:<host>) of the given EtherType.
func EtherFrame(src, dst byte, etherType uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	copy(b, []byte{0, 0x1b, 0x1b, 0, 0, dst, 0, 0x1b, 0x1b, 0, 0, src})
	binary.BigEndian.PutUint16(b[12:], etherType)
	return append(b, payload...)
}

// ethernetIPv4 is the Ethernet header and the IPv4 header of a frame
// carrying l4 octets of protocol proto.
func ethernetIPv4(src, dst byte, proto byte, l4 int) []byte {
	b := append(EtherFrame(src, dst, 0x0800, nil), make([]byte, 20, 20+l4)...)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4))
	ip[8], ip[9] = 64, proto
	copy(ip[12:], []byte{198, 18, 0, src})
	copy(ip[16:], []byte{198, 18, 0, dst})
	return b
}
