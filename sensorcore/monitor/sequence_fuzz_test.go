package monitor

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// A packet sequence for FuzzPipelineSequence is a run of records:
//
//	dt (1 byte) | length (2 bytes, big-endian) | frame
//
// and a separate string of ops, one byte per record (records past its end
// get 0). An op perturbs its frame's TCP header before it is fed, so the
// fuzzer reaches the sequence-number edges (the half-space,
// retransmissions, connection reuse, idle expiry) by changing one short
// string instead of guessing 32 bits inside a frame; dt advances the
// packet clock (milliseconds, or hours with seqOpIdle). A last record
// shorter than its length is fed as far as it goes.
const (
	seqOpHalfSpace = 1 << iota // flip the top bit of the sequence number: 2^31 away
	seqOpRepeat                // reuse the previous TCP segment's sequence number
	seqOpSYN                   // set SYN
	seqOpFinRst                // set FIN and RST
	seqOpIdle                  // dt counts hours, not milliseconds
	seqOpAck                   // flip the top bit of the acknowledgement number
)

// seqLinkTypes are the link types a sequence is read under (its first
// argument picks one, modulo the length).
var seqLinkTypes = []int{decode.LinkEthernet, decode.LinkRaw, decode.LinkLinuxSLL, decode.LinkIPv4, decode.LinkIPv6, decode.LinkNull, decode.LinkLoop, decode.LinkLinuxSLL2}

// seqRecord appends one record to a sequence.
func seqRecord(seq []byte, dt byte, frame []byte) []byte {
	seq = append(seq, dt, byte(len(frame)>>8), byte(len(frame)))
	return append(seq, frame...)
}

// maxSeedPackets bounds each seed window taken from a shared capture.
const maxSeedPackets = 48

// captureSeeds turns windows of each shared capture (its first packets and
// a window from its middle) into sequences.
func captureSeeds(t testing.TB) (seeds [][]byte, links []uint8) {
	for _, file := range sharedCaptures(t) {
		r, err := capture.Open(file)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		var frames [][]byte
		var stamps []time.Time
		link := -1
		for {
			data, ci, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(file), err)
			}
			if link < 0 {
				link = ci.LinkType
			}
			frames = append(frames, append([]byte(nil), data[:min(len(data), 0xffff)]...))
			stamps = append(stamps, ci.Timestamp())
		}
		r.Close()
		li := -1
		for i, lt := range seqLinkTypes {
			if lt == link {
				li = i
			}
		}
		if li < 0 {
			continue // a link type the pipeline does not decode
		}
		for _, start := range []int{0, len(frames) / 2} {
			var seq []byte
			for i := start; i < len(frames) && i < start+maxSeedPackets; i++ {
				dt := 0
				if i > start {
					dt = int(stamps[i].Sub(stamps[i-1]) / time.Millisecond)
				}
				seq = seqRecord(seq, byte(min(max(dt, 0), 255)), frames[i])
			}
			seeds = append(seeds, seq)
			links = append(links, uint8(li))
			if len(frames) <= maxSeedPackets {
				break
			}
		}
	}
	return seeds, links
}

// runSequence feeds a sequence through a fresh Monitor (decode,
// reassembly, dissectors, inventory, alerts, operations log) and renders
// its results.
func runSequence(t *testing.T, link uint8, ops, seq []byte) {
	m, err := New(Options{Learning: time.Millisecond, Operations: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	m.pipe.ops.checkMemo = true // every memoised object checked against its rendering
	defer m.Close()
	lt := seqLinkTypes[int(link)%len(seqLinkTypes)]
	at := t0
	var dec decode.Decoder
	var lastSeq uint32
	for i := 0; len(seq) >= 3; i++ {
		dt, n := seq[0], int(binary.BigEndian.Uint16(seq[1:3]))
		seq = seq[3:]
		var op byte
		if i < len(ops) {
			op = ops[i]
		}
		frame := seq[:min(n, len(seq))]
		seq = seq[len(frame):]
		if op&seqOpIdle != 0 {
			at = at.Add(time.Duration(dt) * time.Hour)
		} else {
			at = at.Add(time.Duration(dt) * time.Millisecond)
		}
		if op != 0 && dec.Decode(frame, lt) == nil && dec.Pkt.Proto == decode.ProtoTCP && dec.Pkt.HasTransport {
			tcp := frame[dec.Pkt.L4Offset:]
			s := binary.BigEndian.Uint32(tcp[4:8])
			if op&seqOpRepeat != 0 {
				s = lastSeq
			}
			if op&seqOpHalfSpace != 0 {
				s ^= 1 << 31
			}
			binary.BigEndian.PutUint32(tcp[4:8], s)
			if op&seqOpAck != 0 {
				binary.BigEndian.PutUint32(tcp[8:12], binary.BigEndian.Uint32(tcp[8:12])^1<<31)
			}
			if op&seqOpSYN != 0 {
				tcp[13] |= decode.TCPSyn
			}
			if op&seqOpFinRst != 0 {
				tcp[13] |= decode.TCPFin | decode.TCPRst
			}
			lastSeq = s
		}
		m.Packet(frame, capture.Info{UnixNano: at.UnixNano(), CaptureLen: len(frame), Length: len(frame), LinkType: lt})
	}
	if _, err := json.Marshal(m.Report()); err != nil {
		t.Fatal(err)
	}
	m.Stats()
}

// FuzzPipelineSequence feeds whole packet sequences, seeded from windows
// of every shared capture, through the complete pipeline: decode, TCP
// reassembly, the dissectors, the inventory and the alert engine. Nothing
// may panic, whatever the order, timing or sequence numbers.
func FuzzPipelineSequence(f *testing.F) {
	// the two-packet attack: data at 1000, then 2^31 past the next byte
	attack := seqRecord(nil, 0, pcaptest.TCPFrame(1, 2, 40000, 502, 1000, 0x18, readReq))
	attack = seqRecord(attack, 1, pcaptest.TCPFrame(1, 2, 40000, 502, 1012, 0x18, writeReq))
	f.Add(uint8(0), []byte{0, seqOpHalfSpace}, attack)
	seeds, links := captureSeeds(f)
	for i := range seeds {
		f.Add(links[i], []byte{}, seeds[i])
	}
	f.Fuzz(runSequence)
}
