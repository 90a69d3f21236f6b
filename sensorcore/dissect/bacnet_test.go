package dissect

import (
	"errors"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

func bvlc(fn byte, npdu []byte) []byte {
	b := append([]byte{0x81, fn, 0, 0}, npdu...)
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

func TestBACnet(t *testing.T) {
	iam := bvlc(0x0b, []byte{1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x7b, 0x22, 0x05, 0xc4, 0x91, 0x00, 0x21, 0x0f})
	tests := []struct {
		name   string
		msg    []byte
		fc     int
		action Action
		err    error
	}{
		{"who-is", bvlc(0x0b, []byte{1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 0x08}), 8, ActNone, nil},
		{"i-am", iam, 0, ActNone, nil},
		{"read-property", bvlc(0x0a, []byte{1, 0x04, 0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0, 0, 0x7b, 0x19, 0x4d}), 12, ActNone, nil},
		{"write-property", bvlc(0x0a, []byte{1, 0x04, 0x00, 0x05, 0x02, 0x0f, 0x0c, 0, 0, 0, 1}), 15, ActBACnetWrite, nil},
		{"reinitialize-device", bvlc(0x0a, []byte{1, 0x04, 0x00, 0x05, 0x03, 0x14, 0x09, 0x00}), 20, ActBACnetReinit, nil},
		{"complex ack", bvlc(0x0a, []byte{1, 0x00, 0x30, 0x01, 0x0c, 0x0c}), 12, ActNone, nil},
		{"forwarded npdu", bvlc(0x04, []byte{192, 0, 2, 1, 0xba, 0xc0, 1, 0, 0x10, 0x08}), 8, ActNone, nil},
		{"bad npdu version", bvlc(0x0a, []byte{2, 0, 0x10, 0x08}), -1, ActNone, ErrMalformed},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !MatchBACnet(tc.msg) {
				t.Fatal("not matched")
			}
			err := DecodeBACnet(tc.msg, decode.DirToServer, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != tc.fc || r.Action != tc.action {
				t.Fatalf("fc %d action %d", r.Function, r.Action)
			}
		})
	}
	DecodeBACnet(iam, decode.DirToServer, &r)
	if !r.HasIdent || r.Ident.Instance != 123 || r.Ident.VendorID != 15 || r.SrcRole != RoleBACnetDevice {
		t.Fatalf("I-Am identity %+v", r.Ident)
	}
	if MatchBACnet([]byte{0x81, 0x0a, 0, 9, 1, 0}) {
		t.Error("length mismatch matched")
	}
}

func FuzzBACnet(f *testing.F) {
	fuzzSeeds(f, "bacnet/*", 47808, bvlc(0x0b, []byte{1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 0x08}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		MatchBACnet(b)
		DecodeBACnet(b, decode.DirToServer, &r)
	})
}
