package dissect

import (
	"errors"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

func iframe(asdu []byte) []byte {
	b := append([]byte{0x68, 0, 0x02, 0, 0x04, 0}, asdu...)
	b[1] = byte(len(b) - 2)
	return b
}

func TestIEC104(t *testing.T) {
	tests := []struct {
		name   string
		apdu   []byte
		match  bool
		fc     int
		action Action
		err    error
	}{
		{"startdt act", []byte{0x68, 4, 0x07, 0, 0, 0}, true, -1, ActNone, nil},
		{"testfr con", []byte{0x68, 4, 0x83, 0, 0, 0}, true, -1, ActNone, nil},
		{"s-format", []byte{0x68, 4, 0x01, 0, 0x10, 0}, true, -1, ActNone, nil},
		{"two U functions at once", []byte{0x68, 4, 0x0f, 0, 0, 0}, false, -1, ActNone, nil},
		{"single command act", iframe([]byte{45, 1, 6, 0, 1, 0, 0x10, 0, 0, 0x81}), true, 45, ActIEC104Command, nil},
		{"single command actcon", iframe([]byte{45, 1, 7, 0, 1, 0, 0x10, 0, 0, 0x81}), true, 45, ActNone, nil},
		{"setpoint with time", iframe([]byte{63, 1, 6, 0, 1, 0, 0x10, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0}), true, 63, ActIEC104Command, nil},
		{"interrogation", iframe([]byte{100, 1, 6, 0, 1, 0, 0, 0, 0, 20}), true, 100, ActNone, nil},
		{"measured value", iframe([]byte{13, 1, 3, 0, 1, 0, 1, 0, 0, 0, 0, 0x80, 0x3f, 0}), true, 13, ActNone, nil},
		{"asdu cut short", []byte{0x68, 6, 0, 0, 0, 0, 24, 24}, false, 24, ActNone, ErrMalformed},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if MatchIEC104(tc.apdu) != tc.match {
				t.Fatalf("Match = %v", !tc.match)
			}
			err := DecodeIEC104(tc.apdu, decode.DirToServer, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != tc.fc || r.Action != tc.action {
				t.Fatalf("fc %d action %d", r.Function, r.Action)
			}
		})
	}
	DecodeIEC104(iframe([]byte{45, 1, 6, 0, 0x34, 0x12, 0x10, 0, 0, 0x81}), decode.DirToServer, &r)
	if r.Cause != 6 || r.Unit != 0x1234 {
		t.Fatalf("cause %d common address %#x", r.Cause, r.Unit)
	}
	if IEC104Len([]byte{0x68, 3}) != -1 || IEC104Len([]byte{0x68, 10, 0}) != 0 {
		t.Error("framing of bad length or partial APDU")
	}
}

func FuzzIEC104(f *testing.F) {
	fuzzSeeds(f, "iec104/*", 2404, iframe([]byte{45, 1, 6, 0, 1, 0, 0x10, 0, 0, 0x81}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		checkFramer(t, "iec104", IEC104Len, b)
		MatchIEC104(b)
		DecodeIEC104(b, decode.DirToServer, &r)
	})
}
