package decode

import (
	"errors"
	"strconv"
)

// EtherTypes (IEEE 802 numbers registry).
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeARP   = 0x0806
	EtherTypeVLAN  = 0x8100 // IEEE 802.1Q C-tag
	EtherTypeQinQ  = 0x88a8 // IEEE 802.1ad S-tag
	EtherTypeQinQ9 = 0x9100 // pre-standard QinQ
	EtherTypeIPv6  = 0x86dd
	// EtherTypePROFINET carries PROFINET real-time frames and DCP (IEC
	// 61158-6-10).
	EtherTypePROFINET = 0x8892
)

// Link types this package decodes (tcpdump.org LINKTYPE registry).
const (
	LinkNull      = 0   // LINKTYPE_NULL: BSD loopback, host byte order
	LinkEthernet  = 1   // LINKTYPE_ETHERNET
	LinkRawOld    = 12  // DLT_RAW as some systems number it in files
	LinkRawOld14  = 14  // DLT_RAW on OpenBSD
	LinkRaw       = 101 // LINKTYPE_RAW: IPv4 or IPv6, no link header
	LinkLoop      = 108 // LINKTYPE_LOOP: OpenBSD loopback, network byte order
	LinkLinuxSLL  = 113 // LINKTYPE_LINUX_SLL
	LinkIPv4      = 228 // LINKTYPE_IPV4
	LinkIPv6      = 229 // LINKTYPE_IPV6
	LinkLinuxSLL2 = 276 // LINKTYPE_LINUX_SLL2
)

// LinkTypeName names a link type for people ("NULL/Loopback", "Ethernet",
// ...); an unknown one is "LINKTYPE 147".
func LinkTypeName(lt int) string {
	switch lt {
	case LinkNull:
		return "NULL/Loopback"
	case LinkEthernet:
		return "Ethernet"
	case LinkRaw, LinkRawOld, LinkRawOld14:
		return "raw IP"
	case LinkLoop:
		return "OpenBSD loopback"
	case LinkLinuxSLL:
		return "Linux cooked (SLL)"
	case LinkIPv4:
		return "raw IPv4"
	case LinkIPv6:
		return "raw IPv6"
	case LinkLinuxSLL2:
		return "Linux cooked v2 (SLL2)"
	}
	return "LINKTYPE " + strconv.Itoa(lt)
}

// Decodable reports whether Decode understands the link type.
func Decodable(lt int) bool {
	switch lt {
	case LinkNull, LinkEthernet, LinkRaw, LinkRawOld, LinkRawOld14, LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2:
		return true
	}
	return false
}

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flags (RFC 9293 §3.1).
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
)

// Sentinel decoding errors; each is counted by the caller, never fatal.
var (
	ErrTruncated   = errors.New("decode: truncated header")
	ErrBadHeader   = errors.New("decode: invalid header field")
	ErrUnsupported = errors.New("decode: unsupported link type")
)

// Addr is an IPv4 (in the first four bytes, Len 4) or IPv6 address held in a
// fixed array so it can be a map key without allocating; for a protocol
// carried directly over Ethernet, a MAC address (Len 6, MACAddr).
type Addr struct {
	B   [16]byte
	Len uint8
}

// MACAddr holds a MAC address in an Addr (Len 6): the ends of a protocol
// carried directly over Ethernet, where there is no IP address.
func MACAddr(m [6]byte) Addr {
	var a Addr
	copy(a.B[:6], m[:])
	a.Len = 6
	return a
}

// Packet is the decoded view of one frame. Slices alias the input.
type Packet struct {
	SrcMAC, DstMAC [6]byte
	HasEth         bool
	EtherType      uint16

	// IP
	IPVersion int
	Src, Dst  Addr
	Proto     uint8
	TTL       uint8

	// Transport
	SrcPort, DstPort uint16
	TCPFlags         uint8
	Seq, Ack         uint32
	// Payload is the transport payload; for a frame that carries neither
	// IP nor ARP, what follows its EtherType (and VLAN tags).
	Payload      []byte
	HasTransport bool
	// L4Offset is the offset of the transport header in the frame.
	L4Offset int
	// Cut is how many bytes of the IP packet the capture's snapshot
	// length left out (the IP length says more than was captured); 0
	// for a whole packet. Payload then holds only the captured part.
	Cut int
	// hash is the flow's keyHash when the decoding computed it from the
	// headers (tcp4), 0 when not; words then holds the two words it was
	// computed from (see keyWords), which name the flow as its key does.
	hash  uint64
	words [2]uint64

	Rare
}

// Rare holds what a Packet has only for frames less common on an OT
// network than untagged Ethernet carrying IPv4 and TCP: VLAN tags, ARP,
// IP fragments. Grouped, the common frame's decoding clears them with a
// few wide stores instead of clearing the whole Packet.
type Rare struct {
	VLANs   [2]uint16 // outer first
	NumVLAN int

	// ARP (RFC 826)
	IsARP        bool
	ARPOp        uint16
	ARPSenderMAC [6]byte
	ARPSenderIP  Addr
	ARPTargetIP  Addr

	Fragment  bool // a non-first fragment, or a first one with more to come
	FragFirst bool // offset 0 fragment (transport header present)
}

// Reset clears the packet for reuse without releasing anything.
func (p *Packet) Reset() { *p = Packet{} }
