package dissect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// dnp3App builds a DNP3 link frame from the master carrying one whole
// application fragment (transport FIR|FIN) with function fc and objects.
func dnp3App(fc byte, objs []byte) []byte {
	return dnp3Frame(0xc4, append([]byte{0xc0, 0xc3, fc}, objs...))
}

// dnp3Resp is dnp3App for an outstation response (IIN 0, 0).
func dnp3Resp(fc byte, objs []byte) []byte {
	return dnp3Frame(0x44, append([]byte{0xc0, 0xc3, fc, 0, 0}, objs...))
}

// crob is a group 12 variation 1 object: code, count 1, on and off time.
func crob(code byte, on, off uint32, status byte) []byte {
	b := []byte{code, 1}
	b = binary.LittleEndian.AppendUint32(b, on)
	b = binary.LittleEndian.AppendUint32(b, off)
	return append(b, status)
}

// TestDNP3Objects: every object header is read with its range, CROBs
// with their points, and a header, range or data that runs past a whole
// fragment is malformed; what cannot be walked (a reserved qualifier, an
// unknown object size) ends the walk without an error.
func TestDNP3Objects(t *testing.T) {
	class := []byte{0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06, 0x3c, 0x01, 0x06}
	twoCROBs := append(append([]byte{0x0c, 0x01, 0x28, 2, 0, 7, 0}, crob(0x41, 100, 200, 0)...), append([]byte{9, 0}, crob(0x04, 0, 0, 0)...)...)
	tests := []struct {
		name     string
		frame    []byte
		headers  string
		controls string
		action   Action
		status   int
		err      error
	}{
		{"class poll", dnp3App(1, class), "60/2/6 all,60/3/6 all,60/4/6 all,60/1/6 all", "", ActNone, -1, nil},
		{"read range", dnp3App(1, []byte{0x1e, 0x01, 0x00, 3, 9, 0x01, 0x02, 0x01, 0x10, 0x00, 0x20, 0x00}), "30/1/0 3-9,1/2/1 16-32", "", ActNone, -1, nil},
		{"select two points", dnp3App(3, twoCROBs), "12/1/40 x2", "7 PULSE_ON CLOSE 100 200,9 LATCH_OFF 0 0", ActDNP3Select, -1, nil},
		{"operate", dnp3App(4, twoCROBs), "12/1/40 x2", "7 PULSE_ON CLOSE 100 200,9 LATCH_OFF 0 0", ActDNP3Operate, -1, nil},
		{"direct operate by range", dnp3App(5, append([]byte{0x0c, 0x01, 0x00, 4, 4}, crob(0x03, 1000, 0, 0)...)), "12/1/0 4-4", "4 LATCH_ON 1000 0", ActDNP3DirectOperate, -1, nil},
		{"direct operate no ack", dnp3App(6, append([]byte{0x0c, 0x01, 0x17, 1, 3}, crob(0x81, 0, 0, 0)...)), "12/1/23 x1", "3 PULSE_ON TRIP 0 0", ActDNP3DirectOperate, -1, nil},
		{"control response failed", dnp3Resp(129, append([]byte{0x0c, 0x01, 0x17, 1, 3}, crob(0x81, 0, 0, 2)...)), "12/1/23 x1", "3 PULSE_ON TRIP 0 0", ActNone, 258, nil},
		{"analog values", dnp3Resp(129, []byte{0x1e, 0x01, 0x00, 0, 1, 1, 10, 0, 0, 0, 1, 20, 0, 0, 0}), "30/1/0 0-1", "", ActNone, 0, nil},
		{"packed binary inputs", dnp3Resp(129, []byte{0x01, 0x01, 0x00, 0, 9, 0xff, 0x03}), "1/1/0 0-9", "", ActNone, 0, nil},
		{"header cut short", dnp3App(1, []byte{0x3c, 0x02}), "", "", ActNone, -1, ErrMalformed},
		{"range cut short", dnp3App(1, []byte{0x1e, 0x01, 0x01, 3, 0}), "", "", ActNone, -1, ErrMalformed},
		{"count past the fragment", dnp3App(1, []byte{0x3c, 0x02, 0x06, 0x3c, 0x03, 0x09, 1, 0}), "60/2/6 all", "", ActNone, -1, ErrMalformed},
		{"data past the fragment", dnp3Resp(129, []byte{0x1e, 0x01, 0x00, 0, 9, 1, 10, 0, 0, 0}), "30/1/0 0-9", "", ActNone, 0, ErrMalformed},
		{"crob cut short", dnp3App(5, append([]byte{0x0c, 0x01, 0x28, 1, 0, 7, 0}, crob(0x41, 0, 0, 0)[:6]...)), "12/1/40 x1", "", ActDNP3DirectOperate, -1, ErrMalformed},
		{"reserved range ends the walk", dnp3App(21, []byte{0x3c, 0x02, 0x06, 0x3c, 0x04, 0xed}), "60/2/6 all,60/4/237 ", "", ActNone, -1, nil},
		{"unknown object size ends the walk", dnp3Resp(129, []byte{0x00, 0xfe, 0x00, 0, 0, 1, 2, 3}), "0/254/0 0-0", "", ActNone, 0, nil},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeDNP3(tc.frame, decode.DirUnknown, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var hs, cs []string
			for _, h := range r.DNP3Headers() {
				s := fmt.Sprintf("%d/%d/%d ", h.Group, h.Variation, h.Qualifier)
				switch h.Range {
				case DNP3RangeStartStop:
					s += fmt.Sprintf("%d-%d", h.Start, h.Stop)
				case DNP3RangeCount:
					s += fmt.Sprintf("x%d", h.Count)
				case DNP3RangeAll:
					s += "all"
				}
				hs = append(hs, s)
			}
			for _, c := range r.DNP3Controls() {
				cs = append(cs, fmt.Sprintf("%d %s %d %d", c.Index, DNP3ControlName(c.Code), c.OnTime, c.OffTime))
			}
			if err == nil && strings.Join(hs, ",") != tc.headers || err == nil && strings.Join(cs, ",") != tc.controls {
				t.Fatalf("headers %q controls %q, want %q %q", strings.Join(hs, ","), strings.Join(cs, ","), tc.headers, tc.controls)
			}
			if r.Action != tc.action || err == nil && r.Status != tc.status {
				t.Fatalf("action %d status %d, want %d %d", r.Action, r.Status, tc.action, tc.status)
			}
		})
	}
	// The first segment of a fragment that continues in the next frame:
	// what runs past the segment is not malformed.
	first := dnp3Frame(0xc4, append([]byte{0x40, 0xc3, 0x01}, 0x1e, 0x01, 0x01, 3))
	if err := DecodeDNP3(first, decode.DirUnknown, &r); err != nil {
		t.Fatalf("a fragment's first segment: %v", err)
	}
}

// TestCIPPaths: request paths (8, 16 and 32-bit logical segments,
// symbolic segments with their pad, port segments) are read into the
// Result and, inside Multiple Service Packet and Unconnected Send, into
// CIPServices; replies pair by sender context or sequence count and carry
// their general status; the Non-Volatile Storage object's update and
// transfer are a firmware transfer wherever they are carried; a
// Get_Attributes_All to the Identity object is marked.
func TestCIPPaths(t *testing.T) {
	readTag := append([]byte{0x4c, 5, 0x91, 7}, "Speed_1\x00\x01\x00"...)
	getSingle := []byte{0x0e, 5, 0x21, 0x00, 0xf5, 0x00, 0x25, 0x00, 0x02, 0x00, 0x30, 0x01}
	nvs := []byte{0x4d, 2, 0x20, 0xa1, 0x24, 0x01, 0xaa, 0xbb}
	nvs16 := []byte{0x4b, 3, 0x21, 0x00, 0xa1, 0x00, 0x24, 0x01}
	writeTag := append([]byte{0x4d, 4, 0x91, 5}, "Valve\x00\xc1\x00\x01\x00\x01"...)
	identity := []byte{0x01, 2, 0x20, 0x01, 0x24, 0x01}
	route := func(inner []byte) []byte {
		b := []byte{0x52, 2, 0x20, 0x06, 0x24, 0x01, 0x07, 0xe9}
		b = binary.LittleEndian.AppendUint16(b, uint16(len(inner)))
		b = append(b, inner...)
		if len(inner)%2 == 1 {
			b = append(b, 0)
		}
		return append(b, 1, 0, 1, 0) // route path: backplane, slot 0
	}
	tests := []struct {
		name     string
		cip      []byte
		top      string
		services string
		action   Action
		identity bool
	}{
		{"symbolic read", readTag, "76 -1/-1/-1 Speed_1", "", ActNone, false},
		{"16-bit class and instance", getSingle, "14 245/2/1 ", "", ActNone, false},
		{"multiple service packet", mspOf(readTag, getSingle, writeTag), "10 2/1/-1 ", "76 -1/-1/-1 Speed_1,14 245/2/1 ,77 -1/-1/-1 Valve", ActNone, false},
		{"firmware transfer", nvs, "77 161/1/-1 ", "", ActCIPFirmware, false},
		{"firmware update, 16-bit class", nvs16, "75 161/1/-1 ", "", ActCIPFirmware, false},
		{"routed firmware transfer", route(nvs), "82 6/1/-1 ", "77 161/1/-1 ", ActCIPFirmware, false},
		{"write tag is no firmware transfer", writeTag, "77 -1/-1/-1 Valve", "", ActNone, false},
		{"routed identity request", route(identity), "82 6/1/-1 ", "1 1/1/-1 ", ActNone, true},
	}
	for _, log := range []bool{false, true} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s log=%v", tc.name, log), func(t *testing.T) {
				r := Result{Log: log}
				if err := DecodeENIP(rrData(tc.cip), decode.DirToServer, &r); err != nil {
					t.Fatal(err)
				}
				if r.Action != tc.action || r.IdentityRequest != tc.identity || r.Txn < 0 {
					t.Fatalf("action %d identity %v txn %d", r.Action, r.IdentityRequest, r.Txn)
				}
				if !log {
					return
				}
				top := fmt.Sprintf("%d %d/%d/%d %s", r.Function, r.Class, r.Instance, r.Attribute, r.Tag)
				var ss []string
				for _, s := range r.CIPServices() {
					ss = append(ss, fmt.Sprintf("%d %d/%d/%d %s", s.Service, s.Class, s.Instance, s.Attribute, s.Tag))
				}
				if top != tc.top || strings.Join(ss, ",") != tc.services {
					t.Fatalf("top %q services %q, want %q %q", top, strings.Join(ss, ","), tc.top, tc.services)
				}
			})
		}
	}
	// The reply echoes the sender context: the same transaction; its
	// general status is the result.
	req, reply := Result{}, Result{}
	DecodeENIP(rrData(getSingle), decode.DirToServer, &req)
	DecodeENIP(rrData([]byte{0x8e, 0, 0x05, 0}), decode.DirToClient, &reply)
	if req.Txn != reply.Txn || reply.Status != 5 || !reply.Response {
		t.Fatalf("request txn %d, reply txn %d status %d", req.Txn, reply.Txn, reply.Status)
	}
	// An Identity reply describes the device.
	d := []byte{1, 0, 0x0e, 0, 0x37, 0, 20, 11, 0x60, 0x30, 0xee, 0xff, 0xc0, 0x00, 17}
	d = append(d, "1756-L61/B LOGIX5"...)
	var id Result
	if err := ParseCIPIdentity(d, &id); err != nil || id.Ident.VendorID != 1 || id.Ident.ProductCode != 0x37 || id.Ident.DeviceType != 14 ||
		id.Ident.Firmware != "20.11" || id.Ident.Serial != "0xc0ffee" || id.Ident.Model != "1756-L61/B LOGIX5" || !id.HasIdent {
		t.Fatalf("identity %+v: %v", id.Ident, err)
	}
	if err := ParseCIPIdentity(d[:20], &id); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a name past the reply: %v", err)
	}
}

// TestS7Objects: read-var items, the block of a download and of a PI
// service, userdata requests and responses told apart by their type
// nibble, and the PLC's mode-transition push: a notification of STOP, not
// malformed.
func TestS7Objects(t *testing.T) {
	var r Result
	r.Log = true
	read := s7pdu(1, []byte{0x04, 2, 0x12, 0x0a, 0x10, 2, 0, 4, 0, 7, 0x84, 0, 0, 0x50, 0x12, 0x0a, 0x10, 1, 0, 1, 0, 0, 0x83, 0, 0, 0x0b}, nil)
	if err := DecodeS7(read, decode.DirToServer, &r); err != nil {
		t.Fatal(err)
	}
	if its := r.S7Items(); len(its) != 2 || its[0] != (S7Item{Area: 0x84, Size: 2, DB: 7, Count: 4, Address: 10}) ||
		its[1] != (S7Item{Area: 0x83, Size: 1, Count: 1, Address: 1, Bit: 3}) {
		t.Fatalf("items %+v", r.S7Items())
	}
	download := s7pdu(1, append([]byte{0x1a, 0, 1, 0, 0, 0, 0, 0, 9}, "_0A00001P\x0d1000500000400"...), nil)
	if err := DecodeS7(download, decode.DirToServer, &r); err != nil || r.Action != ActS7Download || r.Block != (S7Block{'A', 1}) {
		t.Fatalf("download: %v action %d block %+v", err, r.Action, r.Block)
	}
	insert := s7pdu(1, append([]byte{0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0x0a, 1, 0}, "0E00042P\x05_INSE"...), nil)
	if err := DecodeS7(insert, decode.DirToServer, &r); err != nil || r.Block != (S7Block{'E', 42}) || r.Function != 0x28 {
		t.Fatalf("PI insert: %v block %+v", err, r.Block)
	}
	szl := s7pdu(7, []byte{0, 1, 0x12, 4, 0x11, 0x44, 0x01, 0x00}, []byte{0xff, 0x09, 0, 4, 0, 0x1c, 0, 0})
	if err := DecodeS7(szl, decode.DirToServer, &r); err != nil || !r.Request || r.Group != 4 || r.Subfunction != 1 || r.Function != -1 {
		t.Fatalf("read SZL request: %v %+v", err, r)
	}
	// userdata push, function group 0 (mode transition), subfunction 0:
	// the CPU is now in STOP
	push := s7pdu(7, []byte{0, 1, 0x12, 4, 0x11, 0x00, 0x00, 0x01}, []byte{0xff, 0x09, 0, 0})
	if err := DecodeS7(push, decode.DirToClient, &r); err != nil || r.Action != ActS7Stopped || !r.Notification || !r.Response || r.Txn != -1 ||
		r.SrcRole != RoleS7PLC {
		t.Fatalf("mode transition: %v action %d notification %v", err, r.Action, r.Notification)
	}
	run := s7pdu(7, []byte{0, 1, 0x12, 4, 0x11, 0x00, 0x02, 0x02}, []byte{0xff, 0x09, 0, 0})
	if err := DecodeS7(run, decode.DirToClient, &r); err != nil || r.Action != ActNone || S7UserdataName(r.Group, r.Subfunction) != "Mode-transition RUN" {
		t.Fatalf("RUN: %v action %d", err, r.Action)
	}
}

// TestIEC104Pairing: a command in activation and its confirmation share
// a transaction (common address and object address); a negative
// confirmation is an error; monitor-direction data is a notification.
func TestIEC104Pairing(t *testing.T) {
	var act, con, neg, spont Result
	DecodeIEC104(iframe([]byte{45, 1, 6, 0, 3, 0, 0x10, 0x27, 0, 0x81}), decode.DirToServer, &act)
	DecodeIEC104(iframe([]byte{45, 1, 7, 0, 3, 0, 0x10, 0x27, 0, 0x81}), decode.DirToClient, &con)
	DecodeIEC104(iframe([]byte{45, 1, 0x47, 0, 3, 0, 0x10, 0x27, 0, 0x81}), decode.DirToClient, &neg)
	DecodeIEC104(iframe([]byte{13, 2, 3, 0, 3, 0, 1, 0, 0, 0, 0, 0x80, 0x3f, 0, 2, 0, 0, 0, 0, 0x80, 0x3f, 0}), decode.DirToClient, &spont)
	if !act.Request || act.Txn < 0 || act.Address != 10000 || act.Unit != 3 || act.Quantity != 1 || act.Action != ActIEC104Command {
		t.Fatalf("activation %+v", act)
	}
	if !con.Response || con.Txn != act.Txn || con.Status != 0 || neg.Txn != act.Txn || neg.Status != 71 {
		t.Fatalf("confirmation txn %d status %d, negative %d", con.Txn, con.Status, neg.Status)
	}
	if !spont.Notification || spont.Txn != -1 || spont.Quantity != 2 || spont.Address != 1 {
		t.Fatalf("spontaneous %+v", spont)
	}
}

// TestBACnetObjects: the objects and properties of ReadProperty,
// WriteProperty and ReadPropertyMultiple; acks, errors, rejects and
// aborts answer by invoke id.
func TestBACnetObjects(t *testing.T) {
	oid := func(typ, inst uint32) []byte { return binary.BigEndian.AppendUint32(nil, typ<<22|inst) }
	rp := append(append([]byte{1, 0x04, 0x00, 0x05, 0x07, 12, 0x0c}, oid(2, 17)...), 0x19, 85)
	wp := append(append([]byte{1, 0x04, 0x00, 0x05, 0x08, 15, 0x0c}, oid(1, 3)...), 0x19, 85, 0x3e, 0x44, 0x42, 0x28, 0, 0, 0x3f, 0x49, 8)
	rpm := append(append([]byte{1, 0x04, 0x00, 0x05, 0x09, 14, 0x0c}, oid(0, 1)...), 0x1e, 0x09, 85, 0x09, 77, 0x1f, 0x0c)
	rpm = append(append(rpm, oid(8, 1234)...), 0x1e, 0x09, 75, 0x1f)
	tests := []struct {
		name string
		apdu []byte
		refs string
	}{
		{"read property", rp, "2:17/85"},
		{"write property", wp, "1:3/85"},
		{"read property multiple", rpm, "0:1/85,0:1/77,8:1234/75"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{Log: true}
			if err := DecodeBACnet(bvlc(0x0a, tc.apdu), decode.DirToServer, &r); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ref := range r.BACnetRefs() {
				got = append(got, fmt.Sprintf("%d:%d/%d", ref.Type, ref.Instance, ref.Property))
			}
			if strings.Join(got, ",") != tc.refs || r.Txn != int(tc.apdu[4]) {
				t.Fatalf("refs %v txn %d", got, r.Txn)
			}
		})
	}
	answers := []struct {
		name   string
		apdu   []byte
		status int
	}{
		{"simple ack", []byte{1, 0, 0x20, 0x08, 15}, 0},
		{"error", []byte{1, 0, 0x50, 0x08, 15, 0x91, 2, 0x91, 32}, 65536 + 2<<8 + 32},
		{"reject", []byte{1, 0, 0x60, 0x08, 9}, 131072 + 9},
		{"abort", []byte{1, 0, 0x71, 0x08, 4}, 196608 + 4},
	}
	for _, tc := range answers {
		var r Result
		if err := DecodeBACnet(bvlc(0x0a, tc.apdu), decode.DirToClient, &r); err != nil || r.Txn != 8 || r.Status != tc.status || !r.Response {
			t.Errorf("%s: %v txn %d status %d", tc.name, err, r.Txn, r.Status)
		}
	}
}

// pnDCP builds a DCP PDU: frame id, service, type, Xid 7, and blocks.
func pnDCP(frame uint16, svc, typ byte, blocks ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, frame)
	b = append(b, svc, typ, 0, 0, 0, 7, 0, 0, 0, 0)
	for _, bl := range blocks {
		b = append(b, bl...)
		if len(bl)%2 == 1 {
			b = append(b, 0)
		}
	}
	binary.BigEndian.PutUint16(b[10:], uint16(len(b)-12))
	return b
}

// pnBlock builds a DCP block: option, suboption, length, data.
func pnBlock(opt, sub byte, data []byte) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{opt, sub}, uint16(len(data))), data...)
}

// TestPNDCP: an Identify response describes the device (station name,
// vendor and device id, type of station, IP suite); a Set request sets
// its action with the name it writes; a Set answers by Xid; cyclic
// real-time frames are no DCP PDU; a block past the data is malformed.
func TestPNDCP(t *testing.T) {
	ident := pnDCP(0xfeff, 5, 1,
		pnBlock(2, 2, []byte("\x00\x00plc-1\x00")),
		pnBlock(2, 3, []byte{0, 0, 0x00, 0x2a, 0x01, 0x01}),
		pnBlock(2, 1, []byte("\x00\x00S7-300")),
		pnBlock(1, 2, []byte{0, 0, 192, 0, 2, 9, 255, 255, 255, 0, 192, 0, 2, 1}))
	var r Result
	if err := DecodePNDCP(ident, decode.DirUnknown, &r); err != nil {
		t.Fatal(err)
	}
	if string(r.Station) != "plc-1" || r.Ident.Name != "plc-1" || r.Ident.VendorID != 42 || r.Ident.DeviceID != 0x101 || r.Ident.Model != "S7-300" ||
		!r.HasStationIP || r.StationIP != [12]byte{192, 0, 2, 9, 255, 255, 255, 0, 192, 0, 2, 1} || !r.Notification || r.Function != 5 || !r.HasIdent {
		t.Fatalf("identify response %+v", r)
	}
	set := pnDCP(0xfefd, 4, 0, pnBlock(2, 2, []byte("\x00\x01rogue")))
	if err := DecodePNDCP(set, decode.DirUnknown, &r); err != nil || r.Action != ActPNDCPSet || string(r.Station) != "rogue" || !r.Request || r.Txn != 7 {
		t.Fatalf("set request: %v %+v", err, r)
	}
	setResp := pnDCP(0xfefd, 4, 1, pnBlock(5, 4, []byte{2, 2, 0}))
	if err := DecodePNDCP(setResp, decode.DirUnknown, &r); err != nil || !r.Response || r.Txn != 7 || r.Status != 0 {
		t.Fatalf("set response: %v %+v", err, r)
	}
	if err := DecodePNDCP([]byte{0x80, 0x00, 1, 2, 3, 4}, decode.DirUnknown, &r); !errors.Is(err, ErrNoPDU) {
		t.Fatalf("cyclic frame: %v", err)
	}
	bad := pnDCP(0xfeff, 5, 1, pnBlock(2, 2, []byte("plc")))
	bad[len(bad)-5] = 0x40 // block length beyond the data
	if err := DecodePNDCP(bad, decode.DirUnknown, &r); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad block length: %v", err)
	}
}

func FuzzPNDCP(f *testing.F) {
	f.Add(pnDCP(0xfeff, 5, 1, pnBlock(2, 2, []byte("\x00\x00plc-1")), pnBlock(1, 2, make([]byte, 14))))
	f.Add(pnDCP(0xfefd, 4, 0, pnBlock(2, 2, []byte("\x00\x01x"))))
	f.Add(pnDCP(0xfefe, 5, 0, pnBlock(0xff, 0xff, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		DecodePNDCP(b, decode.DirUnknown, &r)
		Evidence(&r)
	})
}

// FuzzObjects decodes arbitrary PDUs of every industrial protocol with
// the operations log's objects asked for, and describes them as alert
// evidence does: nothing may panic or read out of bounds.
func FuzzObjects(f *testing.F) {
	f.Add(byte(0), rrData(mspOf([]byte{0x4c, 1, 0x20, 0x72})))
	f.Add(byte(1), dnp3App(5, append([]byte{0x0c, 0x01, 0x28, 1, 0, 7, 0}, crob(0x41, 0, 0, 0)...)))
	f.Add(byte(2), s7pdu(1, []byte{0x04, 1, 0x12, 0x0a, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0}, nil))
	f.Add(byte(3), bvlc(0x0a, []byte{1, 0x04, 0x00, 0x05, 0x07, 14, 0x0c, 0, 0, 0, 1, 0x1e, 0x09, 85, 0x1f}))
	f.Add(byte(4), iframe([]byte{45, 1, 6, 0, 3, 0, 0x10, 0x27, 0, 0x81}))
	decoders := []func([]byte, decode.Direction, *Result) error{DecodeENIP, DecodeDNP3, DecodeS7, DecodeBACnet, DecodeIEC104, DecodeModbus}
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		dec := decoders[int(which)%len(decoders)]
		for _, dir := range []decode.Direction{decode.DirToServer, decode.DirToClient} {
			r := Result{Log: true}
			dec(b, dir, &r)
			Evidence(&r)
			if r.ReplyData != nil {
				ParseCIPIdentity(r.ReplyData, &r)
			}
		}
	})
}
