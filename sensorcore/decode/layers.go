package decode

import "encoding/binary"

// Counters counts what the decoder saw, by layer.
type Counters struct {
	Packets, Bytes   uint64
	Ethernet, VLAN   uint64
	ARP              uint64
	IPv4, IPv6       uint64
	Fragments        uint64
	TCP, UDP, ICMP   uint64
	OtherL3, OtherL4 uint64
	Errors           uint64
}

// Decoder decodes frames into its reused Packet.
type Decoder struct {
	Pkt      Packet
	Counters Counters
	frameCap int
}

// Decode parses data of the given LINKTYPE into d.Pkt. A returned error
// means the frame was counted in Counters.Errors; layers decoded before the
// error stay valid in d.Pkt.
func (d *Decoder) Decode(data []byte, linkType int) error {
	d.frameCap = cap(data)
	d.Counters.Packets++
	d.Counters.Bytes += uint64(len(data))
	var err error
	if linkType == LinkEthernet {
		err = d.ethernet(data) // it clears the Packet (or writes all of it)
	} else {
		d.Pkt.Reset()
		err = d.otherLink(data, linkType)
	}
	if err != nil {
		d.Counters.Errors++
	}
	return err
}

// otherLink decodes a frame of a link type other than Ethernet into the
// cleared Packet.
func (d *Decoder) otherLink(data []byte, linkType int) (err error) {
	switch linkType {
	case LinkRaw, LinkRawOld, LinkRawOld14:
		err = d.rawIP(data)
	case LinkIPv4:
		err = d.ipv4(data)
	case LinkIPv6:
		err = d.ipv6(data)
	case LinkLinuxSLL:
		err = d.linuxSLL(data)
	case LinkLinuxSLL2:
		err = d.linuxSLL2(data)
	case LinkNull:
		err = d.null(data, false)
	case LinkLoop:
		err = d.null(data, true)
	default:
		err = ErrUnsupported
	}
	return err
}

func (d *Decoder) rawIP(b []byte) error {
	if len(b) < 1 {
		return ErrTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b)
	case 6:
		return d.ipv6(b)
	}
	return ErrBadHeader
}

// linuxSLL decodes the Linux "cooked" header (LINKTYPE_LINUX_SLL: 16 bytes,
// protocol type in the last two).
func (d *Decoder) linuxSLL(b []byte) error {
	if len(b) < 16 {
		return ErrTruncated
	}
	return d.etherPayload(binary.BigEndian.Uint16(b[14:16]), b[16:])
}

// linuxSLL2 decodes the second Linux "cooked" header (LINKTYPE_LINUX_SLL2:
// 20 bytes, protocol type in the first two).
func (d *Decoder) linuxSLL2(b []byte) error {
	if len(b) < 20 {
		return ErrTruncated
	}
	return d.etherPayload(binary.BigEndian.Uint16(b[0:2]), b[20:])
}

// BSD address families in the NULL/LOOP header: IPv4 is 2 everywhere,
// IPv6 differs by system (tcpdump.org LINKTYPE_NULL).
const (
	afInet        = 2
	afInet6BSD    = 24 // NetBSD, OpenBSD, BSD/OS
	afInet6FreeBS = 28 // FreeBSD, DragonFly BSD
	afInet6Darwin = 30 // macOS, iOS
	afInet6Linux  = 10
)

// null decodes the BSD loopback header (LINKTYPE_NULL: a 4-byte address
// family in the byte order of the capturing host; LINKTYPE_LOOP: the same
// in network byte order).
func (d *Decoder) null(b []byte, network bool) error {
	if len(b) < 4 {
		return ErrTruncated
	}
	af := binary.BigEndian.Uint32(b[0:4])
	if !network && af > 0xffff {
		af = binary.LittleEndian.Uint32(b[0:4]) // written by a little-endian host
	}
	switch af {
	case afInet:
		d.Pkt.EtherType = EtherTypeIPv4
		return d.ipv4(b[4:])
	case afInet6BSD, afInet6FreeBS, afInet6Darwin, afInet6Linux:
		d.Pkt.EtherType = EtherTypeIPv6
		return d.ipv6(b[4:])
	}
	d.Counters.OtherL3++
	return nil
}

// ethernet decodes an Ethernet II header (IEEE 802.3 §3.1.1).
func (d *Decoder) ethernet(b []byte) error {
	p := &d.Pkt
	if len(b) < 14 {
		p.Reset()
		return ErrTruncated
	}
	et := binary.BigEndian.Uint16(b[12:14])
	// The common case on an OT network, an untagged frame carrying an
	// unfragmented IPv4 packet with TCP, takes neither the tag loop nor
	// the EtherType switch nor the call through ipv4, and the Packet is
	// not cleared first: tcp4 writes every IP and TCP field and this
	// function the others (the link's, and Rare's cleared in a few wide
	// stores instead of the whole Packet's, about 27 instructions less
	// a packet).
	fast := et == EtherTypeIPv4 && len(b) >= 14+40 && d.tcp4(b[14:]) // the length here too: b[14:] needs no guard for an empty rest
	if fast {
		p.Rare = Rare{}
	} else {
		p.Reset()
	}
	p.DstMAC = [6]byte(b[0:6])
	p.SrcMAC = [6]byte(b[6:12])
	p.HasEth = true
	p.EtherType = et
	d.Counters.Ethernet++
	if fast {
		return nil
	}
	if et == EtherTypeIPv4 {
		return d.ipv4Any(b[14:])
	}
	return d.etherPayload(et, b[14:])
}

// etherPayload decodes what follows an EtherType (Ethernet or a Linux
// cooked header), through any 802.1Q / 802.1ad tags (IEEE 802.1Q §9.6:
// TPID, then PCP/DEI/VID).
func (d *Decoder) etherPayload(et uint16, b []byte) error {
	p := &d.Pkt
	for et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQ9 {
		if len(b) < 4 {
			return ErrTruncated
		}
		if p.NumVLAN < len(p.VLANs) {
			p.VLANs[p.NumVLAN] = binary.BigEndian.Uint16(b[0:2]) & 0x0fff
		}
		p.NumVLAN++
		d.Counters.VLAN++
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	if et < 0x0600 {
		// 802.3 length field with LLC: not IP; counted as other.
		d.Counters.OtherL3++
		p.EtherType = et
		return nil
	}
	p.EtherType = et
	switch et {
	case EtherTypeIPv4:
		return d.ipv4(b)
	case EtherTypeIPv6:
		return d.ipv6(b)
	case EtherTypeARP:
		return d.arp(b)
	}
	d.Counters.OtherL3++
	p.Payload = b
	return nil
}

// arp decodes an Ethernet/IPv4 ARP packet (RFC 826).
func (d *Decoder) arp(b []byte) error {
	d.Counters.ARP++
	if len(b) < 8 {
		return ErrTruncated
	}
	hlen, plen := int(b[4]), int(b[5])
	if hlen != 6 || plen != 4 {
		return nil // not Ethernet/IPv4; counted, otherwise ignored
	}
	if len(b) < 8+2*hlen+2*plen {
		return ErrTruncated
	}
	p := &d.Pkt
	p.IsARP = true
	p.ARPOp = binary.BigEndian.Uint16(b[6:8])
	copy(p.ARPSenderMAC[:], b[8:14])
	copy(p.ARPSenderIP.B[:4], b[14:18])
	p.ARPSenderIP.Len = 4
	copy(p.ARPTargetIP.B[:4], b[24:28])
	p.ARPTargetIP.Len = 4
	return nil
}

// ipv4 decodes an IPv4 packet: the common case by tcp4, any other by
// ipv4Any.
func (d *Decoder) ipv4(b []byte) error {
	if d.tcp4(b) {
		return nil
	}
	return d.ipv4Any(b)
}

// ipv4Any decodes an IPv4 header (RFC 791 §3.1). Fragments are counted;
// only the first fragment's transport header is decoded, and its payload
// is not handed to stream handling.
func (d *Decoder) ipv4Any(b []byte) error {
	if len(b) < 20 {
		return ErrTruncated
	}
	if b[0]>>4 != 4 {
		return ErrBadHeader
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl || len(b) < ihl {
		return ErrBadHeader
	}
	if total < len(b) {
		b = b[:total] // drop Ethernet padding
	} else if total > len(b) {
		d.Pkt.Cut = total - len(b) // bytes the snapshot length cut off
	}
	p := &d.Pkt
	d.Counters.IPv4++
	p.IPVersion = 4
	p.TTL = b[8]
	p.Proto = b[9]
	copy(p.Src.B[:4], b[12:16])
	copy(p.Dst.B[:4], b[16:20])
	p.Src.Len, p.Dst.Len = 4, 4
	frag := binary.BigEndian.Uint16(b[6:8])
	more := frag&0x2000 != 0
	off := frag & 0x1fff
	if more || off != 0 {
		p.Fragment = true
		p.FragFirst = off == 0
		d.Counters.Fragments++
		if off != 0 {
			return nil
		}
	}
	return d.transport(p.Proto, b[ihl:])
}

// tcp4 decodes the common case, an unfragmented IPv4 packet with a
// header of 20 bytes (no options) carrying a TCP header that fits in the
// captured bytes, in one pass with few bounds checks, as ipv4 and tcp
// would. It reports false, having changed nothing, for anything else,
// which ipv4 then decodes. It saves about a third of the decoding's
// instructions per packet.
func (d *Decoder) tcp4(b []byte) bool {
	if len(b) < 40 {
		return false
	}
	ip := b[:20:20]
	// Version 4 and a 20-byte header in one byte compare (a header with
	// options, rare, is ipv4Any's), TCP, neither more fragments nor a
	// fragment offset.
	if ip[0] != 0x45 || ip[9] != ProtoTCP || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
		return false
	}
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	cut := 0
	if total < len(b) {
		b = b[:total] // drop Ethernet padding
	} else {
		cut = total - len(b) // bytes the snapshot length cut off
	}
	if len(b) < 40 {
		return false
	}
	t := b[20:]
	tcp := t[:20:20]
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(t) {
		return false
	}
	p := &d.Pkt
	d.Counters.IPv4++
	d.Counters.TCP++
	p.IPVersion = 4
	p.TTL = ip[8]
	p.Proto = ProtoTCP
	// Whole addresses, cleared first: the Packet may hold an earlier
	// packet's (ethernet does not clear it).
	p.Src.B = [16]byte{}
	p.Dst.B = [16]byte{}
	p.Src.B[0], p.Src.B[1], p.Src.B[2], p.Src.B[3] = ip[12], ip[13], ip[14], ip[15]
	p.Dst.B[0], p.Dst.B[1], p.Dst.B[2], p.Dst.B[3] = ip[16], ip[17], ip[18], ip[19]
	p.Src.Len, p.Dst.Len = 4, 4
	p.Cut = cut
	d.tcpFields(t, off)
	// The flow's hash from the header words, as keyHash computes it from
	// the addresses and ports: the stream lookup then neither hashes nor
	// reads back the address bytes just stored.
	addrs, ports := binary.LittleEndian.Uint64(ip[12:20]), ProtoTCP<<32|uint64(binary.BigEndian.Uint32(tcp[0:4]))
	p.hash, p.words[0], p.words[1] = hash4(addrs, ports), addrs, ports
	return true
}

// ipv6 decodes the IPv6 header (RFC 8200 §3) and walks hop-by-hop, routing,
// destination-options and fragment extension headers (§4).
func (d *Decoder) ipv6(b []byte) error {
	if len(b) < 40 {
		return ErrTruncated
	}
	if b[0]>>4 != 6 {
		return ErrBadHeader
	}
	p := &d.Pkt
	d.Counters.IPv6++
	p.IPVersion = 6
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	next := b[6]
	p.TTL = b[7]
	copy(p.Src.B[:], b[8:24])
	copy(p.Dst.B[:], b[24:40])
	p.Src.Len, p.Dst.Len = 16, 16
	b = b[40:]
	if plen < len(b) {
		b = b[:plen]
	} else if plen > len(b) {
		d.Pkt.Cut = plen - len(b)
	}
	for i := 0; i < 8; i++ {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < 8 {
				return ErrTruncated
			}
			l := (int(b[1]) + 1) * 8
			if len(b) < l {
				return ErrTruncated
			}
			next = b[0]
			b = b[l:]
		case 44: // fragment (RFC 8200 §4.5)
			if len(b) < 8 {
				return ErrTruncated
			}
			p.Fragment = true
			d.Counters.Fragments++
			off := binary.BigEndian.Uint16(b[2:4]) >> 3
			next = b[0]
			b = b[8:]
			p.FragFirst = off == 0
			if off != 0 {
				p.Proto = next
				return nil
			}
		default:
			p.Proto = next
			return d.transport(next, b)
		}
	}
	return ErrBadHeader
}

func (d *Decoder) transport(proto uint8, b []byte) error {
	switch proto {
	case ProtoTCP:
		return d.tcp(b)
	case ProtoUDP:
		return d.udp(b)
	case ProtoICMP, ProtoICMPv6:
		d.Counters.ICMP++
		return nil
	}
	d.Counters.OtherL4++
	return nil
}

// udp decodes a UDP header (RFC 768).
func (d *Decoder) udp(b []byte) error {
	if len(b) < 8 {
		return ErrTruncated
	}
	p := &d.Pkt
	d.Counters.UDP++
	p.SrcPort = binary.BigEndian.Uint16(b[0:2])
	p.DstPort = binary.BigEndian.Uint16(b[2:4])
	p.L4Offset = d.frameCap - cap(b)
	l := int(binary.BigEndian.Uint16(b[4:6]))
	p.HasTransport = true
	if l >= 8 && l <= len(b) {
		b = b[:l]
	}
	p.Payload = b[8:]
	return nil
}

// tcp decodes a TCP header (RFC 9293 §3.1).
func (d *Decoder) tcp(b []byte) error {
	if len(b) < 20 {
		return ErrTruncated
	}
	d.Counters.TCP++
	off := int(b[12]>>4) * 4
	if off < 20 || off > len(b) {
		return ErrBadHeader
	}
	d.tcpFields(b, off)
	return nil
}

// tcpFields fills the packet's TCP fields from the segment b, whose
// header (at least 20 bytes) ends at off.
func (d *Decoder) tcpFields(b []byte, off int) {
	p := &d.Pkt
	h := b[:20:20]
	p.SrcPort = binary.BigEndian.Uint16(h[0:2])
	p.DstPort = binary.BigEndian.Uint16(h[2:4])
	p.L4Offset = d.frameCap - cap(b) // subslices keep the frame's end capacity
	p.Seq = binary.BigEndian.Uint32(h[4:8])
	p.Ack = binary.BigEndian.Uint32(h[8:12])
	p.TCPFlags = h[13]
	p.HasTransport = true
	p.Payload = b[off:]
}
