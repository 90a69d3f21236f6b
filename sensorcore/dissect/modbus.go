package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: Modbus, Name: "modbus", Title: "Modbus/TCP", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{502}, Match: MatchModbus, Len: ModbusLen, Decode: DecodeModbus},
		Functions:  lookup(&modbusFunctions),
		ClientRole: "Modbus client", ServerRole: "Modbus server",
		// The write and restart alerts depend on the learned masters:
		// alert.ruleModbus, not a descriptor rule.
		Actions: []ActionInfo{
			{Action: ActModbusWrite, Name: "Modbus write"},
			{Action: ActModbusRestart, Name: "Modbus diagnostics restart communications"},
		}})
}

// Modbus/TCP, per "MODBUS Messaging on TCP/IP Implementation Guide V1.0b"
// (MB-TCP) and "MODBUS Application Protocol Specification V1.1b3" (MB-AP).

// modbusFunction reports whether fc is a public function code (MB-AP §5.1,
// "Public Function Code Definition").
func modbusFunction(fc byte) bool {
	return modbusCodes[fc&0x7f]&mbPublic != 0 && fc < 0x80
}

// What DecodeModbus needs to know of a function code (the low 7 bits of
// the ADU's function octet), in one table lookup.
const (
	mbPublic = 1 << iota // a public function code (MB-AP §5.1)
	mbUser               // a user-defined one: 65-72 and 100-110 (MB-AP §5)
	mbWrite              // a write: 5, 6, 15, 16, 22, 23
	mbMore               // DecodeModbus reads more of it: 8 and 43
)

var modbusCodes = func() (t [128]uint8) {
	for _, fc := range []int{1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43} {
		t[fc] |= mbPublic
	}
	for _, fc := range []int{5, 6, 15, 16, 22, 23} {
		t[fc] |= mbWrite
	}
	t[mbDiagnostics] |= mbMore
	t[mbEncapsulated] |= mbMore
	for fc := 65; fc <= 72; fc++ {
		t[fc] |= mbUser
	}
	for fc := 100; fc <= 110; fc++ {
		t[fc] |= mbUser
	}
	return t
}()

// ModbusLen frames one Modbus/TCP ADU by its header alone (the function
// code is checked by DecodeModbus, so an invalid one counts as malformed): the MBAP header (MB-TCP §3.1.3) is
// transaction id (2), protocol id (2, always 0), length (2, bytes that
// follow: unit id plus PDU) and unit id (1). An ADU is at most 260 bytes.
func ModbusLen(b []byte) int {
	if len(b) < 8 {
		if len(b) >= 4 && (b[2] != 0 || b[3] != 0) {
			return -1
		}
		return 0
	}
	// protocol id and length as one word: above 254 when the protocol id
	// is not 0, so one test refuses both (a length not 2-254 too)
	h := binary.BigEndian.Uint32(b[2:6])
	if h-2 > 254-2 {
		return -1
	}
	n := 6 + int(h)
	if len(b) < n {
		return 0
	}
	return n
}

// MatchModbus is the content test used to classify a stream: a full MBAP
// header with protocol id 0, a plausible length and a public function code;
// an exception response (function | 0x80) must carry exactly one exception
// code 1-11 (MB-AP §7).
func MatchModbus(b []byte) bool {
	if len(b) < 8 || b[2] != 0 || b[3] != 0 {
		return false
	}
	l := int(binary.BigEndian.Uint16(b[4:6]))
	if l < 2 || l > 254 {
		return false
	}
	fc := b[7]
	if !modbusFunction(fc & 0x7f) {
		return false
	}
	if fc&0x80 != 0 {
		return l == 3 && len(b) >= 9 && b[8] >= 1 && b[8] <= 11
	}
	// The segment must hold exactly whole ADUs or a prefix of one: a stream
	// of other bytes rarely has a length field that lands on a boundary.
	if len(b) >= 6+l && len(b) > 6+l {
		return ModbusLen(b[6+l:]) >= 0
	}
	return true
}

// Modbus function codes used by rules (MB-AP §6).
const (
	mbDiagnostics  = 8
	mbEncapsulated = 43
)

// DecodeModbus decodes one ADU. Writes (function codes 5, 6, 15, 16, 22,
// 23) and Diagnostics sub-function 0x0001 (Restart Communications Option,
// MB-AP §6.8.1) set Result.Action; a Read Device Identification response
// (43/14, MB-AP §6.21) fills Result.Ident.
//
// b must be one ADU, 8-260 octets, whose header (protocol id 0 and the
// length, tested as one word) ends it where b ends; ModbusLen says what is
// wrong with any other. (No comment lines inside the function above the
// call of modbusObject: the profile for profile-guided optimisation finds
// that call by its line within the function, and inlines it there.)
func DecodeModbus(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(Modbus)
	if len(b) < 8 || len(b) > 260 || binary.BigEndian.Uint32(b[2:6]) != uint32(len(b)-6) {
		switch n := ModbusLen(b); {
		case n == 0:
			return errShort
		case n < 0:
			return errField
		}
		return errLength
	}
	fc := b[7]
	r.Unit = int(b[6])
	r.Function = int(fc & 0x7f)
	r.Txn = int(binary.BigEndian.Uint16(b[0:2]))
	code := modbusCodes[fc&0x7f]
	if code&(mbPublic|mbUser) == 0 {
		// Neither public nor user-defined (MB-AP §5).
		return errField
	}
	if fc&0x80 != 0 {
		// Exception response: one exception code (MB-AP §7).
		r.Response = true
		if len(b) != 9 {
			return errLength
		}
		r.Status = int(b[8])
		r.SrcRole, r.DstRole = RoleModbusServer, RoleModbusClient
		return nil
	}
	if dir == decode.DirToClient {
		r.Response, r.Status = true, 0
		r.SrcRole, r.DstRole = RoleModbusServer, RoleModbusClient
	} else {
		r.Request = true
		r.SrcRole, r.DstRole = RoleModbusClient, RoleModbusServer
		modbusObject(fc, b, r)
		if code&mbWrite != 0 {
			r.Action = ActModbusWrite
		}
	}
	if code&mbMore == 0 {
		return nil
	}
	pdu := b[8:]
	switch fc {
	case mbDiagnostics:
		// MB-AP §6.8: sub-function (2) then data (2).
		if len(pdu) < 4 {
			return errShort
		}
		if r.Request && binary.BigEndian.Uint16(pdu[0:2]) == 0x0001 {
			r.Action = ActModbusRestart
		}
	case mbEncapsulated:
		if len(pdu) < 1 {
			return errShort
		}
		if pdu[0] == 0x0e && r.Response {
			return modbusDeviceID(pdu, r)
		}
	}
	return nil
}

// modbusDeviceID parses a Read Device Identification response (MB-AP §6.21):
// MEI type 0x0E, read device id code, conformity level, more follows, next
// object id, number of objects, then {object id, length, value}.
// modbusObject reads a request's data address, quantity and written values
// (MB-AP §6): read functions 1-4 and 5/6/15/16 put the start address
// first; 23 (read/write multiple registers) is logged by its write half.
// A request too short for its fields leaves them unset.
func modbusObject(fc byte, adu []byte, r *Result) {
	// adu is the whole ADU (the PDU's data begins at octet 8), indexed
	// from its start rather than re-sliced
	if len(adu) < 12 {
		return
	}
	addr, second := int(binary.BigEndian.Uint16(adu[8:10])), binary.BigEndian.Uint16(adu[10:12])
	switch fc {
	case 1, 2, 3, 4:
		r.Address, r.Quantity = addr, int(second)
	case 5, 6: // one coil (0xFF00 on, 0x0000 off) or one register
		r.Address, r.Quantity = addr, 1
		r.addValue(second)
	case 15: // coils, one bit each, low bit first
		r.Address, r.Quantity = addr, int(second)
		if len(adu) >= 13 {
			bits := adu[13:min(len(adu), 13+int(adu[12]))]
			vals := r.valueBuf[:min(r.Quantity, 8*len(bits), maxValues)]
			for i := range vals {
				vals[i] = uint16(bits[i/8]>>(i%8)) & 1
			}
			r.Values = vals
		}
	case 16:
		r.Address, r.Quantity = addr, int(second)
		if len(adu) >= 13 {
			modbusRegisters(adu[13:min(len(adu), 13+int(adu[12]))], r)
		}
	case 23:
		if len(adu) >= 17 {
			r.Address, r.Quantity = int(binary.BigEndian.Uint16(adu[12:14])), int(binary.BigEndian.Uint16(adu[14:16]))
			modbusRegisters(adu[17:min(len(adu), 17+int(adu[16]))], r)
		}
	}
}

// modbusRegisters records the registers b holds, up to maxValues, as the
// PDU's values (it has none yet).
func modbusRegisters(b []byte, r *Result) {
	vals := r.valueBuf[:min(len(b)/2, maxValues)]
	for i := range vals {
		vals[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	r.Values = vals
}

func modbusDeviceID(pdu []byte, r *Result) error {
	if len(pdu) < 6 {
		return errShort
	}
	n := int(pdu[5])
	p := pdu[6:]
	for i := 0; i < n; i++ {
		if len(p) < 2 || len(p) < 2+int(p[1]) {
			return errLength
		}
		id, v := p[0], p[2:2+int(p[1])]
		switch id {
		case 0: // VendorName
			r.WriteIdent().Vendor = string(v)
		case 1: // ProductCode
			if r.Ident.Model == "" {
				r.WriteIdent().Model = string(v)
			}
		case 2: // MajorMinorRevision
			r.WriteIdent().Firmware = string(v)
		case 4: // ProductName
			r.WriteIdent().Name = string(v)
		case 5: // ModelName
			r.WriteIdent().Model = string(v)
		}
		p = p[2+int(p[1]):]
	}
	r.HasIdent = r.Ident.Vendor != "" || r.Ident.Model != "" || r.Ident.Firmware != ""
	return nil
}
