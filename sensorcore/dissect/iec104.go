package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: IEC104, Name: "iec104", Title: "IEC 60870-5-104", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{2404}, Match: MatchIEC104, Len: IEC104Len, Decode: DecodeIEC104},
		Functions:  lookup(iec104Types),
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
	iecCRPNA1 = 105 // reset process command
	iecCOTAct = 6   // cause of transmission: activation (101 §7.2.3)
)

// DecodeIEC104 decodes one APDU. For an I-format APDU the ASDU header is
// read: type identification (1), variable structure qualifier (1), cause
// of transmission (2: cause in bits 0-5, P/N, test; originator address),
// common address (2). The type id is Result.Function; a process command or
// reset-process command with cause "activation" sets ActIEC104Command.
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
	r.Cause = int(cot)
	r.Unit = int(binary.LittleEndian.Uint16(asdu[4:6]))
	if cot == 0 {
		return errField
	}
	command := typ >= iecCSCNA1 && typ <= iecCBONA1 || typ >= iecCSCTA1 && typ <= iecCBOTA1 || typ >= 100 && typ <= 107
	if command {
		if cot == iecCOTAct || cot == 8 { // activation or deactivation
			r.Request = true
			r.SrcRole, r.DstRole = RoleIEC104Controlling, RoleIEC104Controlled
			if typ <= iecCBOTA1 || typ == iecCRPNA1 {
				r.Action = ActIEC104Command
			}
		} else {
			r.Response = true
			r.SrcRole, r.DstRole = RoleIEC104Controlled, RoleIEC104Controlling
		}
	} else if typ < iecCSCNA1 {
		// monitor direction: sent by the controlled station
		r.Response = true
		r.SrcRole, r.DstRole = RoleIEC104Controlled, RoleIEC104Controlling
	}
	_ = dir
	return nil
}
