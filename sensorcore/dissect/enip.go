package dissect

import (
	"encoding/binary"
	"strconv"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: ENIP, Name: "enip", Title: "EtherNet/IP (CIP)", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{44818}, Match: MatchENIP, Len: ENIPLen, Decode: DecodeENIP},
		UDP:        &UDPProtocol{Ports: []uint16{44818}, Match: MatchENIPUDP, Decode: DecodeENIP},
		Functions:  lookup(cipServices),
		ClientRole: "EtherNet/IP scanner", ServerRole: "EtherNet/IP adapter",
		// CIP Vol 1 appendix A table.
		Actions: []ActionInfo{
			{Action: ActCIPReset, Name: "CIP reset", Alert: &ActionAlert{Rule: "cip-reset", Severity: "high", Title: "CIP reset",
				Text: "A scanner sent a CIP Reset service."}},
			{Action: ActCIPStart, Name: "CIP start", Alert: &ActionAlert{Rule: "cip-start", Severity: "high", Title: "CIP start",
				Text: "A scanner sent a CIP Start service."}},
			{Action: ActCIPStop, Name: "CIP stop", Alert: &ActionAlert{Rule: "cip-stop", Severity: "critical", Title: "CIP stop",
				Text: "A scanner sent a CIP Stop service."}},
		}})
}

// EtherNet/IP encapsulation per "The CIP Networks Library, Volume 2:
// EtherNet/IP Adaptation of CIP" (EIP) chapter 2, and CIP messages per
// Volume 1 (CIP) chapter 2-4 and appendix A.

// Encapsulation commands (EIP §2-3.2, table 2-3.2).
const (
	enipNOP             = 0x0000
	enipListServices    = 0x0004
	enipListIdentity    = 0x0063
	enipListInterfaces  = 0x0064
	enipRegisterSession = 0x0065
	enipUnregister      = 0x0066
	enipSendRRData      = 0x006f
	enipSendUnitData    = 0x0070
	enipIndicateStatus  = 0x0072
	enipCancel          = 0x0073
	enipHeaderLen       = 24
)

func enipCommand(c uint16) bool {
	switch c {
	case enipNOP, enipListServices, enipListIdentity, enipListInterfaces, enipRegisterSession,
		enipUnregister, enipSendRRData, enipSendUnitData, enipIndicateStatus, enipCancel:
		return true
	}
	return false
}

// ENIPLen frames one encapsulation message: a 24-octet header (command 2,
// length 2, session handle 4, status 4, sender context 8, options 4; all
// little-endian, EIP §2-3.1) followed by length octets of data.
func ENIPLen(b []byte) int {
	if len(b) >= 2 && !enipCommand(binary.LittleEndian.Uint16(b[0:2])) {
		return -1
	}
	if len(b) < enipHeaderLen {
		return 0
	}
	n := enipHeaderLen + int(binary.LittleEndian.Uint16(b[2:4]))
	if len(b) < n {
		return 0
	}
	return n
}

// MatchENIP checks a known command and an options field of zero (EIP
// §2-3.1: "options ... shall be zero").
func MatchENIP(b []byte) bool {
	if len(b) < enipHeaderLen || !enipCommand(binary.LittleEndian.Uint16(b[0:2])) {
		return false
	}
	if binary.LittleEndian.Uint32(b[20:24]) != 0 {
		return false
	}
	l := int(binary.LittleEndian.Uint16(b[2:4]))
	return enipHeaderLen+l <= len(b) || len(b) >= 1400 // a large message may span segments
}

// MatchENIPUDP checks a datagram holding exactly one encapsulation message.
func MatchENIPUDP(b []byte) bool {
	return MatchENIP(b) && enipHeaderLen+int(binary.LittleEndian.Uint16(b[2:4])) == len(b)
}

// CIP service codes (CIP appendix A, table ).
const (
	cipMultipleService = 0x0a
	cipReset           = 0x05
	cipStart           = 0x06
	cipStop            = 0x07
	cipUnconnectedSend = 0x52
)

// DecodeENIP decodes one encapsulation message. SendRRData and
// SendUnitData carry a Common Packet Format (EIP §2-6: interface handle 4,
// timeout 2, item count 2, then items of type 2, length 2, data); the
// unconnected data item (0xB2) and connected data item (0xB1, after a
// 2-octet sequence count) hold a CIP message whose service code (the low 7
// bits; bit 7 marks a response, CIP §2-4.1) becomes Result.Function. A
// ListIdentity reply item (0x0C, EIP §2-4.3.2) fills Result.Ident.
func DecodeENIP(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(ENIP)
	if len(b) < enipHeaderLen {
		return errShort
	}
	cmd := binary.LittleEndian.Uint16(b[0:2])
	if !enipCommand(cmd) {
		return errField
	}
	if enipHeaderLen+int(binary.LittleEndian.Uint16(b[2:4])) != len(b) {
		return errLength
	}
	data := b[enipHeaderLen:]
	switch dir {
	case decode.DirToClient:
		r.Response = true
		r.SrcRole, r.DstRole = RoleENIPAdapter, RoleENIPScanner
	default:
		r.Request = true
		r.SrcRole, r.DstRole = RoleENIPScanner, RoleENIPAdapter
	}
	switch cmd {
	case enipListIdentity:
		if len(data) == 0 {
			return nil // request
		}
		r.Request, r.Response = false, true
		r.SrcRole, r.DstRole = RoleENIPAdapter, RoleENIPScanner
		return enipIdentity(data, r)
	case enipSendRRData, enipSendUnitData:
		return enipCPF(data, r)
	}
	return nil
}

func enipCPF(data []byte, r *Result) error {
	if len(data) < 8 {
		return errShort
	}
	count := int(binary.LittleEndian.Uint16(data[6:8]))
	items := data[8:]
	for i := 0; i < count; i++ {
		if len(items) < 4 {
			return errShort
		}
		typ := binary.LittleEndian.Uint16(items[0:2])
		l := int(binary.LittleEndian.Uint16(items[2:4]))
		if len(items) < 4+l {
			return errLength
		}
		item := items[4 : 4+l]
		items = items[4+l:]
		switch typ {
		case 0x00b2:
			if err := cipMessage(item, r, 0); err != nil {
				return err
			}
		case 0x00b1:
			if len(item) < 2 {
				return errShort
			}
			if err := cipMessage(item[2:], r, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// cipMessage reads a CIP request (service, path size in words, path, data)
// or response (service | 0x80, reserved, general status, additional status
// size in words, additional status, data), CIP §2-4.1 and §2-4.2.
// Multiple Service Packet (0x0A, CIP §) and Unconnected Send (0x52,
// CIP §3-5.6.1) requests contain further requests, recorded as extras.
func cipMessage(m []byte, r *Result, depth int) error {
	if len(m) < 2 {
		return errShort
	}
	svc := m[0] & 0x7f
	resp := m[0]&0x80 != 0
	if depth == 0 {
		r.Function = int(svc)
		if resp {
			r.Request, r.Response = false, true
			r.SrcRole, r.DstRole = RoleENIPAdapter, RoleENIPScanner
		} else {
			r.Request, r.Response = true, false
			r.SrcRole, r.DstRole = RoleENIPScanner, RoleENIPAdapter
		}
	} else {
		r.addExtra(int(svc))
	}
	if !resp {
		switch svc {
		case cipReset:
			r.Action = ActCIPReset
		case cipStart:
			r.Action = ActCIPStart
		case cipStop:
			r.Action = ActCIPStop
		}
	}
	if depth > 2 {
		return nil
	}
	if resp {
		// reserved (1), general status (1), additional status size in
		// words (1), additional status, reply data (CIP §2-4.2).
		if len(m) < 4 || len(m) < 4+2*int(m[3]) {
			return errShort
		}
		if svc == cipMultipleService {
			return cipMultiple(m[4+2*int(m[3]):], r, depth)
		}
		return nil
	}
	pw := int(m[1]) * 2
	if len(m) < 2+pw {
		return errLength
	}
	body := m[2+pw:]
	switch svc {
	case cipUnconnectedSend:
		// priority/tick (1), timeout ticks (1), message size (2), message.
		if len(body) < 4 {
			return errShort
		}
		sz := int(binary.LittleEndian.Uint16(body[2:4]))
		if len(body) < 4+sz {
			return errLength
		}
		return cipMessage(body[4:4+sz], r, depth+1)
	case cipMultipleService:
		return cipMultiple(body, r, depth)
	}
	return nil
}

// cipMultiple walks a Multiple Service Packet request or reply body
// (CIP § ): number of services (2), offsets (2 each, from the count
// field), then the embedded requests or replies.
func cipMultiple(body []byte, r *Result, depth int) error {
	if len(body) < 2 {
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(body[0:2]))
	if len(body) < 2+2*n {
		return errLength
	}
	for i := 0; i < n; i++ {
		off := int(binary.LittleEndian.Uint16(body[2+2*i:]))
		end := len(body)
		if i+1 < n {
			end = int(binary.LittleEndian.Uint16(body[4+2*i:]))
		}
		if off < 2+2*n || off > end || end > len(body) {
			return errField
		}
		m := body[off:end]
		if len(m) >= 2 {
			if svc := m[0] & 0x7f; !cipNests(svc) {
				// A plain embedded service (no action, nothing nested):
				// what cipMessage does for it, without the call.
				r.addExtra(int(svc))
				if depth+1 > 2 {
					continue
				}
				if m[0]&0x80 != 0 {
					if len(m) < 4 || len(m) < 4+2*int(m[3]) {
						return errShort
					}
				} else if len(m) < 2+int(m[1])*2 {
					return errLength
				}
				continue
			}
		}
		if err := cipMessage(m, r, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// cipNests reports whether cipMessage does more for service svc than
// record it and check its length: an action (reset, start, stop) or
// embedded messages (Multiple Service Packet, Unconnected Send).
func cipNests(svc byte) bool {
	switch svc {
	case cipReset, cipStart, cipStop, cipMultipleService, cipUnconnectedSend:
		return true
	}
	return false
}

// enipIdentity reads a ListIdentity reply: item count (2) then the
// identity item (type 0x0C): encapsulation version (2), socket address
// (16, big-endian), vendor id (2), device type (2), product code (2),
// revision major and minor (1 each), status (2), serial number (4),
// product name (short string: length 1 + octets), state (1) (EIP
// §2-4.3.2, table 2-4.4).
func enipIdentity(d []byte, r *Result) error {
	if len(d) < 6 {
		return errShort
	}
	if binary.LittleEndian.Uint16(d[2:4]) != 0x000c {
		return nil
	}
	l := int(binary.LittleEndian.Uint16(d[4:6]))
	it := d[6:]
	if len(it) < l || l < 33 {
		return errLength
	}
	it = it[:l]
	r.Ident.VendorID = int(binary.LittleEndian.Uint16(it[18:20]))
	r.Ident.DeviceType = int(binary.LittleEndian.Uint16(it[20:22]))
	r.Ident.ProductCode = int(binary.LittleEndian.Uint16(it[22:24]))
	major, minor := it[24], it[25]
	serial := binary.LittleEndian.Uint32(it[28:32])
	nl := int(it[32])
	if len(it) < 33+nl {
		return errLength
	}
	r.Ident.Name = string(it[33 : 33+nl])
	r.Ident.Model = r.Ident.Name
	r.Ident.Firmware = strconv.Itoa(int(major)) + "." + strconv.Itoa(int(minor))
	r.Ident.Serial = "0x" + strconv.FormatUint(uint64(serial), 16)
	r.HasIdent = true
	return nil
}
