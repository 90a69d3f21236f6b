package decode

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
	Key      FlowKey
	Dir      Direction
	App      uint8 // caller's protocol id; 0 unclassified
	Tries    uint8 // caller's classification attempts
	Dead     bool  // caller gave up on this stream
	LastSeen int64 // unix nanoseconds of the last segment
	// Idle is how long the stream was silent before the current segment
	// (set by StreamTable.Get).
	Idle int64
	Gaps uint32
	// Restarts counts new connections on this 4-tuple (see Segment).
	Restarts uint32
	// Aux is the caller's per-stream state. It survives restarts and the
	// recycling of the Stream for another flow; Gen tells them apart.
	Aux any
	// Gen changes when the table recycles the Stream for another flow.
	Gen    uint32
	next   uint32
	isn    uint32 // sequence number of the SYN, when hasISN
	hasISN bool
	synced bool
	closed bool // FIN or RST seen
	buf    []byte
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
	*s = Stream{Key: s.Key, LastSeen: s.LastSeen, Restarts: s.Restarts + 1, Aux: s.Aux, Gen: s.Gen, buf: s.buf[:0]}
}

// Segment accepts one TCP segment (RFC 9293 §3.4 sequence numbers) and
// returns the bytes that are new and in order. Retransmitted bytes are
// trimmed; after a gap (loss or reordering) the stream resynchronises on
// this segment, drops its pending bytes and reports gap=true.
//
// A 4-tuple may carry a new connection once the old one is gone (RFC 9293
// §3.4.1, §3.6.1): a SYN that is not a retransmission of the stream's own
// SYN (one after FIN or RST, with another ISN, or after data without a
// SYN), or data more than ReuseJump behind after ReuseIdle of silence,
// restarts the stream (Restarts counts it) so its bytes are dissected
// again instead of being trimmed as retransmissions.
func (s *Stream) Segment(seq uint32, flags uint8, payload []byte) (data []byte, gap bool) {
	if flags&TCPSyn != 0 {
		if s.synced && (s.closed || !s.hasISN || seq != s.isn) {
			s.restart()
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
	if s.synced && s.Idle >= ReuseIdle && int32(seq-s.next) < -ReuseJump {
		s.restart()
	}
	if !s.synced {
		s.synced = true
		s.next = seq
	}
	diff := int32(seq - s.next)
	switch {
	case diff == 0:
		s.next += uint32(len(payload))
		return payload, false
	case diff < 0:
		over := int(-diff)
		if over >= len(payload) {
			return nil, false // pure retransmission
		}
		s.next += uint32(len(payload) - over)
		return payload[over:], false
	default:
		s.Gaps++
		s.buf = s.buf[:0]
		s.next = seq + uint32(len(payload))
		return payload, true
	}
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

// StreamTable holds the streams of a capture. Evicted streams are recycled.
type StreamTable struct {
	m map[FlowKey]*Stream
	// last and prev are a two-entry cache: segments alternate between
	// the two directions of one connection.
	last, prev *Stream
	free       []*Stream
	Max        int
	Evict      uint64 // streams evicted because the table was full
}

// NewStreamTable makes a table for up to max streams.
func NewStreamTable(max int) *StreamTable {
	return &StreamTable{m: make(map[FlowKey]*Stream, 1024), Max: max}
}

// Get returns the stream for k, creating it when new; nowNanos stamps it.
func (t *StreamTable) Get(k FlowKey, nowNanos int64) *Stream {
	if t.last != nil && t.last.Key == k {
		t.last.touch(nowNanos)
		return t.last
	}
	if t.prev != nil && t.prev.Key == k {
		t.prev.touch(nowNanos)
		t.last, t.prev = t.prev, t.last
		return t.last
	}
	if s, ok := t.m[k]; ok {
		s.touch(nowNanos)
		t.last, t.prev = s, t.last
		return s
	}
	if len(t.m) >= t.Max {
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
	s.Key = k
	s.LastSeen = nowNanos
	t.m[k] = s
	t.last, t.prev = s, t.last
	return s
}

func (s *Stream) touch(nowNanos int64) {
	s.Idle = nowNanos - s.LastSeen
	s.LastSeen = nowNanos
}

// Peer returns the opposite direction's stream if it exists.
func (t *StreamTable) Peer(k FlowKey) *Stream { return t.m[k.Reverse()] }

// Len is the number of streams held.
func (t *StreamTable) Len() int { return len(t.m) }

// Sweep removes streams idle for longer than idleNanos before nowNanos; with
// idleNanos 0 it removes the oldest half of the table.
func (t *StreamTable) Sweep(nowNanos, idleNanos int64) {
	t.last, t.prev = nil, nil
	if idleNanos == 0 {
		var sum int64
		for _, s := range t.m {
			sum += s.LastSeen / int64(len(t.m)+1)
		}
		idleNanos = nowNanos - sum
		if idleNanos < 0 {
			idleNanos = 0
		}
	}
	before := len(t.m)
	for k, s := range t.m {
		if nowNanos-s.LastSeen >= idleNanos {
			delete(t.m, k)
			t.free = append(t.free, s)
		}
	}
	if len(t.m) >= t.Max && len(t.m) == before {
		// All equally recent: drop an arbitrary half rather than grow.
		n := 0
		for k, s := range t.m {
			if n >= before/2 {
				break
			}
			delete(t.m, k)
			t.free = append(t.free, s)
			n++
		}
	}
}
