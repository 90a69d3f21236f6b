package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
)

// loopCapture is what `tcpreplay --loop n` puts on the wire, as a capture
// of it records it: the file's packets n times over, unchanged (same
// addresses, ports, ISNs and sequence numbers), each loop starting gap
// after the previous one ended.
func loopCapture(t testing.TB, file string, n int, gap time.Duration) []byte {
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type rec struct {
		ts   time.Time
		orig int
		data []byte
		lt   int
	}
	var recs []rec
	for {
		data, ci, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{ci.Timestamp(), ci.Length, append([]byte(nil), data...), ci.LinkType})
	}
	if len(recs) == 0 {
		t.Fatalf("%s: no packets", file)
	}
	var buf bytes.Buffer
	buf.Write(pcapHeader(recs[0].lt))
	span := recs[len(recs)-1].ts.Sub(recs[0].ts) + gap
	for i := 0; i < n; i++ {
		for _, r := range recs {
			writeRecord(&buf, r.ts.Add(time.Duration(i)*span), r.orig, r.data)
		}
	}
	return buf.Bytes()
}

// pcapHeader is a nanosecond pcap file header for the link type.
func pcapHeader(linkType int) []byte {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], capture.MaxSnapLen)
	binary.LittleEndian.PutUint32(h[20:], uint32(linkType))
	return h
}

// writeRecord appends one nanosecond pcap record.
func writeRecord(buf *bytes.Buffer, ts time.Time, orig int, data []byte) {
	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(rec[4:], uint32(ts.Nanosecond()))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(orig))
	buf.Write(rec[:])
	buf.Write(data)
}

// singleSegmentFlows reports whether every TCP flow direction of the file
// carries at most one data segment.
func singleSegmentFlows(t *testing.T, file string) bool {
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var d decode.Decoder
	seen := map[decode.FlowKey]int{}
	for {
		data, ci, err := r.Next()
		if err != nil {
			break
		}
		if d.Decode(data, ci.LinkType) == nil && d.Pkt.Proto == decode.ProtoTCP && len(d.Pkt.Payload) > 0 {
			seen[d.Pkt.Key()]++
			if seen[d.Pkt.Key()] > 1 {
				return false
			}
		}
	}
	return true
}

func reportOf(t *testing.T, pcap []byte) Report {
	m, err := New(Options{Learning: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := capture.NewBytesReader(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RunReader(r); err != nil {
		t.Fatal(err)
	}
	return m.Report()
}

// TestReplayedCaptureCountsN: a capture replayed n times (tcpreplay
// --loop), the loops following each other closely or a day apart, counts
// every PDU and function n times: streams that come back are new
// connections, never retransmissions of the old ones.
func TestReplayedCaptureCountsN(t *testing.T) {
	const n = 3
	for _, file := range sharedCaptures(t) {
		name := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		one := reportOf(t, loopCapture(t, file, 1, 0))
		gaps := []time.Duration{time.Millisecond, 24 * time.Hour}
		if singleSegmentFlows(t, file) {
			// Back to back, the loops of a capture with one data segment
			// per direction are byte-identical retransmissions (same
			// sequence and acknowledgement numbers): nothing on the wire
			// tells them from one. Only the day-apart replay applies.
			gaps = gaps[1:]
		}
		for _, gap := range gaps {
			many := reportOf(t, loopCapture(t, file, n, gap))
			for proto, p := range one.Protocols {
				q := many.Protocols[proto]
				if q.PDUs != n*p.PDUs || q.Malformed != n*p.Malformed {
					t.Errorf("%s looped %d times, %v apart: %s %d PDUs (%d malformed), want %d (%d)", name, n, gap, proto, q.PDUs, q.Malformed, n*p.PDUs, n*p.Malformed)
				}
				for fc, c := range p.Functions {
					if q.Functions[fc] != n*c {
						t.Errorf("%s looped %d times, %v apart: %s function %s %d times, want %d", name, n, gap, proto, fc, q.Functions[fc], n*c)
					}
				}
			}
		}
	}
}

// TestSnaplenTruncated: every shared capture re-recorded with a 60-byte
// snapshot length (as tcpdump -s 60 would) counts its cut packets as
// truncated, and reports no malformed PDU that the whole capture does not.
func TestSnaplenTruncated(t *testing.T) {
	for _, file := range sharedCaptures(t) {
		name := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		r, err := capture.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		cut, lt := 0, -1
		for {
			data, ci, err := r.Next()
			if err != nil {
				break
			}
			if lt < 0 {
				lt = ci.LinkType
				buf.Write(pcapHeader(lt))
			}
			if len(data) > 60 {
				data = data[:60]
			}
			if ci.Length > len(data) {
				cut++ // cut here, or already in the file (bacnet_test.pcap was)
			}
			writeRecord(&buf, ci.Timestamp(), ci.Length, data)
		}
		r.Close()
		whole := reportOf(t, loopCapture(t, file, 1, 0))
		short := reportOf(t, buf.Bytes())
		if short.Truncated != uint64(cut) {
			t.Errorf("%s: %d truncated, %d packets were cut", name, short.Truncated, cut)
		}
		for proto, p := range short.Protocols {
			if p.Malformed > whole.Protocols[proto].Malformed {
				t.Errorf("%s: %s %d malformed with a 60-byte snapshot length, %d whole", name, proto, p.Malformed, whole.Protocols[proto].Malformed)
			}
		}
	}
}
