package dissect

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: S7comm, Name: "s7comm", Title: "S7comm", Industrial: true,
		TCP:        &TCPProtocol{Ports: []uint16{102}, Match: MatchTPKT, Len: TPKTLen, Decode: DecodeS7},
		Functions:  lookup(&s7Functions),
		ClientRole: "S7 client", ServerRole: "S7 PLC",
		// Firmware updates have no classic S7comm function code or PI
		// service of their own: their result is caught by
		// firmware-changed.
		Actions: []ActionInfo{
			{Action: ActS7Stop, Name: "S7 PLC stop", Alert: &ActionAlert{Rule: "s7-plc-stop", Severity: "critical", Title: "S7 PLC stop",
				Text: "A client told an S7 PLC to stop its program."}},
			{Action: ActS7Start, Name: "S7 PLC start", Alert: &ActionAlert{Rule: "s7-plc-start", Severity: "high", Title: "S7 PLC start",
				Text: "A client told an S7 PLC to start its program."}},
			{Action: ActS7Download, Name: "S7 block download", Alert: &ActionAlert{Rule: "s7-block-download", Severity: "high", Title: "S7 block download",
				Text: "A client downloaded a program block to an S7 PLC."}},
			{Action: ActS7Upload, Name: "S7 block upload", Alert: &ActionAlert{Rule: "s7-block-upload", Severity: "medium", Title: "S7 block upload",
				Text: "A client uploaded a program block from an S7 PLC."}},
			// The PLC's own mode-transition notification (userdata
			// push, function group 0, subfunction 0 STOP): a stop by
			// key switch, by a fault or by a job the sensor missed.
			{Action: ActS7Stopped, Name: "S7 PLC reports STOP", Alert: &ActionAlert{Rule: "s7-plc-stop", Severity: "critical", Title: "S7 PLC stop",
				Text: "An S7 PLC reported that it went to STOP (mode-transition notification)."}},
		}})
}

// S7comm over ISO-on-TCP: TPKT (RFC 1006 §6), COTP (ISO 8073 / X.224
// §13), then the S7comm header. S7comm is not publicly specified; field
// names follow the Wireshark s7comm dissector (packet-s7comm.c), which is
// the de facto reference, cited below as "s7comm.c".

// TPKTLen frames one TPKT: version 3, reserved 0, length (2) of the whole
// packet including this 4-byte header (RFC 1006 §6).
func TPKTLen(b []byte) int {
	if len(b) < 4 {
		if len(b) >= 1 && b[0] != 3 || len(b) >= 2 && b[1] != 0 {
			return -1
		}
		return 0
	}
	if binary.BigEndian.Uint16(b[0:2]) != 0x0300 { // version 3, reserved 0
		return -1
	}
	l := int(binary.BigEndian.Uint16(b[2:4]))
	if l < 7 {
		return -1
	}
	if len(b) < l {
		return 0
	}
	return l
}

// MatchTPKT checks TPKT plus a COTP header whose length indicator fits and
// whose PDU type is a connection request (0xE0), confirm (0xD0), data
// (0xF0), disconnect request (0x80) or confirm (0xC0), or an error (0x70)
// (X.224 §13.1 table 8).
func MatchTPKT(b []byte) bool {
	n := TPKTLen(b)
	if n <= 0 && !(n == 0 && len(b) >= 7) {
		return false
	}
	li := int(b[4])
	if li < 2 || 5+li > int(binary.BigEndian.Uint16(b[2:4])) {
		return false
	}
	switch b[5] & 0xf0 {
	case 0xe0, 0xd0, 0xf0, 0x80, 0xc0, 0x70:
		return true
	}
	return false
}

// S7comm PDU types (ROSCTR, s7comm.c "rosctr_names").
const (
	s7Job      = 1
	s7Ack      = 2
	s7AckData  = 3
	s7UserData = 7
)

// S7comm parameter function codes (s7comm.c "param_functionnames").
const (
	s7ReadVar         = 0x04
	s7WriteVar        = 0x05
	s7RequestDownload = 0x1a
	s7DownloadBlock   = 0x1b
	s7DownloadEnded   = 0x1c
	s7StartUpload     = 0x1d
	s7Upload          = 0x1e
	s7EndUpload       = 0x1f
	s7PIService       = 0x28
	s7PLCStop         = 0x29
	s7SetupComm       = 0xf0
)

// ErrNoPDU means the bytes carry no PDU to count: a TPKT without S7comm
// (connection setup, or another ISO-on-TCP protocol such as MMS or
// S7comm-plus), or an HTTP segment that starts no message. It is not
// malformed.
var ErrNoPDU = errors.New("dissect: no PDU of this protocol here")

// DecodeS7 decodes one TPKT. A COTP data TPDU whose payload starts with the
// S7comm protocol id 0x32 is decoded: header (10 bytes, 12 for ack and
// ack-data which add error class and code), parameters, data. Job and
// ack-data carry the parameter function code in their first parameter
// byte; userdata reading SZL 0x0011 (module identification) or 0x001C
// (component identification) fills Result.Ident with the CPU's order
// number, firmware and serial number.
func DecodeS7(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(S7comm)
	// the S7 group (groupS7) is marked written where it is (a block's
	// name, a userdata PDU's group), so a read or write job leaves it
	// clean for the next Reset
	if TPKTLen(b) != len(b) {
		return errLength
	}
	if len(b) < 7 {
		return errShort
	}
	li := int(b[4])
	if 5+li > len(b) || li < 2 {
		return errLength
	}
	if b[5]&0xf0 != 0xf0 { // not a DT TPDU (X.224 §13.7)
		return ErrNoPDU
	}
	s := b[5+li:]
	if len(s) < 1 || s[0] != 0x32 {
		return ErrNoPDU
	}
	if len(s) < 10 {
		return errShort
	}
	rosctr := s[1]
	plen := int(binary.BigEndian.Uint16(s[6:8]))
	dlen := int(binary.BigEndian.Uint16(s[8:10]))
	hl := 10
	switch rosctr {
	case s7Job, s7UserData:
	case s7Ack, s7AckData:
		hl = 12
	default:
		return errField
	}
	if len(s) < hl+plen+dlen {
		return errLength
	}
	param := s[hl : hl+plen]
	// the data is sliced only where it is read (userdata, and ack-data
	// with the operations log on): slicing costs more than the rest of
	// the header
	dat := hl + plen
	r.Txn = int(binary.BigEndian.Uint16(s[4:6])) // PDU reference, echoed by the ack
	if hl == 12 {
		r.Status = int(s[10])<<8 | int(s[11]) // error class and code, 0 when none
	}
	if rosctr == s7Job || rosctr == s7UserData && len(param) >= 6 && param[5]>>4 == 4 {
		r.Request = true
		r.SrcRole, r.DstRole = RoleS7Client, RoleS7PLC
	} else {
		r.Response = true
		r.SrcRole, r.DstRole = RoleS7PLC, RoleS7Client
	}
	switch rosctr {
	case s7Job, s7AckData:
		if len(param) < 1 {
			if rosctr == s7Job {
				return errShort
			}
			return nil
		}
		r.Function = int(param[0])
		if param[0] == s7DownloadBlock || param[0] == s7DownloadEnded {
			// During a download the PLC pulls the block: it sends these
			// jobs and the programming device answers (s7comm.c).
			if rosctr == s7Job {
				r.SrcRole, r.DstRole = RoleS7PLC, RoleS7Client
			} else {
				r.SrcRole, r.DstRole = RoleS7Client, RoleS7PLC
			}
		}
		if rosctr != s7Job {
			if r.Status == 0 && r.Log && (param[0] == s7ReadVar || param[0] == s7WriteVar) {
				s7ItemStatus(param, s[dat:dat+dlen], r)
			}
			return nil
		}
		switch param[0] {
		case s7PLCStop:
			r.Action = ActS7Stop
		case s7RequestDownload:
			r.Action = ActS7Download
			s7UpDownBlock(param, r)
		case s7StartUpload:
			r.Action = ActS7Upload
			s7UpDownBlock(param, r)
		case s7DownloadBlock, s7DownloadEnded, s7Upload, s7EndUpload:
			if r.Log {
				s7UpDownBlock(param, r)
			}
		case s7PIService:
			// PI service name follows a 7-byte unknown field and a
			// parameter block (s7comm.c "dissect_piservice").
			if bytes.Contains(param, []byte("P_PROGRAM")) {
				r.Action = ActS7Start
			}
			s7PIBlock(param, r)
		case s7ReadVar, s7WriteVar:
			if r.Log {
				s7Items(param, r)
			}
		}
	case s7UserData:
		return s7UserDataDecode(param, s[dat:dat+dlen], r)
	}
	return nil
}

// s7Items reads the variables of a read-var or write-var job: item
// count (1), then items of variable specification 0x12, length, syntax
// id; the any-pointer syntax (0x10) holds transport size (1), count (2),
// DB number (2), area (1) and the bit address (3), s7comm.c
// "s7comm_decode_param_item".
func s7Items(param []byte, r *Result) {
	if len(param) < 2 {
		return
	}
	p := param[2:]
	for i := 0; i < int(param[1]) && len(p) >= 2; i++ {
		l := int(p[1])
		if p[0] != 0x12 || len(p) < 2+l {
			return
		}
		if l >= 10 && p[2] == 0x10 {
			addr := uint32(p[9])<<16 | uint32(p[10])<<8 | uint32(p[11])
			r.addItem(S7Item{Size: p[3], Count: binary.BigEndian.Uint16(p[4:6]), DB: binary.BigEndian.Uint16(p[6:8]),
				Area: p[8], Address: addr >> 3, Bit: uint8(addr & 7)})
		}
		p = p[2+l:]
	}
}

// s7ItemStatus sets r.Status to the first item return code of a read-var
// or write-var ack-data that is not success (0xff), s7comm.c
// "s7comm_decode_response_read_data": each read item is return code (1),
// transport size (1), length (2, in bits for sizes 3, 4 and 5), data,
// padded to even; each write item is its return code.
func s7ItemStatus(param, data []byte, r *Result) {
	if len(param) < 2 {
		return
	}
	for i := 0; i < int(param[1]) && len(data) >= 1; i++ {
		if data[0] != 0xff {
			r.Status = int(data[0])
			return
		}
		if param[0] == s7WriteVar {
			data = data[1:]
			continue
		}
		if len(data) < 4 {
			return
		}
		n := int(binary.BigEndian.Uint16(data[2:4]))
		if ts := data[1]; ts == 3 || ts == 4 || ts == 5 {
			n = (n + 7) / 8
		}
		if n+n&1 > len(data)-4 {
			return
		}
		data = data[4+n+n&1:]
	}
}

// s7UpDownBlock reads the block a download or upload names: function (1),
// status (1), 2 unknown octets, 4 octets (the upload id), the file name's
// length (1) and the file name "_0A00001P" (identifier, block type,
// block number, destination file system), s7comm.c
// "s7comm_decode_plc_controls_updownload".
func s7UpDownBlock(param []byte, r *Result) {
	if len(param) < 9 {
		return
	}
	l := int(param[8])
	if l < 9 || len(param) < 9+l || param[9] != '_' {
		return
	}
	r.writes(groupS7)
	r.Block, _ = s7BlockName(param[10 : 10+7])
}

// s7PIBlock reads the first block a PI service names (_INSE, _DELE): 7
// unknown octets, the parameter block's length (2), then the number of
// blocks (1), an unknown octet and the blocks' names "0A00001P".
func s7PIBlock(param []byte, r *Result) {
	if len(param) < 12 {
		return
	}
	pl := int(binary.BigEndian.Uint16(param[8:10]))
	if pl < 10 || len(param) < 10+pl || param[10] == 0 {
		return
	}
	r.writes(groupS7)
	r.Block, _ = s7BlockName(param[12:19])
}

// s7BlockName parses "0A00001": two hex digits of block type (0x08 OB
// ... 0x0F SFB) and five decimal digits of block number.
func s7BlockName(b []byte) (S7Block, bool) {
	if len(b) < 7 || b[0] != '0' || S7BlockTypeName(b[1]) == "" {
		return S7Block{}, false
	}
	n := int32(0)
	for _, c := range b[2:7] {
		if c < '0' || c > '9' {
			return S7Block{}, false
		}
		n = n*10 + int32(c-'0')
	}
	return S7Block{Type: b[1], Number: n}, true
}

// s7UserDataDecode reads the userdata parameter head (s7comm.c
// "s7comm_decode_ud"): 00 01 12, parameter length (4 or 8: the rest of
// the parameter), method (0x11 request, 0x12 response, 0x00 push), type
// (high nibble: 0 push, 4 request, 8 response) and function group (low
// nibble: 0 mode transition, 1 programmer commands, 2 cyclic data, 3
// block functions, 4 CPU functions, 5 security, 6 PBC, 7 time functions,
// 15 NC programming), subfunction, sequence number; a response adds data
// unit reference, last data unit and an error code (2). A mode-transition
// push reports the PLC's new mode in its subfunction (0 STOP, 1 warm
// restart, 2 RUN, 3 hot restart, 4 HOLD, 6 cold restart, 9 RUN_R, 11
// LINK-UP, 12 UPDATE). In a CPU-functions response the data part is
// return code, transport size, length (2), then SZL id (2), index (2),
// record length (2), record count (2) and the records.
func s7UserDataDecode(param, data []byte, r *Result) error {
	if len(param) < 8 || param[0] != 0x00 || param[1] != 0x01 || param[2] != 0x12 {
		return errField
	}
	typ := param[5] >> 4
	group := param[5] & 0x0f
	sub := param[6]
	r.writes(groupS7)
	r.Group, r.Subfunction = int(group), int(sub)
	switch typ {
	case 0: // push: the PLC tells, unasked
		r.Txn = -1
		r.Request, r.Response, r.Notification = false, true, true
		if group == 0 && sub == 0 {
			r.Action = ActS7Stopped
		}
	case 8:
		r.Status = 0
		if len(param) >= 12 {
			if code := int(binary.BigEndian.Uint16(param[10:12])); code != 0 {
				r.Status = code
			}
		}
	}
	if group == 4 && sub == 1 && typ == 8 && len(data) >= 12 && data[0] == 0xff {
		return s7SZL(data[4:], r)
	}
	return nil
}

// s7SZL extracts identity from SZL-ID 0x0011 (module identification: 28
// byte records, index, 20-byte order number, then the version as three
// bytes for index 7, "firmware") and 0x001C (component identification: 34
// byte records, index then a 32-byte string; index 1 system name, 2 module
// name, 5 serial number, 7 module type name).
func s7SZL(d []byte, r *Result) error {
	if len(d) < 8 {
		return errShort
	}
	id := binary.BigEndian.Uint16(d[0:2])
	rl := int(binary.BigEndian.Uint16(d[4:6]))
	cnt := int(binary.BigEndian.Uint16(d[6:8]))
	recs := d[8:]
	for i := 0; i < cnt && rl > 2 && len(recs) >= rl; i++ {
		rec := recs[:rl]
		recs = recs[rl:]
		idx := binary.BigEndian.Uint16(rec[0:2])
		switch {
		case id&0xff == 0x11 && rl >= 28:
			switch idx {
			case 1:
				r.WriteIdent().Model = trimS7(rec[2:22])
			case 7:
				r.WriteIdent().Firmware = s7Version(rec[25:28])
			}
		case id&0xff == 0x1c && rl >= 34:
			switch idx {
			case 1:
				if r.Ident.Name == "" {
					r.WriteIdent().Name = trimS7(rec[2:34])
				}
			case 5:
				r.WriteIdent().Serial = trimS7(rec[2:26])
			case 7:
				if r.Ident.Model == "" {
					r.WriteIdent().Model = trimS7(rec[2:34])
				}
			}
		}
	}
	r.HasIdent = r.Ident.Model != "" || r.Ident.Firmware != "" || r.Ident.Serial != "" || r.Ident.Name != ""
	if r.HasIdent {
		r.WriteIdent().Vendor = "Siemens"
	}
	return nil
}

func trimS7(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(bytes.TrimSpace(b))
}

func s7Version(v []byte) string {
	const digits = "0123456789"
	out := []byte{'V'}
	for i, x := range v {
		if i > 0 {
			out = append(out, '.')
		}
		if x >= 100 {
			out = append(out, digits[x/100])
		}
		if x >= 10 {
			out = append(out, digits[x/10%10])
		}
		out = append(out, digits[x%10])
	}
	return string(out)
}
