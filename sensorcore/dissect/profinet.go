package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: PNDCP, Name: "profinet_dcp", Title: "PROFINET DCP", Industrial: true,
		L2:         &L2Protocol{EtherTypes: []uint16{decode.EtherTypePROFINET}, Decode: DecodePNDCP},
		Functions:  lookup(&pndcpServices),
		ClientRole: "PROFINET DCP client", ServerRole: "PROFINET device",
		// IEC 61158-6-10 §4.3.1: a Set writes a device's IP suite or
		// NameOfStation (or resets it to factory settings); done from
		// anything but the commissioning tool it re-addresses a running
		// device, and its IO controller loses it.
		Actions: []ActionInfo{
			{Action: ActPNDCPSet, Name: "PROFINET DCP set", Alert: &ActionAlert{Rule: "profinet-dcp-set", Severity: "high", Title: "PROFINET DCP set",
				Text: "A host set a PROFINET device's address, name or settings with DCP (re-addressing it)."}},
		}})
}

// PROFINET DCP (Discovery and basic Configuration Protocol), IEC
// 61158-6-10 §4.3 ("61158"), carried directly in Ethernet frames of
// EtherType 0x8892 behind a 2-octet frame id: 0xFEFC Hello, 0xFEFD Get
// and Set (unicast), 0xFEFE Identify request (multicast), 0xFEFF
// Identify response. Other frame ids are cyclic real-time data, not DCP.

// DCP frame ids and services (61158 §4.3.1.3).
const (
	pnFrameHello    = 0xfefc
	pnFrameGetSet   = 0xfefd
	pnFrameIdentReq = 0xfefe
	pnFrameIdentRes = 0xfeff
	pndcpGet        = 3
	pndcpSet        = 4
	pndcpIdentify   = 5
	pndcpHello      = 6
)

// pndcpServices names DCP service ids.
var pndcpServices = names{pndcpGet: "Get", pndcpSet: "Set", pndcpIdentify: "Identify", pndcpHello: "Hello"}

// DecodePNDCP decodes one DCP PDU: frame id (2), service id (1), service
// type (1: bit 0 set in a response, 5 "request not supported"), Xid (4),
// response delay or reserved (2), DCP data length (2), then blocks of
// option (1), suboption (1), block length (2) and data, each padded to an
// even length. Identify responses and Set requests carry BlockInfo or
// BlockQualifier (2) before a block's data. The service id is
// Result.Function and the Xid pairs a request with its response
// (Result.Txn). An Identify request is usually multicast and answered by
// any number of devices: its responses are then notifications (a device
// announcing itself), as is a Hello; an Identify response or Hello fills
// Result.Ident (NameOfStation, vendor and device id, type of station),
// Station and StationIP. A Set request sets ActPNDCPSet, with the name
// or address it writes in Station and StationIP.
func DecodePNDCP(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(PNDCP)
	r.writes(groupStation)
	if len(b) < 2 {
		return errShort
	}
	frame := binary.BigEndian.Uint16(b[0:2])
	if frame < pnFrameHello || frame > pnFrameIdentRes {
		return ErrNoPDU // cyclic real-time data or alarms, not DCP
	}
	if len(b) < 12 {
		return errShort
	}
	svc, typ := b[2], b[3]
	xid := binary.BigEndian.Uint32(b[4:8])
	dl := int(binary.BigEndian.Uint16(b[10:12]))
	if len(b) < 12+dl {
		return errLength
	}
	if svc < pndcpGet || svc > pndcpHello {
		return errField
	}
	r.Function = int(svc)
	response := typ&0x01 != 0
	switch {
	case svc == pndcpHello:
		r.Response, r.Notification = true, true
		r.SrcRole, r.DstRole = ServerRole(PNDCP), ClientRole(PNDCP)
	case svc == pndcpIdentify && response:
		// answers its request when that was sent to the device alone,
		// else the device announces itself
		r.Response, r.Notification, r.Txn, r.Status = true, true, int(xid&0x7fffffff), 0
		r.SrcRole, r.DstRole = ServerRole(PNDCP), ClientRole(PNDCP)
	case response:
		r.Response, r.Txn, r.Status = true, int(xid&0x7fffffff), 0
		if typ != 1 {
			r.Status = int(typ) // 5: request not supported
		}
		r.SrcRole, r.DstRole = ServerRole(PNDCP), ClientRole(PNDCP)
	default:
		r.Request, r.Txn = true, int(xid&0x7fffffff)
		r.SrcRole, r.DstRole = ClientRole(PNDCP), ServerRole(PNDCP)
		if svc == pndcpSet {
			r.Action = ActPNDCPSet
		}
	}
	// Blocks carry a 2-octet BlockInfo (responses) or BlockQualifier (Set
	// requests) before their data; Identify filters and Get lists do not.
	info := response || svc == pndcpHello || svc == pndcpSet
	if svc == pndcpGet && !response {
		return nil // a list of option/suboption pairs
	}
	blocks := b[12 : 12+dl]
	for len(blocks) > 0 {
		if len(blocks) < 4 {
			return errLength
		}
		opt, sub := blocks[0], blocks[1]
		bl := int(binary.BigEndian.Uint16(blocks[2:4]))
		if len(blocks) < 4+bl {
			return errLength
		}
		data := blocks[4 : 4+bl]
		if n := 4 + bl + bl&1; n <= len(blocks) {
			blocks = blocks[n:]
		} else {
			blocks = nil
		}
		if info && !(svc == pndcpSet && response) {
			if len(data) < 2 {
				continue
			}
			data = data[2:]
		}
		if svc == pndcpIdentify && !response {
			continue // a filter names what is searched for, not the sender
		}
		pndcpBlock(opt, sub, data, r)
	}
	if r.Notification && (len(r.Station) > 0 || r.Ident.VendorID != 0) {
		r.WriteIdent().Name = string(r.Station)
		r.HasIdent = true
	}
	return nil
}

// pndcpBlock reads the blocks that describe a device (61158 §4.3.1.4):
// IP parameter (option 1 suboption 2: IP address, mask, gateway),
// DeviceVendorValue (2/1: type of station), NameOfStation (2/2) and
// DeviceID (2/3: vendor id, device id).
func pndcpBlock(opt, sub byte, data []byte, r *Result) {
	switch {
	case opt == 1 && sub == 2 && len(data) >= 12:
		copy(r.StationIP[:], data[:12])
		r.HasStationIP = true
	case opt == 2 && sub == 1:
		r.WriteIdent().Model = string(data)
	case opt == 2 && sub == 2:
		// padded with NULs by some devices
		for len(data) > 0 && data[len(data)-1] == 0 {
			data = data[:len(data)-1]
		}
		r.Station = data
	case opt == 2 && sub == 3 && len(data) >= 4:
		r.WriteIdent().VendorID = int(binary.BigEndian.Uint16(data[0:2]))
		r.WriteIdent().DeviceID = int(binary.BigEndian.Uint16(data[2:4]))
	}
}
