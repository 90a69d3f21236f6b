package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/cputime"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// mix is the shared captures concatenated into one in-memory pcap, with
// the offsets of every TCP sequence and acknowledgement number so each
// replay can move them forward (otherwise the second pass would be
// trimmed as a retransmission and never reach the dissectors).
type mix struct {
	pcap    []byte
	seqOffs []int
	packets int
}

func loadMix(b *testing.B) *mix { return loadMixOf(b, sharedCaptures(b)) }

// loadMixOf is the mix of the given captures.
func loadMixOf(b *testing.B, files []string) *mix {
	var buf bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], capture.LinkEthernet)
	buf.Write(h)
	mx := &mix{}
	var d decode.Decoder
	for _, f := range files {
		r, err := capture.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		for {
			data, ci, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rec := make([]byte, 16)
			binary.LittleEndian.PutUint32(rec[0:], uint32(ci.Timestamp().Unix()))
			binary.LittleEndian.PutUint32(rec[4:], uint32(ci.Timestamp().Nanosecond()))
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(data)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(ci.Length))
			buf.Write(rec)
			start := buf.Len()
			buf.Write(data)
			if d.Decode(data, ci.LinkType) == nil && d.Pkt.Proto == decode.ProtoTCP && d.Pkt.HasTransport && !d.Pkt.Fragment {
				mx.seqOffs = append(mx.seqOffs, start+d.Pkt.L4Offset+4)
			}
			mx.packets++
		}
		r.Close()
	}
	mx.pcap = buf.Bytes()
	return mx
}

// advance moves every TCP sequence and acknowledgement number 2^30
// forward: each stream resumes after a gap on the next replay.
func (mx *mix) advance() {
	for _, off := range mx.seqOffs {
		for _, o := range []int{off, off + 4} {
			v := binary.BigEndian.Uint32(mx.pcap[o:])
			binary.BigEndian.PutUint32(mx.pcap[o:], v+1<<30)
		}
	}
}

// reportCPU adds the cpu-ns/op and cpu-pkts/s metrics (CPU time since
// cpu0; see cputime.Process).
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if d := cputime.Process() - cpu0; d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/d.Seconds(), "cpu-pkts/s")
	}
}

// infoReader reads the in-memory pcap the way RunReader reads a capture
// file (capture.InfoReader).
func infoReader(b *testing.B, pcap []byte) capture.InfoReader {
	r, err := capture.NewBytesReader(pcap)
	if err != nil {
		b.Fatal(err)
	}
	ir, ok := r.(capture.InfoReader)
	if !ok {
		b.Fatal("the pcap reader is not an InfoReader")
	}
	return ir
}

// BenchmarkPipeline is the full pipeline (read, decode, dissect,
// inventory, alerts) over an in-memory mix of the shared captures, one
// packet per op, on one goroutine.
func BenchmarkPipeline(b *testing.B) { benchPipeline(b, Options{Learning: time.Hour}) }

// BenchmarkPipelineOperations is BenchmarkPipeline with the operations
// log on (records encoded and written to io.Discard).
func BenchmarkPipelineOperations(b *testing.B) {
	benchPipeline(b, Options{Learning: time.Hour, Operations: io.Discard})
}

func benchPipeline(b *testing.B, opts Options) { benchPipelineMix(b, loadMix(b), opts) }

func benchPipelineMix(b *testing.B, mx *mix, opts Options) {
	m, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	p := m.pipe // one goroutine: no lock per packet, as in RunReader
	r, _ := capture.NewBytesReader(mx.pcap)
	// one warm-up pass so every flow, asset and baseline entry exists
	for {
		data, ci, err := r.Next()
		if err != nil {
			break
		}
		p.Packet(data, ci)
	}
	mx.advance()
	ir := infoReader(b, mx.pcap)
	var bytesIn int64
	var ci capture.Info
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	// harness is the CPU time spent between passes rewriting the mix
	// (about 30,000 scattered sequence numbers per pass): the harness's
	// work, not the pipeline's, so it is left out of both figures.
	var harness time.Duration
	for b.Loop() {
		// as RunReader reads a capture file
		data, err := ir.NextInfo(&ci)
		if err != nil {
			b.StopTimer()
			h0 := cputime.Process()
			mx.advance()
			ir = infoReader(b, mx.pcap)
			harness += cputime.Process() - h0
			b.StartTimer()
			continue
		}
		bytesIn += int64(len(data))
		p.packet(data, &ci)
	}
	reportCPU(b, cpu0+harness)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.SetBytes(bytesIn / int64(b.N))
}

// BenchmarkReadFloor only reads the same records: the floor the pipeline
// is measured against.
func BenchmarkReadFloor(b *testing.B) {
	mx := loadMix(b)
	ir := infoReader(b, mx.pcap)
	var ci capture.Info
	var sum int
	b.ReportAllocs()
	cpu0 := cputime.Process()
	for b.Loop() {
		data, err := ir.NextInfo(&ci)
		if err != nil {
			ir = infoReader(b, mx.pcap)
			continue
		}
		sum += len(data)
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	_ = sum
}

// allocsPerModbusPair opens a Modbus/TCP connection on m, then returns
// the allocations of each further read request and its response through
// the pipeline (200 pairs), calling each after every pair when not nil.
func allocsPerModbusPair(m *Monitor, each func()) float64 {
	c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
	c.open()
	c.send(true, readReq)
	c.send(false, readResp)
	reqFrame := pcaptest.TCPFrame(1, 2, 40000, 502, 0, 0x18, readReq)
	respFrame := pcaptest.TCPFrame(2, 1, 502, 40000, 0, 0x18, readResp)
	ci := capture.Info{UnixNano: t0.Add(time.Second).UnixNano(), LinkType: capture.LinkEthernet}
	seqReq, seqResp := c.cseq, c.sseq
	return testing.AllocsPerRun(200, func() {
		binary.BigEndian.PutUint32(reqFrame[38:], seqReq)
		binary.BigEndian.PutUint32(respFrame[38:], seqResp)
		m.pipe.Packet(reqFrame, ci)
		m.pipe.Packet(respFrame, ci)
		seqReq += uint32(len(readReq))
		seqResp += uint32(len(readResp))
		if each != nil {
			each()
		}
	})
}

// TestPipelineNoAlloc: replaying known traffic allocates nothing per
// packet.
func TestPipelineNoAlloc(t *testing.T) {
	m, _ := New(Options{Learning: time.Hour})
	defer m.Close()
	if n := allocsPerModbusPair(m, nil); n != 0 {
		t.Fatalf("%v allocations per request/response", n)
	}
	if got := m.Stats().Protocols["modbus"].PDUs; got < 400 {
		t.Fatalf("only %d PDUs counted", got)
	}
}

// FuzzPipeline feeds arbitrary frames, as a run of one TCP stream on port
// 502 and as raw frames, through the whole pipeline: nothing may panic.
func FuzzPipeline(f *testing.F) {
	f.Add(pcaptest.TCPFrame(1, 2, 40000, 502, 1, 0x18, readReq), readResp)
	f.Add(pcaptest.TCPFrame(1, 2, 40000, 102, 1, 0x18, []byte{3, 0, 0, 7, 2, 0xf0, 0x80}), []byte{0x32, 1})
	f.Add(pcaptest.TCPFrame(1, 2, 40000, 20000, 1, 0x18, []byte{5, 0x64, 5, 0xc9, 1, 0, 2, 0}), []byte{0x68, 4, 7, 0, 0, 0})
	f.Fuzz(func(t *testing.T, frame, payload []byte) {
		m, _ := New(Options{Learning: time.Nanosecond})
		ci := capture.Info{UnixNano: t0.UnixNano(), LinkType: capture.LinkEthernet}
		m.Packet(frame, ci)
		for _, port := range []uint16{502, 102, 20000, 44818, 2404, 443, 80} {
			m.Packet(pcaptest.TCPFrame(1, 2, 40000, port, 1, 0x18, payload), ci)
			m.Packet(pcaptest.TCPFrame(2, 1, port, 40000, 1, 0x18, payload), ci)
			m.Packet(pcaptest.TCPFrame(1, 2, 40000, port, 1+uint32(len(payload)), 0x18, payload), ci)
		}
		m.Report()
	})
}
