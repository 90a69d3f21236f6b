package dissect

import (
	"errors"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// s7job builds TPKT + COTP DT + S7 job header with the given parameters.
func s7pdu(rosctr byte, param, data []byte) []byte {
	hl := 10
	if rosctr == 2 || rosctr == 3 {
		hl = 12
	}
	s := make([]byte, hl)
	s[0], s[1] = 0x32, rosctr
	s[6], s[7] = byte(len(param)>>8), byte(len(param))
	s[8], s[9] = byte(len(data)>>8), byte(len(data))
	s = append(append(s, param...), data...)
	b := append([]byte{3, 0, 0, 0, 2, 0xf0, 0x80}, s...)
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

func TestS7(t *testing.T) {
	pi := append([]byte{0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 9}, "P_PROGRAM"...)
	tests := []struct {
		name   string
		pdu    []byte
		fc     int
		action Action
		err    error
	}{
		{"read var", s7pdu(1, []byte{0x04, 1, 0x12, 0x0a, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0}, nil), 4, ActNone, nil},
		{"setup communication", s7pdu(1, []byte{0xf0, 0, 0, 1, 0, 1, 0x01, 0xe0}, nil), 0xf0, ActNone, nil},
		{"plc stop", s7pdu(1, append([]byte{0x29, 0, 0, 0, 0, 0, 9}, "P_PROGRAM"...), nil), 0x29, ActS7Stop, nil},
		{"plc start", s7pdu(1, pi, nil), 0x28, ActS7Start, nil},
		{"request download", s7pdu(1, []byte{0x1a, 0, 1, 0, 0, 0, 0, 0, 9}, nil), 0x1a, ActS7Download, nil},
		{"start upload", s7pdu(1, []byte{0x1d, 0, 0, 0, 0, 0, 0, 0}, nil), 0x1d, ActS7Upload, nil},
		{"ack-data write var", s7pdu(3, []byte{0x05, 1}, []byte{0xff}), 5, ActNone, nil},
		{"bad rosctr", s7pdu(9, []byte{4}, nil), -1, ActNone, ErrMalformed},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeS7(tc.pdu, decode.DirToServer, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != tc.fc || r.Action != tc.action {
				t.Fatalf("fc %d action %d, want %d %d", r.Function, r.Action, tc.fc, tc.action)
			}
		})
	}
	// A COTP connection request is ISO-on-TCP but not S7comm.
	cr := []byte{3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 9}
	if !MatchTPKT(cr) {
		t.Error("COTP CR not matched")
	}
	if err := DecodeS7(cr, decode.DirToServer, &r); !errors.Is(err, ErrNoPDU) {
		t.Errorf("COTP CR: err = %v, want ErrNoPDU", err)
	}
}

// TestS7SZLIdentity reads the CPU identity from the real SZL responses in
// s7comm_downloading_block_db1.pcap.
func TestS7SZLIdentity(t *testing.T) {
	pl := payloads(t, "s7comm/s7comm_reading_plc_status.pcap", 102, 1000)
	mustSkipNoCaptures(t, pl, "s7comm/s7comm_reading_plc_status.pcap")
	var r Result
	var id Identity
	for _, p := range pl {
		if n := TPKTLen(p); n == len(p) && DecodeS7(p, decode.DirToClient, &r) == nil && r.HasIdent {
			if r.Ident.Model != "" {
				id.Model = r.Ident.Model
			}
			if r.Ident.Firmware != "" {
				id.Firmware = r.Ident.Firmware
			}
			if r.Ident.Serial != "" {
				id.Serial = r.Ident.Serial
			}
		}
	}
	if id.Model == "" || id.Firmware == "" || id.Serial == "" {
		t.Fatalf("identity incomplete: %+v", id)
	}
}

func FuzzS7(f *testing.F) {
	fuzzSeeds(f, "s7comm/*", 102, s7pdu(1, []byte{0x29, 0, 0, 0, 0, 0, 9}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		checkFramer(t, "tpkt", TPKTLen, b)
		MatchTPKT(b)
		DecodeS7(b, decode.DirToServer, &r)
	})
}
