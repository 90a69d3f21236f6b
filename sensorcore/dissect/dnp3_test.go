package dissect

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// dnp3Frame builds a link frame with valid CRCs around user data.
func dnp3Frame(ctrl byte, user []byte) []byte {
	h := []byte{0x05, 0x64, byte(5 + len(user)), ctrl, 1, 0, 2, 0}
	h = binary.LittleEndian.AppendUint16(h, crcDNP3(h))
	for len(user) > 0 {
		n := min(16, len(user))
		h = append(h, user[:n]...)
		h = binary.LittleEndian.AppendUint16(h, crcDNP3(user[:n]))
		user = user[n:]
	}
	return h
}

func TestDNP3(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		fc     int
		action Action
		master bool
		err    error
	}{
		{"read class 0", dnp3Frame(0xc4, []byte{0xc0, 0xc1, 0x01, 0x3c, 0x01, 0x06}), 1, ActNone, true, nil},
		{"cold restart", dnp3Frame(0xc4, []byte{0xc0, 0xc2, 0x0d}), 13, ActDNP3ColdRestart, true, nil},
		{"warm restart", dnp3Frame(0xc4, []byte{0xc0, 0xc2, 0x0e}), 14, ActDNP3WarmRestart, true, nil},
		{"stop application", dnp3Frame(0xc4, []byte{0xc0, 0xc2, 0x12}), 18, ActDNP3StopApp, true, nil},
		{"direct operate", dnp3Frame(0xc4, []byte{0xc0, 0xc3, 0x05, 0x0c, 0x01, 0x28, 1, 0, 0, 0, 3, 1, 0xe8, 3, 0, 0, 0, 0, 0, 0, 0}), 5, ActDNP3DirectOperate, true, nil},
		{"unsolicited response", dnp3Frame(0x44, []byte{0xc0, 0xf0, 0x82, 0, 0}), 130, ActNone, false, nil},
		{"link status only", dnp3Frame(0xc9, nil), -1, ActNone, true, nil},
		{"bad function", dnp3Frame(0xc4, []byte{0xc0, 0xc2, 0x60}), 0x60, ActNone, true, ErrMalformed},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !MatchDNP3(tc.frame) || DNP3Len(tc.frame) != len(tc.frame) {
				t.Fatalf("frame not matched or framed (Len %d of %d)", DNP3Len(tc.frame), len(tc.frame))
			}
			err := DecodeDNP3(tc.frame, decode.DirUnknown, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != tc.fc || r.Action != tc.action || (r.SrcRole == RoleDNP3Master) != tc.master {
				t.Fatalf("fc %d action %d role %v", r.Function, r.Action, r.SrcRole)
			}
		})
	}
	if f := dnp3Frame(0x44, []byte{0xc0, 0xf0, 0x82, 0, 0}); DNP3Unsolicited(&r) {
		_ = f
	}
	bad := dnp3Frame(0xc4, []byte{0xc0, 0xc2, 0x0d})
	bad[len(bad)-1] ^= 0xff
	if err := DecodeDNP3(bad, decode.DirUnknown, &r); !errors.Is(err, ErrMalformed) {
		t.Errorf("block CRC error not detected: %v", err)
	}
	hdr := dnp3Frame(0xc4, nil)
	hdr[8] ^= 1
	if MatchDNP3(hdr) {
		t.Error("header CRC error matched")
	}
}

func TestDNP3Captured(t *testing.T) {
	pl := payloads(t, "dnp3/cold_restart_and_response.pcap", 20000, 100)
	mustSkipNoCaptures(t, pl, "dnp3/cold_restart_and_response.pcap")
	var r Result
	found := false
	for _, p := range pl {
		if DNP3Len(p) == len(p) && DecodeDNP3(p, decode.DirUnknown, &r) == nil && r.Action == ActDNP3ColdRestart {
			found = true
		}
	}
	if !found {
		t.Fatal("no cold restart found in cold_restart_and_response.pcap")
	}
}

func FuzzDNP3(f *testing.F) {
	fuzzSeeds(f, "dnp3/*", 20000, dnp3Frame(0xc4, []byte{0xc0, 0xc2, 0x0d}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		checkFramer(t, "dnp3", DNP3Len, b)
		MatchDNP3(b)
		DecodeDNP3(b, decode.DirUnknown, &r)
	})
}

func TestDNP3CRCTable(t *testing.T) {
	for _, b := range [][]byte{{}, {0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04}, []byte("123456789"), make([]byte, 300)} {
		if crcDNP3(b) != crcDNP3Bitwise(b) {
			t.Fatalf("table CRC differs for %x", b)
		}
	}
}
