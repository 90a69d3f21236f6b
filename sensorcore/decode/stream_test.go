package decode

import (
	"bytes"
	"testing"
)

// frame splits a byte stream into 6-byte PDUs whose second byte is their
// length, like the protocols' Len functions do.
func frames(s *Stream, data []byte) [][]byte {
	var out [][]byte
	buf := s.Take(data)
	for len(buf) >= 2 && len(buf) >= int(buf[1]) {
		n := int(buf[1])
		out = append(out, append([]byte(nil), buf[:n]...))
		buf = buf[n:]
	}
	s.Keep(buf)
	return out
}

func TestStreamReassembly(t *testing.T) {
	pdu := func(tag byte, n int) []byte {
		b := bytes.Repeat([]byte{tag}, n)
		b[1] = byte(n)
		return b
	}
	a, b, c := pdu('a', 6), pdu('b', 10), pdu('c', 4)
	var s Stream
	seq := uint32(1000)
	s.Segment(seq-1, TCPSyn, nil)
	if s.Dir != DirToServer {
		t.Fatalf("dir %v after SYN", s.Dir)
	}
	var got [][]byte
	feed := func(payload []byte) {
		d, _ := s.Segment(seq, TCPAck, payload)
		got = append(got, frames(&s, d)...)
		seq += uint32(len(payload))
	}
	// a and the first 3 bytes of b share one segment; b's rest spans two
	// more; c arrives whole.
	seg1 := append(append([]byte{}, a...), b[:3]...)
	feed(seg1)
	if s.Pending() != 3 {
		t.Fatalf("pending %d", s.Pending())
	}
	feed(b[3:7])
	// a retransmission of the last segment is trimmed
	d, _ := s.Segment(seq-4, TCPAck, b[3:7])
	if len(d) != 0 {
		t.Fatalf("retransmission returned %d bytes", len(d))
	}
	feed(append(append([]byte{}, b[7:]...), c...))
	if len(got) != 3 || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) || !bytes.Equal(got[2], c) {
		t.Fatalf("got %q", got)
	}
	// partial overlap: only the new tail comes back
	d, _ = s.Segment(seq-2, TCPAck, []byte{'x', 'y', 'z', 'w'})
	if string(d) != "zw" {
		t.Fatalf("overlap returned %q", d)
	}
	seq += 2
	// a gap resynchronises and drops pending bytes
	s.Keep([]byte{1})
	d, gap := s.Segment(seq+100, TCPAck, []byte{9})
	if !gap || s.Pending() != 0 || len(d) != 1 || s.Gaps != 1 {
		t.Fatalf("gap %v pending %d", gap, s.Pending())
	}
}

func TestStreamTable(t *testing.T) {
	tab := NewStreamTable(4)
	k := FlowKey{SrcPort: 1, DstPort: 502, Proto: ProtoTCP}
	s := tab.Get(k, 10)
	if tab.Get(k, 20) != s || s.LastSeen != 20 {
		t.Fatal("lookup did not return the same stream")
	}
	if tab.Peer(k.Reverse()) != s {
		t.Fatal("peer lookup")
	}
	for i := uint16(2); i < 10; i++ {
		tab.Get(FlowKey{SrcPort: i, Proto: ProtoTCP}, int64(i)*100)
	}
	if tab.Len() > 5 || tab.Evict == 0 {
		t.Fatalf("table holds %d streams, %d evictions", tab.Len(), tab.Evict)
	}
	tab.Sweep(10_000, 1)
	if tab.Len() != 0 {
		t.Fatalf("sweep left %d", tab.Len())
	}
	if n := testing.AllocsPerRun(100, func() { tab.Get(k, 1); tab.Get(k, 2) }); n > 0 {
		// the first Get reuses a freed stream; later ones are lookups
		t.Fatalf("%v allocations", n)
	}
}

func TestStreamTableSameTime(t *testing.T) {
	tab := NewStreamTable(8)
	for i := uint16(0); i < 100; i++ {
		tab.Get(FlowKey{SrcPort: i, Proto: ProtoTCP}, 5)
	}
	if tab.Len() > 8 {
		t.Fatalf("table grew to %d streams with identical timestamps", tab.Len())
	}
}
