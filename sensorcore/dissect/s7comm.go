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
		Functions:  lookup(s7Functions),
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
	if b[0] != 3 || b[1] != 0 {
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
	data := s[hl+plen : hl+plen+dlen]
	r.Txn = int(binary.BigEndian.Uint16(s[4:6])) // PDU reference, echoed by the ack
	if hl == 12 {
		r.Status = int(s[10])<<8 | int(s[11]) // error class and code, 0 when none
	}
	if rosctr == s7Job || rosctr == s7UserData && len(param) >= 5 && param[4]>>4 == 4 {
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
			return nil
		}
		switch param[0] {
		case s7PLCStop:
			r.Action = ActS7Stop
		case s7RequestDownload:
			r.Action = ActS7Download
		case s7StartUpload:
			r.Action = ActS7Upload
		case s7PIService:
			// PI service name follows a 7-byte unknown field and a
			// parameter block (s7comm.c "dissect_piservice").
			if bytes.Contains(param, []byte("P_PROGRAM")) {
				r.Action = ActS7Start
			}
		}
	case s7UserData:
		return s7UserDataDecode(param, data, r)
	}
	return nil
}

// s7UserDataDecode reads the userdata parameter head (s7comm.c
// "dissect_userdata"): 00 01 12, parameter length, method, type (high
// nibble: 4 request, 8 response) and function group (low nibble: 4 CPU
// functions), subfunction (1 read SZL), sequence number. In a response the
// data part is return code, transport size, length (2), then SZL id (2),
// index (2), record length (2), record count (2) and the records.
func s7UserDataDecode(param, data []byte, r *Result) error {
	if len(param) < 8 || param[0] != 0x00 || param[1] != 0x01 || param[2] != 0x12 {
		return errField
	}
	group := param[5] & 0x0f
	sub := param[6]
	typ := param[5] >> 4
	if group == 4 && sub == 1 && typ == 8 && len(data) >= 12 && data[0] == 0xff {
		return s7SZL(data[4:], r)
	}
	if group == 7 { // time functions etc. carry nothing we use
		return nil
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
				r.Ident.Model = trimS7(rec[2:22])
			case 7:
				r.Ident.Firmware = s7Version(rec[25:28])
			}
		case id&0xff == 0x1c && rl >= 34:
			switch idx {
			case 1:
				if r.Ident.Name == "" {
					r.Ident.Name = trimS7(rec[2:34])
				}
			case 5:
				r.Ident.Serial = trimS7(rec[2:26])
			case 7:
				if r.Ident.Model == "" {
					r.Ident.Model = trimS7(rec[2:34])
				}
			}
		}
	}
	r.HasIdent = r.Ident.Model != "" || r.Ident.Firmware != "" || r.Ident.Serial != "" || r.Ident.Name != ""
	if r.HasIdent {
		r.Ident.Vendor = "Siemens"
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
