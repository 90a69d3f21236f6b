package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: DNP3, Name: "dnp3", Title: "DNP3", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{20000}, Match: MatchDNP3, Len: DNP3Len, Decode: DecodeDNP3},
		UDP:        &UDPProtocol{Ports: []uint16{20000}, Match: MatchDNP3UDP, Len: DNP3Len, Decode: DecodeDNP3},
		Functions:  lookup(&dnp3Functions),
		ClientRole: "DNP3 master", ServerRole: "DNP3 outstation",
		// IEEE 1815-2012 table 4-5.
		Actions: []ActionInfo{
			{Action: ActDNP3ColdRestart, Name: "DNP3 cold restart", Alert: &ActionAlert{Rule: "dnp3-cold-restart", Severity: "high", Title: "DNP3 cold restart",
				Text: "A master told an outstation to restart cold."}},
			{Action: ActDNP3WarmRestart, Name: "DNP3 warm restart", Alert: &ActionAlert{Rule: "dnp3-warm-restart", Severity: "high", Title: "DNP3 warm restart",
				Text: "A master told an outstation to restart warm."}},
			{Action: ActDNP3StopApp, Name: "DNP3 stop application", Alert: &ActionAlert{Rule: "dnp3-stop-application", Severity: "high", Title: "DNP3 stop application",
				Text: "A master told an outstation to stop an application."}},
			{Action: ActDNP3Select, Name: "DNP3 select", Alert: &ActionAlert{Rule: "dnp3-select", Severity: "medium", Title: "DNP3 select",
				Text: "A master selected outputs of an outstation for a control (select-before-operate, step one)."}},
			{Action: ActDNP3Operate, Name: "DNP3 operate", Alert: &ActionAlert{Rule: "dnp3-operate", Severity: "high", Title: "DNP3 operate",
				Text: "A master operated outputs of an outstation it had selected."}},
			{Action: ActDNP3DirectOperate, Name: "DNP3 direct operate without select", Alert: &ActionAlert{Rule: "dnp3-direct-operate", Severity: "high",
				Title: "DNP3 direct operate without select", Text: "A master operated outputs of an outstation without select-before-operate.", WithFunction: true}},
		}})
}

// DNP3 per IEEE 1815-2012: data link layer (§9), transport function (§8),
// application layer (§4). Over TCP and UDP, port 20000 (§A.2 of IEEE
// 1815 Annex on IP networking).

// crcDNP3 is the DNP3 link-layer CRC (§9.2.5.1: polynomial 0x3D65,
// reflected 0xA6BC, initial 0, output inverted).
func crcDNP3(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		crc = crc>>8 ^ dnp3CRCTable[byte(crc)^x]
	}
	return ^crc
}

// crcDNP3Bitwise is the definition crcDNP3's table is checked against.
func crcDNP3Bitwise(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		crc ^= uint16(x)
		for i := 0; i < 8; i++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa6bc
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// dnp3FrameSize is the number of octets of a link frame whose LENGTH field
// is l (§9.2.4.1.2: LENGTH counts CONTROL, DESTINATION, SOURCE and user
// data, not CRCs; user data travels in blocks of 16 octets, each followed by
// a 2-octet CRC).
func dnp3FrameSize(l int) int {
	user := l - 5
	return 10 + user + 2*((user+15)/16)
}

// DNP3Len frames one link-layer frame: start octets 0x05 0x64 (§9.2.4.1.1),
// LENGTH (at least 5).
func DNP3Len(b []byte) int {
	if len(b) >= 1 && b[0] != 0x05 || len(b) >= 2 && b[1] != 0x64 {
		return -1
	}
	if len(b) < 3 {
		return 0
	}
	l := int(b[2])
	if l < 5 {
		return -1
	}
	n := dnp3FrameSize(l)
	if len(b) < n {
		return 0
	}
	return n
}

// MatchDNP3 checks the start octets, LENGTH and the header CRC (§9.2.5).
func MatchDNP3(b []byte) bool {
	if len(b) < 10 || b[0] != 0x05 || b[1] != 0x64 || b[2] < 5 {
		return false
	}
	return crcDNP3(b[:8]) == binary.LittleEndian.Uint16(b[8:10])
}

// MatchDNP3UDP is MatchDNP3 for a datagram, which may hold several frames.
func MatchDNP3UDP(b []byte) bool { return MatchDNP3(b) }

// DNP3 application function codes (§4.2.2.5, table 4-5).
const (
	dnp3Select        = 3
	dnp3Operate       = 4
	dnp3DirectOperate = 5
	dnp3DirectOpNoAck = 6
	dnp3ColdRestart   = 13
	dnp3WarmRestart   = 14
	dnp3StopApp       = 18
	dnp3Response      = 129
	dnp3Unsolicited   = 130
)

// DecodeDNP3 decodes one link frame. Control octet (§9.2.4.1.3): DIR 0x80
// set when sent by the master, PRM 0x40 set by the primary station, and a
// 4-bit function code; primary functions 3 (CONFIRMED_USER_DATA) and 4
// (UNCONFIRMED_USER_DATA) carry a transport segment. The transport header
// (§8.2.1: FIN 0x80, FIR 0x40, sequence) precedes the application
// fragment; the first segment (FIR) holds the application header: control
// (FIR, FIN, CON, UNS, SEQ, §4.2.2.4), function code, and in responses the
// internal indications (2 octets, §4.2.2.6). Then every object header
// (group, variation, qualifier and range, §4.2.2.7) is walked and checked
// against the fragment: a header, range or object data that runs past the
// end of a fragment held whole in this frame (FIR and FIN) is malformed,
// as is a reserved qualifier. Control Relay Output Blocks (group 12
// variation 1) are read with their point indexes.
func DecodeDNP3(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(DNP3)
	n := DNP3Len(b)
	if n <= 0 {
		if n == 0 {
			return errShort
		}
		return errField
	}
	if n != len(b) {
		return errLength
	}
	if crcDNP3(b[:8]) != binary.LittleEndian.Uint16(b[8:10]) {
		return errCRC
	}
	ctrl := b[3]
	if ctrl&0x80 != 0 {
		r.SrcRole, r.DstRole = RoleDNP3Master, RoleDNP3Outstation
		r.Request = true
	} else {
		r.SrcRole, r.DstRole = RoleDNP3Outstation, RoleDNP3Master
		r.Response = true
	}
	// Gather the user data (at most 250 octets, §9.2.4.1.2) into a stack
	// buffer while checking each block's CRC.
	var user [250]byte
	hn := 0
	body := b[10:]
	for len(body) > 0 {
		blk := len(body) - 2
		if blk > 16 {
			blk = 16
		}
		if blk <= 0 {
			return errLength
		}
		if crcDNP3(body[:blk]) != binary.LittleEndian.Uint16(body[blk:blk+2]) {
			return errCRC
		}
		hn += copy(user[hn:], body[:blk])
		body = body[blk+2:]
	}
	prm := ctrl&0x40 != 0
	lfc := ctrl & 0x0f
	if !prm || (lfc != 3 && lfc != 4) || hn == 0 {
		return nil // link-layer only frame (ack, link status, reset)
	}
	th := user[0]
	if th&0x40 == 0 { // not the first segment: no application header
		return nil
	}
	whole := th&0x80 != 0 // FIR and FIN: the fragment ends in this frame
	app := user[1:hn]
	if len(app) < 2 {
		return errShort
	}
	fc := app[1]
	r.Function = int(fc)
	r.Txn = int(app[0] & 0x0f) // application sequence number, §4.2.2.4
	objs := app[2:]
	switch {
	case fc >= dnp3Response:
		if len(app) < 4 {
			return errShort
		}
		r.Request, r.Response = false, true
		// IIN2 (§4.2.2.6): no function code support, object unknown,
		// parameter error, already executing, configuration corrupt.
		r.Status = int(app[3] & 0x37)
		if fc == dnp3Unsolicited {
			r.Txn = -1 // answers no request
			r.Notification = true
		}
		objs = app[4:]
	case fc > 33: // highest request code in table 4-5 is 33
		return errField
	}
	switch fc {
	case dnp3ColdRestart:
		r.Action = ActDNP3ColdRestart
	case dnp3WarmRestart:
		r.Action = ActDNP3WarmRestart
	case dnp3StopApp:
		r.Action = ActDNP3StopApp
	case dnp3Select:
		r.Action = ActDNP3Select
	case dnp3Operate:
		r.Action = ActDNP3Operate
	case dnp3DirectOperate, dnp3DirectOpNoAck:
		r.Action = ActDNP3DirectOperate
	}
	if err := dnp3Objects(objs, dnp3HeadersOnly(fc) && r.Request, whole, r); err != nil {
		return err
	}
	if r.Response && r.Status == 0 {
		// A control's response echoes its CROBs with their status
		// (§A.8.1.4): the first failure is the operation's result.
		for _, c := range r.DNP3Controls() {
			if c.Status != 0 {
				r.Status = 256 + int(c.Status)
				break
			}
		}
	}
	return nil
}

// DNP3Unsolicited reports whether r is an unsolicited response (function
// 130, §4.2.2.5).
func DNP3Unsolicited(r *Result) bool { return r.Proto == DNP3 && r.Function == dnp3Unsolicited }
