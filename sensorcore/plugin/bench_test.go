package plugin

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/cputime"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

type adu struct {
	b   []byte
	dir decode.Direction
}

// modbusADUs frames the Modbus/TCP ADUs of the shared Modbus captures
// (port 502, whole ADUs per segment, as these captures carry them).
func modbusADUs(tb testing.TB) []adu {
	var out []adu
	for _, f := range shared(tb, "modbus/*.pcap") {
		cf, err := capture.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		var d decode.Decoder
		for {
			data, ci, err := cf.Reader.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			if d.Decode(data, ci.LinkType) != nil || d.Pkt.Proto != decode.ProtoTCP || len(d.Pkt.Payload) == 0 {
				continue
			}
			dir := decode.DirToServer
			if d.Pkt.SrcPort == 502 {
				dir = decode.DirToClient
			} else if d.Pkt.DstPort != 502 {
				continue
			}
			b := d.Pkt.Payload
			for len(b) > 0 {
				n := dissect.ModbusLen(b)
				if n <= 0 {
					break
				}
				out = append(out, adu{append([]byte(nil), b[:n]...), dir})
				b = b[n:]
			}
		}
		cf.Close()
	}
	if len(out) < 1000 {
		tb.Fatalf("%d ADUs", len(out))
	}
	return out
}

// BenchmarkModbusBuiltin and BenchmarkModbusPlugin decode the same ADUs of
// the shared Modbus captures, one ADU per op: the built-in decoder, and
// the Modbus example plugin through the interpreter (the ratio of the two
// is what a protocol described as a plugin costs).
func BenchmarkModbusBuiltin(b *testing.B) {
	adus := modbusADUs(b)
	var r dissect.Result
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		a := &adus[i%len(adus)]
		dissect.DecodeModbus(a.b, a.dir, &r)
	}
	reportCPU(b, cpu0)
}

func BenchmarkModbusPlugin(b *testing.B) {
	adus := modbusADUs(b)
	data, err := os.ReadFile(example(b, "modbus"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	id, err := p.Register(dissect.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	var r dissect.Result
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		a := &adus[i%len(adus)]
		p.Decode(id, a.b, a.dir, &r) // malformed ADUs count as such, like the built-in's
	}
	reportCPU(b, cpu0)
}

// reportCPU adds the cpu-ns/op metric (CPU time since cpu0; see
// cputime.Process: run with GOMAXPROCS=1 so it is the benchmark loop's).
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if d := cputime.Process() - cpu0; d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
