package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: DHCP, Name: "dhcp", Title: "DHCP",
		UDP:        &UDPProtocol{Ports: []uint16{67, 68}, Match: MatchDHCP, Decode: DecodeDHCP, PortOnly: true},
		ServerRole: "DHCP server"})
}

// DHCP per RFC 2131 §2 (BOOTP message: op, htype, hlen, hops, xid, secs,
// flags, ciaddr, yiaddr, siaddr, giaddr, chaddr (16), sname (64), file
// (128), then the magic cookie 99.130.83.99 and options, RFC 2132).

const dhcpFixed = 236

// MatchDHCP checks op (1 request, 2 reply), Ethernet hardware type and
// length, and the magic cookie (RFC 2131 §3).
func MatchDHCP(b []byte) bool {
	return len(b) >= dhcpFixed+4 && (b[0] == 1 || b[0] == 2) && b[1] == 1 && b[2] == 6 &&
		binary.BigEndian.Uint32(b[dhcpFixed:]) == 0x63825363
}

// DecodeDHCP reads the message type (option 53, RFC 2132 §9.6) as
// Result.Function, the host name (option 12, §3.14) as Result.Name and the
// vendor class identifier (option 60, §9.13). The name belongs to the
// client's address: ciaddr, else the requested address (option 50, §9.1),
// else yiaddr in a reply.
func DecodeDHCP(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(DHCP)
	r.writes(groupName)
	if !MatchDHCP(b) {
		return errField
	}
	if b[0] == 2 {
		r.Response = true
		r.SrcRole = RoleDHCPServer
	} else {
		r.Request = true
		r.DstRole = RoleDHCPServer
	}
	setSubject := func(ip []byte) {
		if ip[0] != 0 && !r.HasSubject {
			copy(r.Subject.B[:4], ip)
			r.Subject.Len, r.HasSubject = 4, true
		}
	}
	setSubject(b[12:16])
	var requested []byte
	opts := b[dhcpFixed+4:]
	for len(opts) > 0 {
		code := opts[0]
		if code == 255 {
			break
		}
		if code == 0 {
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			return errLength
		}
		v := opts[2 : 2+int(opts[1])]
		switch code {
		case 53:
			if len(v) == 1 {
				r.Function = int(v[0])
			}
		case 12:
			r.Name = v
		case 60:
			r.WriteIdent().VendorClass = string(v)
			r.HasIdent = true
		case 50:
			if len(v) == 4 {
				requested = v
			}
		}
		opts = opts[2+len(v):]
	}
	if requested != nil {
		setSubject(requested)
	}
	if b[0] == 2 {
		setSubject(b[16:20])
	}
	if !r.HasSubject {
		r.Name = nil // nothing to attach it to
	}
	return nil
}
