package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: IEC104, Name: "iec104", Title: "IEC 60870-5-104", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{2404}, Match: MatchIEC104, Len: IEC104Len, Decode: DecodeIEC104},
		Functions:  lookup(&iec104Types),
		ClientRole: "IEC-104 controlling station", ServerRole: "IEC-104 controlled station",
		// Process commands (type ids 45-51, 58-64) and reset process (105)
		// in activation, IEC 60870-5-101 §7.2.1.1.
		Actions: []ActionInfo{
			{Action: ActIEC104Command, Name: "IEC-104 command", Alert: &ActionAlert{Rule: "iec104-command", Severity: "high", Title: "IEC-104 command",
				Text: "A controlling station sent a command to a controlled station.", WithFunction: true}},
		}})
}

// IEC 60870-5-104 (2006), "104": APCI (§5), ASDU per IEC 60870-5-101
// ("101") §7 with the 104 field lengths (§9: 2-octet cause of
// transmission, 2-octet common address, 3-octet information object
// address).

// IEC104Len frames one APDU: start 0x68, length of the rest (4 to 253,
// §5.1), so an APDU is at most 255 octets.
func IEC104Len(b []byte) int {
	if len(b) >= 1 && b[0] != 0x68 {
		return -1
	}
	if len(b) < 2 {
		return 0
	}
	l := int(b[1])
	if l < 4 || l > 253 {
		return -1
	}
	if len(b) < 2+l {
		return 0
	}
	return 2 + l
}

// MatchIEC104 checks the start octet, the length and the control field
// format (§5.1-5.3): an I-format APDU (bit 0 of octet 1 clear) carries an
// ASDU, S- and U-format APDUs are exactly 6 octets, and a U-format has
// exactly one of STARTDT/STOPDT/TESTFR act or con set.
func MatchIEC104(b []byte) bool {
	n := IEC104Len(b)
	if n <= 0 {
		return false
	}
	c := b[2]
	switch {
	case c&0x01 == 0: // I-format
		return n >= 12 && b[6] != 0
	case c&0x03 == 0x01: // S-format
		return n == 6 && c == 0x01 && b[3] == 0
	default: // U-format
		u := c & 0xfc
		return n == 6 && b[3] == 0 && b[4] == 0 && b[5] == 0 && u != 0 && u&(u-1) == 0
	}
}

// IEC-104 command type identifications (101 §7.2.1.1, 104 §8): process
// commands 45-51 and with time tag 58-64; system commands 100-107.
const (
	iecCSCNA1 = 45  // single command
	iecCBONA1 = 51  // bitstring of 32 bit command
	iecCSCTA1 = 58  // single command with time tag
	iecCBOTA1 = 64  // bitstring command with time tag
	iecCRDNA1 = 102 // read command
	iecCRPNA1 = 105 // reset process command
)

// Causes of transmission (101 §7.2.3, table 14).
const (
	iecCOTReq         = 5  // request or requested
	iecCOTAct         = 6  // activation
	iecCOTActCon      = 7  // activation confirmation
	iecCOTDeact       = 8  // deactivation
	iecCOTDeactCon    = 9  // deactivation confirmation
	iecCOTUnknownType = 44 // unknown type identification; 45-47: unknown cause, common address, object address
	iecCOTUnknownIOA  = 47
)

// DecodeIEC104 decodes one APDU. For an I-format APDU the ASDU header is
// read: type identification (1), variable structure qualifier (1: SQ bit
// 7, number of objects in bits 0-6), cause of transmission (2: cause in
// bits 0-5, P/N bit 6, test bit 7; originator address), common address
// (2), then the first information object address (3). The type id is
// Result.Function, the common address Result.Unit, the first address
// Result.Address and the number of objects Result.Quantity.
//
// What the ASDU is (101 §7.2.3, 104 §7.3): in the control direction, a
// command or parameter in activation (6), deactivation (8) or a read
// command (102, cause 5) is a request; the controlled station answers it
// with a confirmation (7, 9, or 44-47 for unknown type, cause, address or
// object: a negative answer) or, for a read, the requested object (5),
// for the same common address and object address: Result.Txn pairs them,
// and a negative answer (P/N set, or 44-47) has Status cause+64 or the
// cause. Everything else the controlled station sends unasked
// (spontaneous, periodic, interrogated data, activation termination, end
// of initialisation) is a notification. A process command or
// reset-process command in activation sets ActIEC104Command.
func DecodeIEC104(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(IEC104)
	n := IEC104Len(b)
	if n <= 0 {
		if n == 0 {
			return errShort
		}
		return errField
	}
	if n != len(b) {
		return errLength
	}
	if b[2]&0x01 != 0 {
		// S- or U-format: control information only (§5.2, §5.3).
		if n != 6 {
			return errLength
		}
		return nil
	}
	asdu := b[6:]
	if len(asdu) >= 1 {
		r.Function = int(asdu[0]) // counted even when the rest is short
	}
	if len(asdu) < 6 {
		return errShort
	}
	typ := asdu[0]
	if typ == 0 {
		return errField
	}
	cot := asdu[2] & 0x3f
	negative := asdu[2]&0x40 != 0
	r.Cause = int(cot)
	ca := binary.LittleEndian.Uint16(asdu[4:6])
	r.Unit = int(ca)
	if cot == 0 {
		return errField
	}
	r.Quantity = int(asdu[1] & 0x7f)
	var ioa uint32
	if len(asdu) >= 9 {
		ioa = uint32(asdu[6]) | uint32(asdu[7])<<8 | uint32(asdu[8])<<16
		r.Address = int(ioa)
	}
	txn := int((uint64(ca)<<24 | uint64(ioa)) * 0x9e3779b97f4a7c15 >> 33)
	control := typ >= iecCSCNA1 && typ <= 69 || typ >= 100 && typ <= 119
	switch {
	case control && (cot == iecCOTAct || cot == iecCOTDeact || typ == iecCRDNA1 && cot == iecCOTReq):
		r.Request, r.Txn = true, txn
		r.SrcRole, r.DstRole = RoleIEC104Controlling, RoleIEC104Controlled
		process := typ >= iecCSCNA1 && typ <= iecCBONA1 || typ >= iecCSCTA1 && typ <= iecCBOTA1
		if cot == iecCOTAct && (process || typ == iecCRPNA1) {
			r.Action = ActIEC104Command
		}
	case control && (cot == iecCOTActCon || cot == iecCOTDeactCon || cot >= iecCOTUnknownType && cot <= iecCOTUnknownIOA),
		!control && typ < 120 && cot == iecCOTReq:
		r.Response, r.Txn, r.Status = true, txn, 0
		r.SrcRole, r.DstRole = RoleIEC104Controlled, RoleIEC104Controlling
		switch {
		case cot >= iecCOTUnknownType:
			r.Status = int(cot)
		case negative:
			r.Status = int(cot) + 64
		}
	default:
		// sent unasked by the controlled station
		r.Response, r.Notification = true, true
		r.SrcRole, r.DstRole = RoleIEC104Controlled, RoleIEC104Controlling
	}
	_ = dir
	return nil
}
