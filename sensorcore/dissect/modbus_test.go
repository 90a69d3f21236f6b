package dissect

import (
	"errors"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

func TestModbus(t *testing.T) {
	devID := []byte{0, 1, 0, 0, 0, 0x1d, 1, 0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03,
		0x00, 0x06, 'S', 'c', 'h', 'n', 'e', 'i',
		0x01, 0x07, 'B', 'M', 'X', 'P', '3', '4', '2',
		0x02, 0x04, 'v', '2', '.', '1'}
	devID[5] = byte(len(devID) - 6)
	tests := []struct {
		name     string
		pdu      []byte
		dir      decode.Direction
		fc       int
		action   Action
		response bool
		err      error
		vendor   string
	}{
		{"read holding registers", []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}, decode.DirToServer, 3, ActNone, false, nil, ""},
		{"write single register", []byte{0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 3}, decode.DirToServer, 6, ActModbusWrite, false, nil, ""},
		{"write multiple coils response is not a write", []byte{0, 2, 0, 0, 0, 6, 1, 15, 0, 1, 0, 3}, decode.DirToClient, 15, ActNone, true, nil, ""},
		{"diagnostics restart", []byte{0, 3, 0, 0, 0, 6, 1, 8, 0, 1, 0, 0}, decode.DirToServer, 8, ActModbusRestart, false, nil, ""},
		{"exception", []byte{0, 4, 0, 0, 0, 3, 1, 0x83, 2}, decode.DirToClient, 3, ActNone, true, nil, ""},
		{"exception with extra byte", []byte{0, 4, 0, 0, 0, 4, 1, 0x81, 6, 0}, decode.DirToClient, 1, ActNone, true, ErrMalformed, ""},
		{"unknown function", []byte{0, 4, 0, 0, 0, 3, 1, 42, 2}, decode.DirToServer, 42, ActNone, false, ErrMalformed, ""},
		{"length disagrees", []byte{0, 4, 0, 0, 0, 9, 1, 3, 2}, decode.DirToServer, -1, ActNone, false, ErrMalformed, ""},
		{"device identification", devID, decode.DirToClient, 43, ActNone, true, nil, "Schnei"},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeModbus(tc.pdu, tc.dir, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != tc.fc || r.Action != tc.action || r.Response != tc.response {
				t.Fatalf("got fc %d action %d response %v", r.Function, r.Action, r.Response)
			}
			if tc.err == nil && r.Unit != int(tc.pdu[6]) {
				t.Fatalf("unit %d", r.Unit)
			}
			if r.Ident.Vendor != tc.vendor {
				t.Fatalf("vendor %q, want %q", r.Ident.Vendor, tc.vendor)
			}
			if tc.vendor != "" && (r.Ident.Model != "BMXP342" || r.Ident.Firmware != "v2.1") {
				t.Fatalf("identity %+v", r.Ident)
			}
		})
	}
}

// TestModbusContent: Modbus is found by content, and other protocols on
// port 502 are not Modbus.
func TestModbusContent(t *testing.T) {
	if !MatchModbus([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}) {
		t.Error("a read request was not recognised")
	}
	for name, b := range map[string][]byte{
		"http":   []byte("GET / HTTP/1.1\r\nHost: plc\r\n\r\n"),
		"tls":    {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03},
		"tpkt":   {3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0},
		"short":  {0, 1, 0},
		"length": {0, 1, 0, 0, 0x10, 0, 1, 3, 0, 0},
	} {
		if MatchModbus(b) {
			t.Errorf("%s matched as Modbus", name)
		}
	}
	if got := ModbusLen([]byte{0, 1, 0, 0, 0, 6, 1, 3}); got != 0 {
		t.Errorf("partial ADU: Len = %d, want 0 (need more)", got)
	}
	if got := ModbusLen([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10, 0}); got != 12 {
		t.Errorf("Len = %d, want 12", got)
	}
}

func TestModbusCaptured(t *testing.T) {
	pl := payloads(t, "modbus/*", 502, 500)
	mustSkipNoCaptures(t, pl, "modbus/*")
	var r Result
	ok := 0
	for _, p := range pl {
		for len(p) > 0 {
			n := ModbusLen(p)
			if n <= 0 {
				break
			}
			if DecodeModbus(p[:n], decode.DirToServer, &r) == nil {
				ok++
			}
			p = p[n:]
		}
	}
	if ok < len(pl)/2 {
		t.Fatalf("only %d of %d captured segments decoded", ok, len(pl))
	}
}

func FuzzModbus(f *testing.F) {
	fuzzSeeds(f, "modbus/*", 502, []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		checkFramer(t, "modbus", ModbusLen, b)
		MatchModbus(b)
		DecodeModbus(b, decode.DirToServer, &r)
		DecodeModbus(b, decode.DirToClient, &r)
	})
}
