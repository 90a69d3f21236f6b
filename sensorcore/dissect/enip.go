package dissect

import (
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: ENIP, Name: "enip", Title: "EtherNet/IP (CIP)", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{44818}, Match: MatchENIP, Len: ENIPLen, Decode: DecodeENIP},
		UDP:        &UDPProtocol{Ports: []uint16{44818}, Match: MatchENIPUDP, Decode: DecodeENIP},
		Functions:  lookup(&cipServices),
		ClientRole: "EtherNet/IP scanner", ServerRole: "EtherNet/IP adapter",
		// CIP Vol 1 appendix A table.
		Actions: []ActionInfo{
			{Action: ActCIPReset, Name: "CIP reset", Alert: &ActionAlert{Rule: "cip-reset", Severity: "high", Title: "CIP reset",
				Text: "A scanner sent a CIP Reset service."}},
			{Action: ActCIPStart, Name: "CIP start", Alert: &ActionAlert{Rule: "cip-start", Severity: "high", Title: "CIP start",
				Text: "A scanner sent a CIP Start service."}},
			{Action: ActCIPStop, Name: "CIP stop", Alert: &ActionAlert{Rule: "cip-stop", Severity: "critical", Title: "CIP stop",
				Text: "A scanner sent a CIP Stop service."}},
			// The Non-Volatile Storage object (class 0xA1) is how
			// ControlFLASH updates Rockwell devices: Update (0x4B) starts
			// an update, Transfer (0x4D) carries the image a chunk at a
			// time.
			{Action: ActCIPFirmware, Name: "CIP firmware transfer", Alert: &ActionAlert{Rule: "cip-firmware-transfer", Severity: "critical",
				Title: "CIP firmware transfer", Text: "A host sent firmware to a CIP device (Non-Volatile Storage object update or transfer)."}},
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
	if c == enipSendUnitData { // connected messaging: most of the traffic
		return true
	}
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
//
// A request and its reply share the encapsulation header's sender context
// (SendRRData, EIP §2-3.1) or the connected item's sequence count
// (SendUnitData, EIP §2-6.3.3): Result.Txn. A reply's general status is
// Result.Status.
func DecodeENIP(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(ENIP)
	// the CIP group (groupCIP) is marked written where it is: a reply's
	// data, a request's path, an identity request; a PDU without them
	// (a Multiple Service Packet request, most often) leaves it clean
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
		if len(b) == enipHeaderLen {
			return nil // request
		}
		r.Request, r.Response = false, true
		r.SrcRole, r.DstRole = RoleENIPAdapter, RoleENIPScanner
		return enipIdentity(b[enipHeaderLen:], r)
	case enipSendRRData:
		// the sender context, folded to 31 bits
		r.Txn = int(binary.LittleEndian.Uint64(b[12:20]) * 0x9e3779b97f4a7c15 >> 33)
		return enipCPF(b, r)
	case enipSendUnitData:
		return enipCPF(b, r)
	}
	return nil
}

// enipCPF reads the common packet format in the data of the
// encapsulation message msg (after its 24-octet header: indexed from the
// message's start, the data needs no slice of its own).
func enipCPF(msg []byte, r *Result) error {
	if len(msg) < enipHeaderLen+8 {
		return errShort
	}
	count := int(binary.LittleEndian.Uint16(msg[enipHeaderLen+6 : enipHeaderLen+8]))
	// the items are walked by unsigned offsets, which the compiler
	// proves in bounds after the length checks
	off := uint(enipHeaderLen + 8)
	for range count {
		if off+4 > uint(len(msg)) {
			return errShort
		}
		h := msg[off : off+4 : off+4] // type (2), length (2)
		typ, end := uint16(h[0])|uint16(h[1])<<8, off+4+(uint(h[2])|uint(h[3])<<8)
		if end > uint(len(msg)) {
			return errLength
		}
		switch typ {
		case 0x00b2:
			if err := cipMessage(msg[off+4:end], r, 0); err != nil {
				return err
			}
		case 0x00b1:
			if end-off < 6 {
				return errShort
			}
			r.Txn = int(msg[off+4]) | int(msg[off+5])<<8
			if err := cipMessage(msg[off+6:end], r, 0); err != nil {
				return err
			}
		}
		off = end
	}
	return nil
}

// cipMessage reads a CIP request (service, path size in words, path, data)
// or response (service | 0x80, reserved, general status, additional status
// size in words, additional status, data), CIP §2-4.1 and §2-4.2.
// Multiple Service Packet (0x0A, CIP §) and Unconnected Send (0x52,
// CIP §3-5.6.1) requests contain further requests, recorded as extras
// (and, for the operations log, as CIPServices). The request path is read
// when the operations log wants it, and always for the services alerts
// and the inventory need: Get_Attributes_All (the Identity object's
// reply describes the device) and the Non-Volatile Storage object's
// services (firmware transfer).
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
		data := m[4+2*int(m[3]):]
		if depth == 0 {
			r.writes(groupCIP)
			r.Status, r.ReplyData = int(m[2]), data
		}
		if svc == cipMultipleService {
			return cipMultiple(data, r, depth, depth+1 <= 2)
		}
		return nil
	}
	pw := int(m[1]) * 2
	if len(m) < 2+pw {
		return errLength
	}
	if r.Log || cipPathWanted(svc, m[2:2+pw]) {
		cipRequest(svc, m[2:2+pw], r, depth)
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
		// with the operations log on, every service's path is read (it
		// is the log's), so the plain walk, which would stop at the
		// first, is not tried for each
		return cipMultiple(body, r, depth, depth+1 <= 2 && !r.Log)
	}
	return nil
}

// cipPathWanted reports whether a request's path matters beyond the
// operations log: Get_Attributes_All (to the Identity object, maybe) and
// the Non-Volatile Storage object's services. Object-specific codes
// 0x4B-0x4F are common (the Logix tag services), so only a path that
// starts with the NVS class is wanted.
func cipPathWanted(svc byte, path []byte) bool {
	switch {
	case svc == cipGetAttributesAll:
		return true
	case svc >= cipNVSUpdate && svc <= cipNVSLast:
		return cipNVSPath(path)
	}
	return false
}

// cipNVSPath reports whether a request path starts with the NVS class: an
// 8-bit class segment (0x20 0xA1) or a 16-bit one (0x21, pad, 0x00A1).
func cipNVSPath(path []byte) bool {
	switch {
	case len(path) >= 2 && path[0] == 0x20:
		return path[1] == cipClassNVS
	case len(path) >= 4 && path[0] == 0x21:
		return path[2] == cipClassNVS && path[3] == 0
	}
	return false
}

// CIP services and objects the rules and the inventory look at.
const (
	cipGetAttributesAll = 0x01
	cipClassIdentity    = 0x01
	cipClassNVS         = 0xa1 // Non-Volatile Storage object (vendor specific)
	cipNVSUpdate        = 0x4b // Update: starts a firmware update
	cipNVSLast          = 0x4f // Transfer (0x4D) and the object's other services
)

// cipRequest records a request's path: on the Result at depth 0, as an
// embedded CIPService below; and flags what it does.
//
// An embedded request's path is read straight into its slot of the
// services array (no copy of the service from call to call).
func cipRequest(svc byte, path []byte, r *Result, depth int) {
	var top CIPService
	s := &top
	if depth > 0 {
		if slot := r.serviceSlot(); slot != nil {
			s = slot
		}
	}
	cipPath(path, s)
	s.Service = svc
	if depth == 0 {
		r.writes(groupCIP)
		r.Class, r.Instance, r.Attribute, r.Tag = s.Class, s.Instance, s.Attribute, s.Tag
	}
	switch {
	case svc == cipGetAttributesAll && s.Class == cipClassIdentity:
		r.writes(groupCIP)
		r.IdentityRequest = true
	case s.Class == cipClassNVS && svc >= cipNVSUpdate && svc <= cipNVSLast:
		r.Action = ActCIPFirmware
	}
}

// cipPath reads the logical and symbolic segments of an EPATH (CIP Vol 1
// appendix C-1.4): logical segments 001TTTFF (type 0 class, 1 instance, 4
// attribute; format 0 8-bit, 1 16-bit and 2 32-bit, both after a pad
// octet), the ANSI extended symbol segment (0x91, length, name, padded
// to even), and port segments, which are skipped. Anything else ends the
// walk. It sets all of s but its Service.
func cipPath(p []byte, s *CIPService) {
	// The commonest paths, an 8-bit class and instance segment (0x20,
	// 0x24) and maybe an 8-bit attribute segment (0x30), are read at once
	// (the operations log reads every request's path: the walk cost
	// about 80 instructions per path, this a tenth of that).
	switch {
	case len(p) == 4 && p[0] == 0x20 && p[2] == 0x24:
		s.Class, s.Instance, s.Attribute, s.Tag = int32(p[1]), int32(p[3]), -1, nil
		return
	case len(p) == 6 && p[0] == 0x20 && p[2] == 0x24 && p[4] == 0x30:
		s.Class, s.Instance, s.Attribute, s.Tag = int32(p[1]), int32(p[3]), int32(p[5]), nil
		return
	}
	cipPathSegments(p, s)
}

// cipPathSegments reads the segments of the path p one by one into s
// (cipPath).
func cipPathSegments(p []byte, s *CIPService) {
	s.Class, s.Instance, s.Attribute, s.Tag = -1, -1, -1, nil
	for len(p) >= 2 {
		seg := p[0]
		switch {
		case seg&0xe0 == 0x20: // logical segment
			var v uint32
			var n int
			switch seg & 0x03 {
			case 0:
				v, n = uint32(p[1]), 2
			case 1:
				if len(p) < 4 {
					return
				}
				v, n = uint32(binary.LittleEndian.Uint16(p[2:4])), 4
			case 2:
				if len(p) < 6 {
					return
				}
				v, n = binary.LittleEndian.Uint32(p[2:6]), 6
			default:
				return
			}
			switch (seg >> 2) & 0x07 {
			case 0:
				s.Class = int32(v & 0x7fffffff)
			case 1:
				s.Instance = int32(v & 0x7fffffff)
			case 4:
				s.Attribute = int32(v & 0x7fffffff)
			}
			p = p[n:]
		case seg == 0x91: // ANSI extended symbol
			l := int(p[1])
			if len(p) < 2+l {
				return
			}
			if s.Tag == nil {
				s.Tag = p[2 : 2+l]
			}
			p = p[2+l+l&1:]
		case seg&0xe0 == 0x00: // port segment
			n := 2
			if seg&0x10 != 0 { // extended link address: size, address, pad
				n = 2 + int(p[1]) + int(p[1])&1
			}
			if seg&0x0f == 0x0f {
				n += 2
			}
			if len(p) < n {
				return
			}
			p = p[n:]
		default:
			return
		}
	}
}

// cipMultiple walks a Multiple Service Packet request or reply body
// (CIP § ): number of services (2), offsets (2 each, from the count
// field, so each service ends where the next begins and the last at the
// body's end), then the embedded requests or replies. With plain set,
// cipPlainServices records the plain services (most are); the others,
// and all of them without it, go through cipMessage. Below depth 2
// cipMessage only records them, so the callers set plain down to there
// (and for requests only without the operations log, which reads every
// request's path).
func cipMultiple(body []byte, r *Result, depth int, plain bool) error {
	if len(body) < 2 {
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(body[0:2]))
	if len(body) < 2+2*n {
		return errLength
	}
	kinds, logged := &cipKinds[0], false // logged: cipLoggedRequests applies
	if r.Log {
		kinds, logged = &cipKinds[1], depth+1 <= 2
	}
	for i := 0; i < n; i++ {
		if plain {
			// room in Extra for the services left (up to maxExtra), so
			// that cipPlainServices need not grow it: usually one growth
			// per packet, or none
			if room := min(n-i, maxExtra-len(r.Extra)); cap(r.Extra)-len(r.Extra) < room {
				r.Extra = slices.Grow(r.Extra, room)
			}
			if i = cipPlainServices(body, i, n, r, kinds); i == n {
				return nil
			}
		}
		if logged {
			if i = cipLoggedRequests(body, i, n, r, depth); i == n {
				return nil
			}
		}
		off := int(binary.LittleEndian.Uint16(body[2+2*i:]))
		end := len(body)
		if i+1 < n {
			end = int(binary.LittleEndian.Uint16(body[4+2*i:]))
		}
		if off < 2+2*n || off > end || end > len(body) {
			return errField
		}
		if err := cipMessage(body[off:end], r, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// cipLoggedRequests records, for the operations log, the requests of a
// Multiple Service Packet body (n of them) from the i-th on that do
// nothing but name their object (no action, no nested message): their
// codes in Extra and their paths through cipRequest, which is what
// cipMessage would do for them, without its call and its tests of every
// other case. It returns the index of the first one it leaves to
// cipMessage (n when none). The offsets are read as in cipPlainRun.
func cipLoggedRequests(body []byte, i, n int, r *Result, depth int) int {
	first := uint(2 + 2*n) // where the services begin
	if uint(len(body)) < first || i < 0 || i >= n {
		return i
	}
	offs := body[2+2*i : first]
	off := uint(offs[0]) | uint(offs[1])<<8
	if off < first {
		return i
	}
	ends := offs[2:]
	// at most 65,535 services (the count is 16 bits): the bound tells
	// the compiler that 2*k+1 does not overflow, so the offsets' reads
	// need no bounds checks
	k := 0
	for ; k < 0x10000; k++ {
		end := uint(len(body))
		if 2*k+1 < len(ends) {
			end = uint(ends[2*k]) | uint(ends[2*k+1])<<8
		}
		if end > uint(len(body)) || off > end || int(end)-int(off) < 2 {
			return i + k
		}
		m := body[off:end:end]
		pw := 2 * int(m[1]) // path size in words (CIP §2-4.1)
		if 2+pw > len(m) || cipKinds[0][m[0]] < cipKindNVS {
			return i + k
		}
		r.addExtra(int(m[0]))
		cipRequest(m[0], m[2:2+pw], r, depth+1)
		if 2*k+1 >= len(ends) { // the last service
			return i + k + 1
		}
		off = end
	}
	return i + k
}

// cipPlainServices records the plain services of a Multiple Service
// Packet body (n of them) from the i-th on, and returns the index of the
// first one it leaves to cipMessage (n when none). kinds is cipKinds[0],
// or cipKinds[1] when the operations log is on.
//
// A plain service is a well-formed request or reply that cipMessage would
// only record and length-check (most are: reads and writes of tags and
// attributes, and their replies). Walking them in cipPlainRun's loop,
// without a call per service, costs a few instructions per service
// instead of the call and its re-slicing: each offset is read once (it
// ends one service and starts the next), one table lookup on the first
// octet tells a plain service from one cipMessage must read (an action, a
// wanted path, nested messages), and Extra has room for all of them
// (cipMultiple grew it to hold the services left, or to maxExtra).
func cipPlainServices(body []byte, i, n int, r *Result, kinds *[256]uint8) int {
	first := 2 + 2*n // where the services begin
	if len(body) < first || i < 0 || i >= n {
		return i
	}
	// offs are the offsets of the services from the i-th on: each starts
	// one and ends the one before; the last service ends with the body
	offs := body[2+2*i : first]
	off := uint(offs[0]) | uint(offs[1])<<8
	if off < uint(first) {
		return i
	}
	// Extra's room, which holds the services left or reaches maxExtra:
	// the walk stops when it is full, and cipMessage (through addExtra)
	// leaves the rest unrecorded
	out := r.Extra[len(r.Extra):min(maxExtra, cap(r.Extra))]
	k := cipPlainRun(body, off, offs[2:], out, kinds)
	r.Extra = r.Extra[:len(r.Extra)+k]
	return i + k
}

// cipPlainRun records in out the codes of the plain services from the
// one at off on, whose ends are the 16-bit offsets in ends (the last one
// ends with the body), and returns how many it recorded: up to the first
// service that is not plain, or until out is full.
//
// It is a function of its own, with only the values its loop needs: the
// loop then keeps them all in registers (inlined into cipMultiple, it
// spilled and reloaded a third of them on every service), and the call
// costs once per packet what the registers save per service.
func cipPlainRun(body []byte, off uint, ends []byte, out []int, kinds *[256]uint8) int {
	_ = kinds[0] // one nil check, before the loop
	k := 0
walk:
	for ; k < len(out); k++ {
		end := uint(len(body))
		if 2*k+1 < len(ends) {
			end = uint(ends[2*k]) | uint(ends[2*k+1])<<8
		}
		// the service, indexed after these checks: with the offsets
		// unsigned and the length tested as a difference of ints, the
		// compiler proves the slice non-empty (no mask for its pointer)
		// and its first four octets in bounds. A shorter one is left to
		// cipMessage.
		if end > uint(len(body)) || off > end || int(end)-int(off) < 4 {
			break
		}
		s := body[off:end:end]
		switch kinds[s[0]] {
		case cipKindReply:
			// reserved, general status, additional status size in
			// words, additional status (CIP §2-4.2)
			if 4+2*int(s[3]) > len(s) {
				break walk
			}
		case cipKindNVS:
			// path size in words, path (CIP §2-4.1); an NVS service
			// code whose path may start with the NVS class (an 8-bit
			// class segment to class 0xA1, or any 16-bit class segment)
			// is left to cipMessage, which reads the path
			if 2+2*int(s[1]) > len(s) || s[2] == 0x20 && s[3] == cipClassNVS || s[2] == 0x21 {
				break walk
			}
		case cipKindRequest:
			if 2+2*int(s[1]) > len(s) {
				break walk
			}
		default:
			break walk
		}
		out[k] = int(s[0] & 0x7f)
		if 2*k+1 >= len(ends) { // the last service
			k++
			break
		}
		off = end
	}
	return k
}

// Kinds of embedded CIP message, by the first octet (service code and
// response bit), for cipPlainServices. cipPlainRun's switch tests them in
// this order: the commonest first (replies, and the Logix tag services,
// whose codes are the NVS object's).
// The request kinds come last (cipMultiple tests kind >= cipKindNVS).
const (
	cipKindOther   = iota // cipMessage reads it: an action, nested messages, a wanted path
	cipKindReply          // a reply other than a Multiple Service Packet's
	cipKindNVS            // a request with a service code of the Non-Volatile Storage object: its path says
	cipKindRequest        // a request whose path nothing but the operations log reads
)

// cipKinds is every first octet's kind: [0] without the operations log,
// [1] with it (which reads every request's path).
var cipKinds = func() (k [2][256]uint8) {
	for svc := range 0x80 {
		k[0][svc], k[0][0x80|svc] = cipKindRequest, cipKindReply
		k[1][svc], k[1][0x80|svc] = cipKindOther, cipKindReply
	}
	for _, svc := range []int{cipReset, cipStart, cipStop, cipMultipleService, cipUnconnectedSend, cipGetAttributesAll} {
		k[0][svc] = cipKindOther
	}
	for svc := cipNVSUpdate; svc <= cipNVSLast; svc++ {
		k[0][svc] = cipKindNVS
	}
	k[0][0x80|cipMultipleService], k[1][0x80|cipMultipleService] = cipKindOther, cipKindOther
	return k
}()

// ParseCIPIdentity reads the reply to Get_Attributes_All on the Identity
// object (CIP Vol 1 §5A-2, instance attributes 1-7 in order): vendor id
// (UINT), device type (UINT), product code (UINT), revision (major and
// minor USINT), status (WORD), serial number (UDINT) and product name
// (SHORT_STRING); further attributes may follow. It fills r.Ident as a
// ListIdentity reply does. The caller pairs the reply with its request
// (the reply does not name the object).
func ParseCIPIdentity(d []byte, r *Result) error {
	if len(d) < 15 {
		return errShort
	}
	nl := int(d[14])
	if len(d) < 15+nl {
		return errLength
	}
	r.WriteIdent().VendorID = int(binary.LittleEndian.Uint16(d[0:2]))
	r.WriteIdent().DeviceType = int(binary.LittleEndian.Uint16(d[2:4]))
	r.WriteIdent().ProductCode = int(binary.LittleEndian.Uint16(d[4:6]))
	r.WriteIdent().Firmware = strconv.Itoa(int(d[6])) + "." + strconv.Itoa(int(d[7]))
	r.WriteIdent().Serial = "0x" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(d[10:14])), 16)
	r.WriteIdent().Name = string(d[15 : 15+nl])
	r.WriteIdent().Model = r.Ident.Name
	r.HasIdent = true
	return nil
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
	r.WriteIdent().VendorID = int(binary.LittleEndian.Uint16(it[18:20]))
	r.WriteIdent().DeviceType = int(binary.LittleEndian.Uint16(it[20:22]))
	r.WriteIdent().ProductCode = int(binary.LittleEndian.Uint16(it[22:24]))
	major, minor := it[24], it[25]
	serial := binary.LittleEndian.Uint32(it[28:32])
	nl := int(it[32])
	if len(it) < 33+nl {
		return errLength
	}
	r.WriteIdent().Name = string(it[33 : 33+nl])
	r.WriteIdent().Model = r.Ident.Name
	r.WriteIdent().Firmware = strconv.Itoa(int(major)) + "." + strconv.Itoa(int(minor))
	r.WriteIdent().Serial = "0x" + strconv.FormatUint(uint64(serial), 16)
	r.HasIdent = true
	return nil
}
