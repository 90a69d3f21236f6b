package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: DNS, Name: "dns", Title: "DNS",
		UDP:        &UDPProtocol{Ports: []uint16{53, 5353}, Match: MatchDNS, Decode: DecodeDNS, PortOnly: true},
		ServerRole: "DNS server"})
}

// DNS per RFC 1035 §4.1: a 12-octet header (id, flags, QDCOUNT, ANCOUNT,
// NSCOUNT, ARCOUNT), questions, then resource records.

// MatchDNS checks a standard query or response (opcode 0) with exactly one
// question, as nearly every real message has.
func MatchDNS(b []byte) bool {
	return len(b) >= 17 && b[2]&0x78 == 0 && binary.BigEndian.Uint16(b[4:6]) == 1 &&
		binary.BigEndian.Uint16(b[6:8]) < 64
}

// DecodeDNS reads the opcode-0 message. Result.Function is the question's
// QTYPE (§3.2.2). In a response, the first A or AAAA answer names its
// address: Result.Subject is the address and Result.Name the question's
// name, rebuilt into the Result's own buffer.
func DecodeDNS(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(DNS)
	r.writes(groupName)
	if !MatchDNS(b) {
		return errField
	}
	resp := b[2]&0x80 != 0
	if resp {
		r.Response = true
		r.SrcRole = RoleDNSServer
	} else {
		r.Request = true
		r.DstRole = RoleDNSServer
	}
	n, off, err := dnsName(b, 12, r.nameBuf[:0])
	if err != nil {
		return err
	}
	if off+4 > len(b) {
		return errShort
	}
	r.Function = int(binary.BigEndian.Uint16(b[off:]))
	off += 4
	if !resp {
		return nil
	}
	an := int(binary.BigEndian.Uint16(b[6:8]))
	for i := 0; i < an; i++ {
		_, o, err := dnsName(b, off, nil)
		if err != nil {
			return err
		}
		if o+10 > len(b) {
			return errShort
		}
		typ := binary.BigEndian.Uint16(b[o:])
		rdl := int(binary.BigEndian.Uint16(b[o+8:]))
		rd := o + 10
		if rd+rdl > len(b) {
			return errLength
		}
		if typ == 1 && rdl == 4 || typ == 28 && rdl == 16 {
			copy(r.Subject.B[:], b[rd:rd+rdl])
			r.Subject.Len, r.HasSubject = uint8(rdl), true
			r.Name = n
			return nil
		}
		off = rd + rdl
	}
	return nil
}

// dnsName reads a possibly compressed name (§4.1.4) starting at off,
// appending its dotted form to dst when dst is not nil. It returns the
// offset after the name in the message.
func dnsName(b []byte, off int, dst []byte) ([]byte, int, error) {
	end := -1
	for hops := 0; hops < 64; hops++ {
		if off >= len(b) {
			return dst, 0, errShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return dst, end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return dst, 0, errShort
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
		case l&0xc0 != 0:
			return dst, 0, errField
		default:
			if off+1+l > len(b) {
				return dst, 0, errShort
			}
			if dst != nil {
				if len(dst) > 0 && len(dst) < cap(dst) {
					dst = append(dst, '.')
				}
				if len(dst)+l <= cap(dst) {
					dst = append(dst, b[off+1:off+1+l]...)
				}
			}
			off += 1 + l
		}
	}
	return dst, 0, errField
}
