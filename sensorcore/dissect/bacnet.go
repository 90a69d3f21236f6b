package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: BACnet, Name: "bacnet", Title: "BACnet/IP", Industrial: true,
		UDP:        &UDPProtocol{Ports: []uint16{47808}, Match: MatchBACnet, Decode: DecodeBACnet},
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
	bacWriteProperty     = 15 // confirmed (§15.9)
	bacReinitialize      = 20 // confirmed (§16.4)
	bacDeviceCommControl = 17 // confirmed (§16.1)
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
		r.Request = true
		r.SrcRole, r.DstRole = RoleBACnetClient, RoleBACnetDevice
		switch a[i] {
		case bacWriteProperty:
			r.Action = ActBACnetWrite
		case bacReinitialize:
			r.Action = ActBACnetReinit
		}
	case 1: // Unconfirmed-Request (§20.1.3)
		r.Function = int(a[1])
		r.Request = true
		if a[1] == bacIAm {
			r.Request, r.Response = false, true
			r.SrcRole = RoleBACnetDevice
			return bacnetIAm(a[2:], r)
		}
		if a[1] == bacWhoIs {
			r.SrcRole = RoleBACnetClient
		}
	case 2, 5: // SimpleACK (§20.1.4), Error (§20.1.7)
		if len(a) < 3 {
			return errShort
		}
		r.Function = int(a[2])
		r.Response = true
		r.SrcRole, r.DstRole = RoleBACnetDevice, RoleBACnetClient
	case 3: // ComplexACK (§20.1.5)
		i := 2
		if a[0]&0x08 != 0 {
			i = 4
		}
		if len(a) <= i {
			return errShort
		}
		r.Function = int(a[i])
		r.Response = true
		r.SrcRole, r.DstRole = RoleBACnetDevice, RoleBACnetClient
	case 4, 6, 7: // SegmentACK, Reject, Abort: no service choice
		r.Response = true
	default:
		return errField
	}
	return nil
}

// bacnetIAm reads I-Am-Request (§16.1.1.1, encoded per §20.2): object
// identifier (application tag 12, 4 octets: 10-bit type, 22-bit instance),
// max APDU (unsigned), segmentation (enumerated), vendor id (unsigned).
func bacnetIAm(p []byte, r *Result) error {
	if len(p) < 5 || p[0] != 0xc4 {
		return errField
	}
	oid := binary.BigEndian.Uint32(p[1:5])
	r.Ident.Instance = int(oid & 0x3fffff)
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
			r.Ident.VendorID = v
		}
		p = p[1+l:]
	}
	r.HasIdent = true
	return nil
}
