package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: BACnet, Name: "bacnet", Title: "BACnet/IP", Industrial: true,
		UDP:        &UDPProtocol{Ports: []uint16{47808}, Match: MatchBACnet, Decode: DecodeBACnet},
		Functions:  lookup(&bacnetConfirmed),
		ClientRole: "BACnet client", ServerRole: "BACnet device",
		Actions: []ActionInfo{
			{Action: ActBACnetWrite, Name: "BACnet write-property"},
			{Action: ActBACnetReinit, Name: "BACnet reinitialize-device"},
		}})
}

// BACnet/IP per ANSI/ASHRAE 135-2020 ("135"): BVLC (Annex J.2), NPDU
// (clause 6.2), APDU (clause 20.1).

// BACnet service choices used by rules and identity (135 §21).
const (
	bacIAm               = 0  // unconfirmed (§16.1)
	bacWhoIs             = 8  // unconfirmed (§16.10)
	bacConfCOV           = 1  // confirmed COV notification (§13.6)
	bacConfEvent         = 2  // confirmed event notification (§13.8)
	bacSubscribeCOV      = 5  // confirmed (§13.14)
	bacAtomicReadFile    = 6  // confirmed (§14.1)
	bacAtomicWriteFile   = 7  // confirmed (§14.2)
	bacDeleteObject      = 11 // confirmed (§15.4)
	bacReadProperty      = 12 // confirmed (§15.5)
	bacRPM               = 14 // ReadPropertyMultiple, confirmed (§15.7)
	bacWriteProperty     = 15 // confirmed (§15.9)
	bacWPM               = 16 // WritePropertyMultiple, confirmed (§15.10)
	bacDeviceCommControl = 17 // confirmed (§16.1)
	bacReinitialize      = 20 // confirmed (§16.4)
	bacReadRange         = 26 // confirmed (§15.8)
)

// MatchBACnet checks the BVLC header (J.2): type 0x81, a function 0x00-0x0C
// and a length equal to the datagram's.
func MatchBACnet(b []byte) bool {
	return len(b) >= 4 && b[0] == 0x81 && b[1] <= 0x0c && int(binary.BigEndian.Uint16(b[2:4])) == len(b)
}

// DecodeBACnet decodes one BVLC message. Original-Unicast-NPDU (0x0A),
// Original-Broadcast-NPDU (0x0B), Distribute-Broadcast-To-Network (0x09)
// and Forwarded-NPDU (0x04, with a 6-octet original address) carry an NPDU.
// The NPDU (§6.2.2) is version 1, control (bit 7 network-layer message, bit
// 5 DNET present, bit 3 SNET present), optional addresses and hop count.
// APDU types (§20.1.1): 0 confirmed request (service choice after 3 or 5
// header octets), 1 unconfirmed request (octet 1), 2 simple-ack (octet 2),
// 3 complex-ack (octet 2 or 4), 5 error (octet 2). The service choice is
// Result.Function. I-Am fills Result.Ident with device instance and vendor
// id.
func DecodeBACnet(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(BACnet)
	if len(b) < 4 || b[0] != 0x81 {
		return errField
	}
	if int(binary.BigEndian.Uint16(b[2:4])) != len(b) {
		return errLength
	}
	var npdu []byte
	switch b[1] {
	case 0x0a, 0x0b, 0x09:
		npdu = b[4:]
	case 0x04:
		if len(b) < 10 {
			return errShort
		}
		npdu = b[10:]
	case 0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x08, 0x0c:
		return nil // BVLL management message, no APDU
	default:
		return errField
	}
	if len(npdu) < 2 || npdu[0] != 0x01 {
		return errField
	}
	ctrl := npdu[1]
	p := npdu[2:]
	if ctrl&0x20 != 0 { // DNET, DLEN, DADR
		if len(p) < 3 || len(p) < 3+int(p[2]) {
			return errShort
		}
		p = p[3+int(p[2]):]
	}
	if ctrl&0x08 != 0 { // SNET, SLEN, SADR
		if len(p) < 3 || len(p) < 3+int(p[2]) {
			return errShort
		}
		p = p[3+int(p[2]):]
	}
	if ctrl&0x20 != 0 { // hop count
		if len(p) < 1 {
			return errShort
		}
		p = p[1:]
	}
	if ctrl&0x80 != 0 {
		return nil // network-layer message (§6.4), no APDU
	}
	return bacnetAPDU(p, r)
}

// bacnetAPDU decodes the APDU (§20.1). A confirmed request and its
// answer (SimpleACK, ComplexACK, Error, Reject, Abort) share the invoke id
// (Result.Txn); an answer's Status is 0 for an ACK, else 65536 + error
// class × 256 + error code (Error), 131072 + reason (Reject) or 196608 +
// reason (Abort). Unconfirmed services a device sends on its own (I-Am,
// I-Have, COV and event notifications) are notifications; the others
// (Who-Is, Who-Has, time synchronisation, write group) are requests that
// nothing answers by invoke id.
func bacnetAPDU(a []byte, r *Result) error {
	if len(a) < 2 {
		return errShort
	}
	switch a[0] >> 4 {
	case 0: // Confirmed-Request (§20.1.2)
		i := 3
		if a[0]&0x08 != 0 {
			i = 5
		}
		if len(a) <= i {
			return errShort
		}
		r.Function = int(a[i])
		r.Txn = int(a[2])
		r.Request = true
		r.SrcRole, r.DstRole = RoleBACnetClient, RoleBACnetDevice
		switch a[i] {
		case bacWriteProperty:
			r.Action = ActBACnetWrite
		case bacReinitialize:
			r.Action = ActBACnetReinit
		}
		if r.Log && a[0]&0x08 == 0 { // the first segment of a segmented request is not read
			bacnetRefs(a[i], a[i+1:], r)
		}
	case 1: // Unconfirmed-Request (§20.1.3)
		r.Function = int(a[1])
		r.Request, r.Unconfirmed = true, true
		switch a[1] {
		case bacIAm:
			r.Request, r.Response, r.Notification = false, true, true
			r.SrcRole = RoleBACnetDevice
			return bacnetIAm(a[2:], r)
		case bacWhoIs:
			r.SrcRole = RoleBACnetClient
		case 1, 2, 3: // I-Have, COV notification, event notification
			r.Request, r.Response, r.Notification = false, true, true
			r.SrcRole = RoleBACnetDevice
		}
		if r.Log && (a[1] == 2 || a[1] == 3) {
			bacnetRefs(a[1]|0x80, a[2:], r)
		}
	case 2, 5: // SimpleACK (§20.1.4), Error (§20.1.7)
		if len(a) < 3 {
			return errShort
		}
		r.Function = int(a[2])
		r.Txn = int(a[1])
		r.Response, r.Status = true, 0
		r.SrcRole, r.DstRole = RoleBACnetDevice, RoleBACnetClient
		if a[0]>>4 == 5 {
			r.Status = 65536 + bacnetError(a[3:])
		}
	case 3: // ComplexACK (§20.1.5)
		i := 2
		if a[0]&0x08 != 0 {
			i = 4
		}
		if len(a) <= i {
			return errShort
		}
		r.Function = int(a[i])
		r.Txn = int(a[1])
		r.Response, r.Status = true, 0
		r.SrcRole, r.DstRole = RoleBACnetDevice, RoleBACnetClient
	case 6, 7: // Reject (§20.1.8), Abort (§20.1.9): no service choice
		if len(a) < 3 {
			return errShort
		}
		r.Txn = int(a[1])
		r.Response = true
		r.Status = 131072 + int(a[2])
		if a[0]>>4 == 7 {
			r.Status = 196608 + int(a[2])
		}
	case 4: // SegmentACK: no service choice
		r.Response = true
	default:
		return errField
	}
	return nil
}

// bacnetError reads an Error-PDU's error class and error code (two
// application-tagged enumerations, §21 "Error"; services whose error
// wraps them in a context tag 0 are read the same way) as class × 256 +
// code.
func bacnetError(p []byte) int {
	var v [2]int
	n := 0
	for n < 2 && len(p) > 0 {
		t, rest, ok := bacnetTag(p)
		if !ok {
			break
		}
		if !t.context && t.num == 9 && len(t.val) <= 2 {
			for _, c := range t.val {
				v[n] = v[n]<<8 | int(c)
			}
			n++
		}
		p = rest
	}
	return v[0]<<8 | v[1]&0xff
}

// bacTag is one BACnet tag (§20.2.1): number, class (context-specific or
// application), opening or closing tag, and its value octets.
type bacTag struct {
	num            uint32
	context        bool
	opening, close bool
	val            []byte
}

// bacnetTag reads the tag at the start of p (§20.2.1: tag number in
// bits 7-4, 15 meaning an extended number in the next octet; bit 3 the
// class; bits 2-0 the length, 5 meaning an extended length of 1, 2 or 4
// more octets, and for context tags 6 opening and 7 closing). An
// application boolean holds its value in the length bits.
func bacnetTag(p []byte) (bacTag, []byte, bool) {
	if len(p) < 1 {
		return bacTag{}, nil, false
	}
	var t bacTag
	b := p[0]
	t.num = uint32(b >> 4)
	t.context = b&0x08 != 0
	lvt := uint32(b & 0x07)
	p = p[1:]
	if t.num == 15 {
		if len(p) < 1 {
			return t, nil, false
		}
		t.num, p = uint32(p[0]), p[1:]
	}
	switch {
	case t.context && lvt == 6:
		t.opening = true
		return t, p, true
	case t.context && lvt == 7:
		t.close = true
		return t, p, true
	case !t.context && t.num == 1: // boolean: the value is lvt
		return t, p, true
	case lvt == 5:
		if len(p) < 1 {
			return t, nil, false
		}
		lvt, p = uint32(p[0]), p[1:]
		switch lvt {
		case 254:
			if len(p) < 2 {
				return t, nil, false
			}
			lvt, p = uint32(binary.BigEndian.Uint16(p)), p[2:]
		case 255:
			if len(p) < 4 {
				return t, nil, false
			}
			lvt, p = binary.BigEndian.Uint32(p), p[4:]
		}
	}
	if uint64(len(p)) < uint64(lvt) {
		return t, nil, false
	}
	t.val = p[:lvt]
	return t, p[lvt:], true
}

// bacnetUint reads an unsigned value of up to 4 octets.
func bacnetUint(v []byte) (uint32, bool) {
	if len(v) == 0 || len(v) > 4 {
		return 0, false
	}
	var n uint32
	for _, c := range v {
		n = n<<8 | uint32(c)
	}
	return n, true
}

// bacnetRefs reads the objects and properties a service names (§15, §13):
// ReadProperty, WriteProperty and ReadRange (object in context tag 0,
// property 1, array index 2); ReadPropertyMultiple and
// WritePropertyMultiple (per object: context tag 0, then in opening tag 1
// property references, context 0 and index 1); SubscribeCOV (object in
// context 1); AtomicReadFile, AtomicWriteFile and DeleteObject (an
// application-tagged object identifier); COV and event notifications
// (the monitored or event object, context tag 2; the unconfirmed ones are
// passed as their choice | 0x80).
func bacnetRefs(svc byte, p []byte, r *Result) {
	ref := BACnetRef{Property: -1, Index: -1}
	have := false
	flush := func() {
		if have {
			r.addRef(ref)
		}
		ref, have = BACnetRef{Property: -1, Index: -1}, false
	}
	setObj := func(v []byte) bool {
		if len(v) != 4 {
			return false
		}
		oid := binary.BigEndian.Uint32(v)
		ref.Type, ref.Instance, have = uint16(oid>>22), oid&0x3fffff, true
		return true
	}
	depth, props := 0, 0
	for len(p) > 0 {
		t, rest, ok := bacnetTag(p)
		if !ok {
			break
		}
		p = rest
		switch {
		case t.opening:
			depth++
			continue
		case t.close:
			depth--
			if depth == 0 && (svc == bacRPM || svc == bacWPM) {
				if props == 0 {
					flush() // an object named without properties
				}
				ref, have, props = BACnetRef{Property: -1, Index: -1}, false, 0
			}
			continue
		}
		switch svc {
		case bacReadProperty, bacWriteProperty, bacReadRange:
			if depth == 0 && t.context {
				switch t.num {
				case 0:
					setObj(t.val)
				case 1:
					if v, ok := bacnetUint(t.val); ok {
						ref.Property = int32(v & 0x3fffff)
					}
				case 2:
					if v, ok := bacnetUint(t.val); ok {
						ref.Index = int32(v & 0x7fffffff)
					}
				}
			}
		case bacRPM, bacWPM:
			switch {
			case depth == 0 && t.context && t.num == 0:
				setObj(t.val)
			case depth == 1 && t.context && t.num == 0 && have:
				if v, ok := bacnetUint(t.val); ok {
					prop := ref
					prop.Property = int32(v & 0x3fffff)
					r.addRef(prop)
					props++
				}
			}
		case bacSubscribeCOV:
			if depth == 0 && t.context && t.num == 1 {
				setObj(t.val)
			}
		case bacAtomicReadFile, bacAtomicWriteFile, bacDeleteObject:
			if depth == 0 && !t.context && t.num == 12 {
				setObj(t.val)
				flush()
				return
			}
		case bacConfCOV, bacConfEvent, 0x80 | 2, 0x80 | 3: // COV and event notifications: the object
			if depth == 0 && t.context && t.num == 2 && setObj(t.val) {
				flush()
				return
			}
		}
	}
	if svc != bacRPM && svc != bacWPM {
		flush()
	}
}

// bacnetIAm reads I-Am-Request (§16.1.1.1, encoded per §20.2): object
// identifier (application tag 12, 4 octets: 10-bit type, 22-bit instance),
// max APDU (unsigned), segmentation (enumerated), vendor id (unsigned).
func bacnetIAm(p []byte, r *Result) error {
	if len(p) < 5 || p[0] != 0xc4 {
		return errField
	}
	oid := binary.BigEndian.Uint32(p[1:5])
	r.WriteIdent().Instance = int(oid & 0x3fffff)
	p = p[5:]
	for i := 0; i < 3; i++ {
		if len(p) < 1 {
			return errShort
		}
		l := int(p[0] & 0x07)
		if l > 4 || len(p) < 1+l {
			return errField
		}
		if i == 2 {
			v := 0
			for _, x := range p[1 : 1+l] {
				v = v<<8 | int(x)
			}
			r.WriteIdent().VendorID = v
		}
		p = p[1+l:]
	}
	r.HasIdent = true
	return nil
}
