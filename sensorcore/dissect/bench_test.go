package dissect

import (
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// BenchmarkDecoders times each decoder on a typical PDU; all must run
// without allocating.
func BenchmarkDecoders(b *testing.B) {
	cases := []struct {
		name string
		pdu  []byte
		fn   func([]byte, decode.Direction, *Result) error
	}{
		{"modbus", []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}, DecodeModbus},
		{"s7comm", s7pdu(1, []byte{0x04, 1, 0x12, 0x0a, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0}, nil), DecodeS7},
		{"dnp3", dnp3Frame(0xc4, []byte{0xc0, 0xc1, 0x01, 0x3c, 0x01, 0x06}), DecodeDNP3},
		{"enip", rrData([]byte{0x0e, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07}), DecodeENIP},
		{"bacnet", bvlc(0x0a, []byte{1, 0x04, 0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0, 0, 0x7b, 0x19, 0x4d}), DecodeBACnet},
		{"iec104", iframe([]byte{13, 1, 3, 0, 1, 0, 1, 0, 0, 0, 0, 0x80, 0x3f, 0}), DecodeIEC104},
		{"dns", dnsMsg(b, true), DecodeDNS},
		{"tls", clientHello(b, "plc.example"), DecodeTLS},
		{"http", httpRequest(b, "http://plc.example/"), DecodeHTTP},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var r Result
			b.ReportAllocs()
			b.SetBytes(int64(len(c.pdu)))
			for b.Loop() {
				c.fn(c.pdu, decode.DirToServer, &r)
			}
		})
	}
}
