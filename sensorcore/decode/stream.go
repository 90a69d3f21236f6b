package decode

import "encoding/binary"

// MaxPending bounds the bytes kept for one PDU that spans segments: the
// largest PDU of any dissected protocol (a TPKT or EtherNet/IP message,
// 65535 bytes plus headers).
const MaxPending = 65536 + 64

// FlowKey identifies one direction of a TCP or UDP conversation. It is a
// fixed-size comparable struct so a map keyed by it does not allocate.
type FlowKey struct {
	Src, Dst         Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// Reverse is the key of the opposite direction.
func (k FlowKey) Reverse() FlowKey {
	return FlowKey{Src: k.Dst, Dst: k.Src, SrcPort: k.DstPort, DstPort: k.SrcPort, Proto: k.Proto}
}

// Key returns the flow key of the packet's transport header.
func (p *Packet) Key() FlowKey {
	return FlowKey{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto}
}

// Direction tells who opened the connection.
type Direction uint8

// Directions of a half stream.
const (
	DirUnknown  Direction = iota
	DirToServer           // sent by the side that sent the SYN
	DirToClient           // sent by the side that answered SYN+ACK
)

// Stream is one direction of a TCP connection: sequence tracking and at most
// one pending partial PDU. App, Tries and Dead belong to the caller, which
// records there what protocol the stream carries.
type Stream struct {
	// The fields a packet of a known stream touches come first, in the
	// order the lookup and the in-order path read them, so they take two
	// cache lines; the key, which only the general path compares, comes
	// last.
	hash  uint64    // Key.hash(), set by the table
	words [2]uint64 // keyWords(&Key), set by the table
	// LastSeen is the unix nanoseconds of the last segment.
	LastSeen int64
	// Idle is how long the stream was silent before the current segment
	// (set by StreamTable.Get).
	Idle int64
	// Aux is the caller's per-stream state. It survives restarts and the
	// recycling of the Stream for another flow; Gen tells them apart.
	Aux any
	// Gen changes when the table recycles the Stream for another flow.
	Gen    uint32
	next   uint32
	ack    uint32 // highest acknowledgement number sent, when hasAck
	hasAck bool
	synced bool
	lost   bool // bytes were skipped (SegmentLost): the next data starts after a gap
	Dir    Direction
	App    uint8 // caller's protocol id; 0 unclassified
	Tries  uint8 // caller's classification attempts
	Dead   bool  // caller gave up on this stream
	closed bool  // FIN or RST seen
	hasISN bool
	isn    uint32 // sequence number of the SYN, when hasISN
	buf    []byte
	Gaps   uint32
	// Restarts counts new connections on this 4-tuple (see Segment).
	Restarts uint32
	Key      FlowKey
}

// ReuseIdle and ReuseJump decide when data far behind the expected
// sequence number is a new connection on the same 4-tuple rather than a
// retransmission: the stream was silent for at least ReuseIdle (Linux's
// TIME-WAIT, RFC 9293 §3.6.1 2*MSL) and the segment starts more than
// ReuseJump bytes back (more than the largest unscaled window, RFC 9293
// §3.1, so more than a sender can have in flight to retransmit).
const (
	ReuseIdle = int64(60e9)
	ReuseJump = 1 << 16
)

// restart makes s a fresh stream for a new connection on the same
// 4-tuple: sequence state and the caller's classification are cleared.
func (s *Stream) restart() {
	*s = Stream{Key: s.Key, LastSeen: s.LastSeen, Restarts: s.Restarts + 1, Aux: s.Aux, Gen: s.Gen, hash: s.hash, words: s.words, buf: s.buf[:0]}
}

// Segment accepts one TCP segment (RFC 9293 §3.4 sequence numbers) and
// returns the bytes that are new and in order. Retransmitted bytes are
// trimmed; after a gap (loss or reordering) the stream resynchronises on
// this segment, drops its pending bytes and reports gap=true.
//
// A SYN always starts the stream afresh (RFC 9293 §3.4.1, §3.6.1: a
// 4-tuple carries a new connection once the old one is gone, and a
// replayed capture repeats even the ISN); Restarts counts it unless the
// stream had carried nothing yet (a retransmitted SYN). Data more than
// ReuseJump behind after ReuseIdle of silence restarts it too, so a new
// connection whose SYN was not seen is dissected again instead of being
// trimmed as a retransmission. Streams silent for longer than the table's
// Expire are restarted by StreamTable before their next segment.
//
// SegmentAck is Segment with the segment's acknowledgement number, which
// tells a replay from a retransmission: a receiver's RCV.NXT never moves
// back (RFC 9293 §3.10.7.4), so a retransmitted segment carries an
// acknowledgement at or after any its sender sent before. Data behind the
// expected byte whose acknowledgement number is behind the sender's
// highest is the same traffic again (a capture replayed or re-looped, or a
// new connection reusing the 4-tuple), and restarts the stream.
func (s *Stream) Segment(seq uint32, flags uint8, payload []byte) (data []byte, gap bool) {
	return s.segment(seq, 0, false, flags, payload)
}

// SegmentAck is Segment for a segment with its acknowledgement number.
func (s *Stream) SegmentAck(seq, ack uint32, flags uint8, payload []byte) (data []byte, gap bool) {
	if s.InOrder(seq, ack, flags, len(payload)) {
		return payload, false
	}
	return s.segment(seq, ack, flags&TCPAck != 0, flags, payload)
}

// InOrder is SegmentAck's common cases, a segment with ACK set and no
// SYN, FIN or RST that carries the next n bytes in order on a
// synchronised stream, or no bytes at all (a bare acknowledgement): it
// does what segment does with it, without its checks for SYN, FIN,
// replay and reuse (none applies to data that starts at the expected
// byte, nor to a segment without data), and reports true; the data is
// then the whole payload, with no gap. Any other segment it leaves alone
// and reports false. It is small enough to be inlined into a packet
// loop, sparing most segments a call.
func (s *Stream) InOrder(seq, ack uint32, flags uint8, n int) bool {
	if flags&(TCPSyn|TCPFin|TCPRst|TCPAck) != TCPAck || n != 0 && (seq != s.next || !s.synced || s.lost) {
		return false
	}
	if !s.hasAck || SeqAfter(ack, s.ack) {
		s.ack, s.hasAck = ack, true
	}
	s.next += uint32(n)
	return true
}

func (s *Stream) segment(seq, ack uint32, hasAck bool, flags uint8, payload []byte) (data []byte, gap bool) {
	if hasAck {
		if s.hasAck && len(payload) > 0 && SeqBefore(ack, s.ack) && SeqBefore(seq, s.next) {
			s.restart() // acknowledgement and data both went back: a replay
		}
		if !s.hasAck || SeqAfter(ack, s.ack) {
			s.ack, s.hasAck = ack, true
		}
	}
	if flags&TCPSyn != 0 {
		if s.synced {
			if s.closed || !s.hasISN || seq != s.isn || s.next != s.isn+1 || s.App != 0 || s.Dead {
				s.restart()
			} else {
				s.buf = s.buf[:0] // the same SYN again, nothing carried yet
			}
		}
		s.isn, s.hasISN = seq, true
		s.next = seq + 1
		s.synced = true
		s.buf = s.buf[:0]
		if flags&TCPAck != 0 {
			s.Dir = DirToClient
		} else {
			s.Dir = DirToServer
		}
		if len(payload) == 0 {
			return nil, false
		}
	}
	if flags&(TCPFin|TCPRst) != 0 {
		s.closed = true
	}
	if len(payload) == 0 {
		return nil, false
	}
	if s.synced && s.Idle >= ReuseIdle && SeqBehind(seq, s.next) > ReuseJump {
		s.restart()
	}
	if !s.synced {
		s.synced = true
		s.next = seq
	}
	gap, s.lost = s.lost, false
	switch {
	case seq == s.next:
		s.next += uint32(len(payload))
		return payload, gap
	case SeqBefore(seq, s.next):
		over := SeqBehind(seq, s.next)
		if uint64(over) >= uint64(len(payload)) {
			return nil, false // pure retransmission
		}
		s.next += uint32(len(payload)) - over
		return payload[over:], gap
	default:
		// Ahead of the expected byte, or exactly 2^31 away (neither
		// before nor after, RFC 1982 §3.2): bytes were lost or the peer
		// jumped; resynchronise on this segment.
		s.Gaps++
		s.buf = s.buf[:0]
		s.next = seq + uint32(len(payload))
		return payload, true
	}
}

// SegmentLost accounts for a segment of n payload bytes whose content the
// capture does not hold (cut by the snapshot length): the sequence moves
// past them, the pending partial PDU is dropped, and the next data is
// reported as following a gap, so its framing resynchronises instead of
// counting the cut PDU as malformed.
func (s *Stream) SegmentLost(seq, ack uint32, flags uint8, n int) {
	s.segment(seq, ack, flags&TCPAck != 0, flags, nil)
	if n <= 0 {
		return
	}
	if !s.synced {
		s.synced, s.next = true, seq
	}
	if end := seq + uint32(n); !SeqBefore(end, s.next) {
		s.next = end
	}
	s.buf = s.buf[:0]
	s.lost = true
}

// Take returns the bytes to frame: the pending partial PDU followed by data,
// or data itself (no copy) when nothing is pending.
func (s *Stream) Take(data []byte) []byte {
	if len(s.buf) == 0 {
		return data
	}
	if len(s.buf)+len(data) > MaxPending {
		s.buf = s.buf[:0]
		return data
	}
	s.buf = append(s.buf, data...)
	return s.buf
}

// Keep stores the unframed tail of what Take returned until the next
// segment. rest may alias the stream's own buffer.
func (s *Stream) Keep(rest []byte) {
	if len(rest) == 0 || len(rest) > MaxPending {
		s.buf = s.buf[:0]
		return
	}
	if s.buf == nil {
		s.buf = make([]byte, 0, 4096)
	}
	s.buf = append(s.buf[:0], rest...)
}

// Pending is the number of bytes waiting for the rest of a PDU.
func (s *Stream) Pending() int { return len(s.buf) }

// Drop discards the pending bytes (after a framing error).
func (s *Stream) Drop() { s.buf = s.buf[:0] }

// StreamTable holds the streams of a capture in an open-addressing hash
// table (linear probing, power-of-two size) keyed by FlowKey with a
// multiplicative hash over the key's words: a lookup is a few loads and
// compares, cheaper than a map's generic hashing of the 40-byte key.
// Evicted streams are recycled.
type StreamTable struct {
	slots []*Stream // nil: empty
	n     int
	// last and prev are Get's two-entry cache: segments alternate
	// between the two directions of one connection.
	last, prev *Stream
	free       []*Stream
	spare      []*Stream // the previous slots' array, all nil, reused by rehash
	Max        int
	Evict      uint64 // streams evicted because the table was full
	// Expire restarts a stream silent for at least this long (packet
	// clock, nanoseconds) before its next segment is handled, so a stale
	// stream never trims a new connection's bytes as retransmissions;
	// 0 never expires.
	Expire int64
	// Expired counts streams restarted by Expire.
	Expired uint64
}

// minSlots is the smallest table: a sensor's streams are usually few, and
// each sweep walks every slot, so the table grows with the streams held
// (at most half full) and shrinks back after a sweep.
const minSlots = 64

// NewStreamTable makes a table for up to max streams.
func NewStreamTable(max int) *StreamTable {
	return &StreamTable{slots: make([]*Stream, minSlots), Max: max}
}

// hash mixes the key's addresses, ports and protocol.
func (k *FlowKey) hash() uint64 { return keyHash(&k.Src, &k.Dst, k.SrcPort, k.DstPort, k.Proto) }

// keyHash is FlowKey.hash from the parts, so a packet's flow is hashed
// from its own fields without building a key: the key's odd-sized address
// copies would be read back as words at once, which stalls the CPU's
// store forwarding.
func keyHash(src, dst *Addr, sp, dp uint16, proto uint8) uint64 {
	if src.Len == 4 && dst.Len == 4 {
		return hash4(words4(src, dst, sp, dp, proto))
	}
	const m1, m2, m3, m4 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0xd6e8feb86659fd93
	h := binary.LittleEndian.Uint64(src.B[0:8])*m1 ^ binary.LittleEndian.Uint64(src.B[8:16])*m2 ^
		binary.LittleEndian.Uint64(dst.B[0:8])*m3 ^ binary.LittleEndian.Uint64(dst.B[8:16])*m4 ^
		(uint64(sp)<<32|uint64(dp)<<16|uint64(proto)<<8|uint64(src.Len^dst.Len<<4))*m1
	return h ^ h>>29 ^ h>>47
}

// words4 is an IPv4 flow's two words as hash4 takes them.
func words4(src, dst *Addr, sp, dp uint16, proto uint8) (addrs, ports uint64) {
	return uint64(binary.LittleEndian.Uint32(src.B[0:4])) | uint64(binary.LittleEndian.Uint32(dst.B[0:4]))<<32,
		uint64(proto)<<32 | uint64(sp)<<16 | uint64(dp)
}

// keyWords is words4 of an IPv4 key, zero for another: two words that
// name the flow exactly (an IPv4 address's bytes past its length are
// zero), so a packet decoded by tcp4 is matched to its stream with two
// compares instead of the key's seven.
func keyWords(k *FlowKey) [2]uint64 {
	if k.Src.Len != 4 || k.Dst.Len != 4 {
		return [2]uint64{}
	}
	a, p := words4(&k.Src, &k.Dst, k.SrcPort, k.DstPort, k.Proto)
	return [2]uint64{a, p}
}

// hash4 is keyHash of an IPv4 flow from two words: addrs holds the source
// and destination addresses as they follow each other in the IPv4 header,
// read little-endian, and ports the protocol above the source and
// destination ports as they follow each other in the TCP or UDP header,
// read big-endian. tcp4 hashes a packet's flow with it straight from the
// headers.
func hash4(addrs, ports uint64) uint64 {
	const m1, m2, m3 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9
	h := addrs*m1 ^ ports*m2
	h ^= h >> 32
	h *= m3
	return h ^ h>>29
}

// isPacket reports whether s is the stream of p's flow. The two ports are
// compared as one word (they follow each other in both structs, so the
// compiler loads each pair at once): one compare and branch fewer.
func (s *Stream) isPacket(p *Packet) bool {
	if p.hash != 0 { // decoded by tcp4: its words name the flow
		return s.words == p.words
	}
	k := &s.Key
	return uint32(k.SrcPort)|uint32(k.DstPort)<<16 == uint32(p.SrcPort)|uint32(p.DstPort)<<16 && k.Proto == p.Proto &&
		k.Src.B == p.Src.B && k.Dst.B == p.Dst.B && k.Src.Len == p.Src.Len && k.Dst.Len == p.Dst.Len
}

// GetPacket is Get(p.Key(), nowNanos): the stream of the packet's flow,
// created when new. A known stream is found from the packet's fields
// without building its key, straight from the table: Get's cache of the
// last two streams missed on 60% of the benchmark's packets (a master
// polls several servers in turn), so checking it first cost more than
// the probe it spared.
func (t *StreamTable) GetPacket(p *Packet, nowNanos int64) *Stream {
	h := p.hash
	if h == 0 {
		h = keyHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.Proto)
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil {
			return t.Get(p.Key(), nowNanos)
		}
		if s.hash == h && s.isPacket(p) {
			s.touch(nowNanos, t)
			return s
		}
	}
}

// find returns the stream for k, whose hash is h, or nil.
func (t *StreamTable) find(k *FlowKey, h uint64) *Stream {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil || s.hash == h && s.Key == *k {
			return s
		}
	}
}

// insert adds s, growing the table to keep it at most half full.
func (t *StreamTable) insert(s *Stream) {
	if 2*(t.n+1) > len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
	t.place(s)
	t.n++
}

func (t *StreamTable) place(s *Stream) {
	mask := uint64(len(t.slots) - 1)
	i := s.hash & mask
	for t.slots[i] != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// rehash re-places every stream in a table of size slots. The table
// alternates between two arrays (the other one is the spare, all nil),
// each as large as the largest table so far, so a table that shrinks
// after a sweep and grows back allocates nothing.
func (t *StreamTable) rehash(size int) {
	old := t.slots
	if cap(t.spare) >= size {
		t.slots, t.spare = t.spare[:size], nil
	} else {
		t.slots = make([]*Stream, size, max(size, cap(old)))
	}
	for i, s := range old {
		if s != nil {
			t.place(s)
			old[i] = nil
		}
	}
	t.spare = old[:cap(old)]
}

// Get returns the stream for k, creating it when new; nowNanos stamps it.
func (t *StreamTable) Get(k FlowKey, nowNanos int64) *Stream {
	h := k.hash()
	if t.last != nil && t.last.hash == h && t.last.Key == k {
		t.last.touch(nowNanos, t)
		return t.last
	}
	if t.prev != nil && t.prev.hash == h && t.prev.Key == k {
		t.prev.touch(nowNanos, t)
		t.last, t.prev = t.prev, t.last
		return t.last
	}
	if s := t.find(&k, h); s != nil {
		s.touch(nowNanos, t)
		t.last, t.prev = s, t.last
		return s
	}
	if t.n >= t.Max {
		t.Sweep(nowNanos, 0)
		t.Evict++
	}
	var s *Stream
	if n := len(t.free); n > 0 {
		s = t.free[n-1]
		t.free = t.free[:n-1]
		*s = Stream{buf: s.buf[:0], Aux: s.Aux, Gen: s.Gen + 1}
	} else {
		s = &Stream{}
	}
	s.Key, s.hash, s.words = k, h, keyWords(&k)
	s.LastSeen = nowNanos
	t.insert(s)
	t.last, t.prev = s, t.last
	return s
}

// touch stamps the stream with the packet clock and expires it first when
// it was silent for at least t.Expire (0: never).
func (s *Stream) touch(nowNanos int64, t *StreamTable) {
	s.Idle = nowNanos - s.LastSeen
	s.LastSeen = nowNanos
	if t.Expire > 0 && s.Idle >= t.Expire {
		s.restart()
		t.Expired++
	}
}

// Peer returns the opposite direction's stream if it exists.
func (t *StreamTable) Peer(k FlowKey) *Stream {
	r := k.Reverse()
	return t.find(&r, r.hash())
}

// Len is the number of streams held.
func (t *StreamTable) Len() int { return t.n }

// Sweep removes streams idle for longer than idleNanos before nowNanos; with
// idleNanos 0 it removes the oldest half of the table.
func (t *StreamTable) Sweep(nowNanos, idleNanos int64) {
	t.last, t.prev = nil, nil
	if t.n == 0 {
		return
	}
	if idleNanos == 0 {
		var sum int64
		for _, s := range t.slots {
			if s != nil {
				sum += s.LastSeen / int64(t.n+1)
			}
		}
		idleNanos = nowNanos - sum
		if idleNanos < 0 {
			idleNanos = 0
		}
	}
	before := t.n
	for i, s := range t.slots {
		if s != nil && nowNanos-s.LastSeen >= idleNanos {
			t.slots[i] = nil
			t.free = append(t.free, s)
			t.n--
		}
	}
	if t.n >= t.Max && t.n == before {
		// All equally recent: drop an arbitrary half rather than grow.
		for i, s := range t.slots {
			if t.n <= before-before/2 {
				break
			}
			if s != nil {
				t.slots[i] = nil
				t.free = append(t.free, s)
				t.n--
			}
		}
	}
	if t.n != before {
		// Removing entries breaks probe runs: place the survivors again
		// (an emptied table has no runs left), in a smaller table when
		// at most an eighth of this one is used (so the next sweeps walk
		// fewer slots; growing back needs four times as many streams).
		size := len(t.slots)
		for size > minSlots && 8*t.n < size {
			size /= 2
		}
		if t.n > 0 || size != len(t.slots) {
			t.rehash(size)
		}
	}
}
