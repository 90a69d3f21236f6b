package decode

import (
	"bytes"
	"encoding/binary"
	"reflect"
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

// TestStreamReuse: a new connection on the same 4-tuple starts a new
// stream (its bytes come back again) while retransmissions stay trimmed.
func TestStreamReuse(t *testing.T) {
	payload := []byte("abcdefgh")
	open := func(s *Stream, isn uint32) {
		s.Segment(isn, TCPSyn, nil)
		s.App, s.Tries, s.Dead = 3, 2, true
		if d, _ := s.Segment(isn+1, TCPAck|TCPPsh, payload); len(d) != len(payload) {
			t.Fatalf("first data: %d bytes", len(d))
		}
	}
	fresh := func(s *Stream, what string, restarts uint32) {
		t.Helper()
		if s.Restarts != restarts || s.App != 0 || s.Tries != 0 || s.Dead {
			t.Fatalf("%s: restarts %d app %d tries %d dead %v", what, s.Restarts, s.App, s.Tries, s.Dead)
		}
	}

	// a retransmitted SYN before any data is the same connection
	var q Stream
	q.Segment(1000, TCPSyn, nil)
	q.Segment(1000, TCPSyn, nil)
	if q.Restarts != 0 {
		t.Fatalf("retransmitted SYN counted as a new connection")
	}
	// the same SYN again after data (a replayed capture) starts afresh
	var s Stream
	open(&s, 1000)
	s.Segment(1000, TCPSyn, nil)
	fresh(&s, "same SYN after data", 1)
	if d, _ := s.Segment(1001, TCPAck, payload); len(d) != len(payload) {
		t.Fatalf("replayed data after the replayed SYN: %d bytes", len(d))
	}
	s.App = 3
	// a SYN with another ISN is a new connection
	s.Segment(5000, TCPSyn, nil)
	fresh(&s, "new ISN", 2)
	if s.Dir != DirToServer {
		t.Fatalf("dir %v", s.Dir)
	}
	if d, _ := s.Segment(5001, TCPAck, payload); len(d) != len(payload) {
		t.Fatalf("data after new ISN: %d bytes", len(d))
	}

	// after FIN, even the same ISN opens a new connection
	var f Stream
	open(&f, 1000)
	f.Segment(1009, TCPFin|TCPAck, nil)
	f.Segment(1000, TCPSyn, nil)
	fresh(&f, "SYN after FIN", 1)
	if d, _ := f.Segment(1001, TCPAck, payload); len(d) != len(payload) {
		t.Fatalf("data after SYN after FIN: %d bytes", len(d))
	}

	// SYN+ACK after RST
	var r Stream
	r.Segment(7000, TCPSyn|TCPAck, nil)
	r.Segment(7001, TCPAck, payload)
	r.Segment(7009, TCPRst, nil)
	r.App = 1
	r.Segment(9000, TCPSyn|TCPAck, nil)
	fresh(&r, "SYN+ACK after RST", 1)
	if r.Dir != DirToClient {
		t.Fatalf("dir %v", r.Dir)
	}

	// no SYN: a large jump back is a retransmission while the stream is
	// busy and a new connection after it was idle
	var j Stream
	j.Segment(50_000_000, TCPAck, payload)
	j.App = 2
	if d, _ := j.Segment(10_000_000, TCPAck, payload); len(d) != 0 || j.Restarts != 0 {
		t.Fatalf("busy stream: %d bytes, %d restarts", len(d), j.Restarts)
	}
	j.Idle = ReuseIdle
	if d, _ := j.Segment(50_000_000-ReuseJump/2, TCPAck, payload); len(d) != 0 || j.Restarts != 0 {
		t.Fatalf("small jump after idle: %d bytes, %d restarts", len(d), j.Restarts)
	}
	if d, gap := j.Segment(10_000_000, TCPAck, payload); len(d) != len(payload) || gap {
		t.Fatalf("idle stream: %d bytes, gap %v", len(d), gap)
	}
	fresh(&j, "jump back after idle", 1)
}

// TestStreamTableExpire: a stream silent for Expire is restarted before
// its next segment, by the packet clock: the same bytes come back again.
func TestStreamTableExpire(t *testing.T) {
	tb := NewStreamTable(16)
	tb.Expire = 600
	k := FlowKey{SrcPort: 40000, DstPort: 502, Proto: ProtoTCP}
	payload := []byte("abcdefgh")
	s := tb.Get(k, 100)
	s.Segment(7, TCPAck, payload)
	s.App = 2
	if d, _ := tb.Get(k, 699).Segment(7, TCPAck, payload); len(d) != 0 {
		t.Fatalf("retransmission within the expiry returned %d bytes", len(d))
	}
	s = tb.Get(k, 1299)
	if s.App != 0 || s.Restarts != 1 || tb.Expired != 1 {
		t.Fatalf("after the expiry: app %d restarts %d expired %d", s.App, s.Restarts, tb.Expired)
	}
	if d, gap := s.Segment(7, TCPAck, payload); len(d) != len(payload) || gap {
		t.Fatalf("the same bytes after the expiry: %d bytes, gap %v", len(d), gap)
	}
}

// TestStreamTableIdle: Get tells the stream how long it was silent.
func TestStreamTableIdle(t *testing.T) {
	tb := NewStreamTable(16)
	k := FlowKey{SrcPort: 1, DstPort: 2, Proto: ProtoTCP}
	tb.Get(k, 100)
	if s := tb.Get(k, 350); s.Idle != 250 || s.LastSeen != 350 {
		t.Fatalf("idle %d last %d", s.Idle, s.LastSeen)
	}
}

// TestStreamTableProbing: with many streams (colliding probe runs), every
// one is found again, including after a sweep removed others, and the
// table reuses its memory.
func TestStreamTableProbing(t *testing.T) {
	tab := NewStreamTable(1 << 16)
	key := func(i int) FlowKey {
		k := FlowKey{SrcPort: uint16(40000 + i%7), DstPort: 502, Proto: ProtoTCP}
		k.Src.Len, k.Dst.Len = 4, 4
		k.Src.B[2], k.Src.B[3], k.Dst.B[3] = byte(i>>8), byte(i), 1
		return k
	}
	const n = 5000
	streams := make([]*Stream, n)
	for i := range streams {
		streams[i] = tab.Get(key(i), int64(i%2)*1000)
	}
	if tab.Len() != n {
		t.Fatalf("len %d", tab.Len())
	}
	tab.Sweep(1000, 1000) // the even ones (last seen at 0) go
	if tab.Len() != n/2 {
		t.Fatalf("after sweep len %d", tab.Len())
	}
	for i := 1; i < n; i += 2 {
		if tab.Get(key(i), 1001) != streams[i] {
			t.Fatalf("stream %d lost after sweep", i)
		}
		if r := key(i).Reverse(); tab.Peer(r) != streams[i] {
			t.Fatalf("peer of %d", i)
		}
	}
	if n := testing.AllocsPerRun(10, func() {
		tab.Sweep(5000, 3000)
		for i := 0; i < 100; i++ {
			tab.Get(key(i), 5000)
		}
	}); n > 0 {
		t.Fatalf("%v allocations per sweep and refill", n)
	}
}

// TestStreamTableShrinks: after a sweep leaves few streams of many, the
// table shrinks (so later sweeps walk few slots), the survivors are found
// again, and growing back to many streams and shrinking again allocates
// nothing.
func TestStreamTableShrinks(t *testing.T) {
	tab := NewStreamTable(1 << 16)
	key := func(i int) FlowKey {
		k := FlowKey{SrcPort: uint16(i), DstPort: 502, Proto: ProtoTCP}
		k.Src.Len, k.Dst.Len = 4, 4
		k.Src.B[3], k.Dst.B[3] = 1, 2
		return k
	}
	fill := func(now int64) {
		for i := 0; i < 5000; i++ {
			seen := now
			if i%500 == 0 {
				seen = now + 1000 // ten streams stay busy
			}
			tab.Get(key(i), seen)
		}
	}
	cycle := func(now int64) {
		fill(now)
		tab.Sweep(now+1000, 1000)
		if tab.Len() != 10 || len(tab.slots) > 2*minSlots {
			t.Fatalf("after the sweep: %d streams in %d slots", tab.Len(), len(tab.slots))
		}
		for i := 0; i < 5000; i += 500 {
			k := key(i)
			if s := tab.find(&k, k.hash()); s == nil || s.LastSeen != now+1000 {
				t.Fatalf("stream %d lost after the sweep", i)
			}
		}
	}
	cycle(0)
	now := int64(0)
	if n := testing.AllocsPerRun(5, func() { now += 10_000; cycle(now) }); n > 0 {
		t.Fatalf("%v allocations per growth and shrink", n)
	}
}

// TestStreamTableGetPacket: a packet finds the stream of its key, and a
// new flow gets a new one.
func TestStreamTableGetPacket(t *testing.T) {
	tab := NewStreamTable(1 << 12)
	var p Packet
	p.Src.Len, p.Dst.Len, p.Proto, p.DstPort = 4, 4, ProtoTCP, 502
	for i := 0; i < 1000; i++ {
		p.Src.B[3], p.SrcPort = byte(i), uint16(40000+i)
		s := tab.Get(p.Key(), 1)
		if tab.GetPacket(&p, 2) != s || s.LastSeen != 2 {
			t.Fatalf("packet %d did not find its stream", i)
		}
	}
	p.Dst.Len = 16 // same bytes, another address family: another flow
	s := tab.GetPacket(&p, 3)
	if s.Key != p.Key() || tab.Len() != 1001 {
		t.Fatalf("new flow: key %+v, %d streams", s.Key, tab.Len())
	}
}

// TestSegmentAckReplay: data behind the expected byte is a retransmission
// when its acknowledgement number has not gone back, and a replay (a new
// stream) when it has.
func TestSegmentAckReplay(t *testing.T) {
	payload := []byte("abcdefgh")
	var s Stream
	s.SegmentAck(1000, 500, TCPAck, payload)
	s.SegmentAck(1008, 520, TCPAck, payload)
	s.App = 4
	if d, _ := s.SegmentAck(1000, 520, TCPAck, payload); len(d) != 0 || s.Restarts != 0 {
		t.Fatalf("retransmission with the current ack: %d bytes, %d restarts", len(d), s.Restarts)
	}
	if d, _ := s.SegmentAck(1000, 500, TCPAck, payload); len(d) != len(payload) || s.Restarts != 1 || s.App != 0 {
		t.Fatalf("replay with the old ack: %d bytes, %d restarts, app %d", len(d), s.Restarts, s.App)
	}
	// the replay goes on in order
	if d, gap := s.SegmentAck(1008, 520, TCPAck, payload); len(d) != len(payload) || gap {
		t.Fatalf("replay's next segment: %d bytes, gap %v", len(d), gap)
	}
}

// FuzzSegmentAck checks SegmentAck's in-order fast path against segment:
// from the same stream state, a segment gives the same data, gap and
// state either way.
func FuzzSegmentAck(f *testing.F) {
	f.Add(uint32(1000), uint32(1000), uint32(50), uint32(40), byte(TCPAck), byte(0b0011), int64(0), 10)
	f.Add(uint32(1000), uint32(1000), uint32(50), uint32(60), byte(TCPAck|TCPPsh), byte(0b0011), int64(0), 10)
	f.Add(uint32(1000), uint32(900), uint32(50), uint32(40), byte(TCPAck), byte(0b0111), ReuseIdle, 10)
	f.Add(uint32(1000), uint32(1000), uint32(50), uint32(40), byte(TCPAck|TCPFin), byte(0b1011), int64(0), 0)
	f.Add(uint32(1000), uint32(7), uint32(50), uint32(60), byte(TCPAck), byte(0b0100), int64(0), 0) // a bare acknowledgement
	f.Fuzz(func(t *testing.T, next, seq, lastAck, ack uint32, flags, state byte, idle int64, n int) {
		if n < 0 || n > 64 {
			return
		}
		s := Stream{next: next, ack: lastAck, hasAck: state&1 != 0, synced: state&2 != 0, lost: state&4 != 0,
			closed: state&8 != 0, hasISN: state&16 != 0, isn: next - 1, Idle: idle, buf: make([]byte, 0, 8)}
		if state&32 != 0 {
			s.App = 1
		}
		general := s
		general.buf = make([]byte, 0, 8)
		payload := bytes.Repeat([]byte{7}, n)
		data, gap := s.SegmentAck(seq, ack, flags, payload)
		wantData, wantGap := general.segment(seq, ack, flags&TCPAck != 0, flags, payload)
		if !bytes.Equal(data, wantData) || gap != wantGap {
			t.Fatalf("SegmentAck gave %d bytes gap %v, segment %d bytes gap %v", len(data), gap, len(wantData), wantGap)
		}
		s.buf, general.buf = nil, nil
		if !reflect.DeepEqual(s, general) {
			t.Fatalf("state after SegmentAck %+v, after segment %+v", s, general)
		}
	})
}

// TestStreamTableFastAndGeneral: a flow's packets find one stream whether
// they were decoded by the IPv4/TCP fast path (matched by its two flow
// words) or by the general path (IPv4 options; matched by its key), in
// either order, and another port is another stream. (A stream whose words
// did not match would still be found, by Get's search of the key: the
// words only spare the compares.)
func TestStreamTableFastAndGeneral(t *testing.T) {
	seg := tcp(1024, 502, 7, TCPAck, []byte{1, 2, 3})
	opts := ipv4(ProtoTCP, 0, nil)
	opts[0] = 0x46 // a router alert option: not the fast path's
	opts = append(append(opts, 0x94, 4, 0, 0), seg...)
	binary.BigEndian.PutUint16(opts[2:], uint16(len(opts)))
	fast, general := eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, seg)), eth(EtherTypeIPv4, nil, 0, opts)
	other := eth(EtherTypeIPv4, nil, 0, ipv4(ProtoTCP, 0, tcp(1025, 502, 7, TCPAck, []byte{1, 2, 3})))
	decode := func(frame []byte) *Packet {
		var d Decoder
		if err := d.Decode(frame, LinkEthernet); err != nil {
			t.Fatal(err)
		}
		return &d.Pkt
	}
	if f, g := decode(fast), decode(general); f.hash == 0 || g.hash != 0 {
		t.Fatalf("fast path hash %x, general path hash %x: the test needs one of each", f.hash, g.hash)
	}
	for _, order := range [][2][]byte{{fast, general}, {general, fast}} {
		tab := NewStreamTable(1 << 10)
		s := tab.GetPacket(decode(order[0]), 1)
		if got := tab.GetPacket(decode(order[1]), 2); got != s || tab.Len() != 1 {
			t.Fatalf("the flow's second packet found another stream (%d streams)", tab.Len())
		}
		if got := tab.GetPacket(decode(other), 3); got == s || tab.Len() != 2 {
			t.Fatalf("another port found the flow's stream (%d streams)", tab.Len())
		}
		s.restart()
		if p := decode(fast); tab.GetPacket(p, 4) != s || s.words != p.words {
			t.Fatalf("restarted stream: flow words %x, the packet's %x", s.words, p.words)
		}
	}
}
