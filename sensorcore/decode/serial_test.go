package decode

import (
	"math"
	"testing"
)

func TestSerialComparison(t *testing.T) {
	cases := []struct {
		name          string
		a, b          uint32
		before, after bool
	}{
		{"equal", 7, 7, false, false},
		{"one ahead", 7, 8, true, false},
		{"one behind", 8, 7, false, true},
		{"wraps forward", math.MaxUint32, 0, true, false},
		{"wraps backward", 0, math.MaxUint32, false, true},
		{"just under half", 0, seqHalf - 1, true, false},
		{"exactly half is undefined", 0, seqHalf, false, false},
		{"exactly half the other way", seqHalf, 0, false, false},
		{"just over half", 0, seqHalf + 1, false, true},
		{"the attack", 1012, 1012 + seqHalf, false, false},
	}
	for _, c := range cases {
		if got := SeqBefore(c.a, c.b); got != c.before {
			t.Errorf("%s: SeqBefore(%d, %d) = %v", c.name, c.a, c.b, got)
		}
		if got := SeqAfter(c.a, c.b); got != c.after {
			t.Errorf("%s: SeqAfter(%d, %d) = %v", c.name, c.a, c.b, got)
		}
		if c.before && SeqBehind(c.a, c.b) != c.b-c.a || !c.before && SeqBehind(c.a, c.b) != 0 {
			t.Errorf("%s: SeqBehind(%d, %d) = %d", c.name, c.a, c.b, SeqBehind(c.a, c.b))
		}
	}
}

// TestSegmentHalfSpaceAttack: data exactly 2^31 away from the expected
// sequence number, and at every distance near the boundaries, neither
// panics nor returns bytes outside the segment.
func TestSegmentHalfSpaceAttack(t *testing.T) {
	payload := make([]byte, 12)
	for _, jump := range []uint32{seqHalf, seqHalf - 1, seqHalf + 1, seqHalf - 12, seqHalf + 12, math.MaxUint32, 1} {
		var s Stream
		s.Segment(1000, TCPAck, payload)
		data, _ := s.Segment(1012+jump, TCPAck, payload)
		if len(data) > len(payload) {
			t.Fatalf("jump %#x: %d bytes from a %d-byte segment", jump, len(data), len(payload))
		}
		// the stream keeps working after the jump
		next := s.next
		data, gap := s.Segment(next, TCPAck, payload)
		if len(data) != len(payload) || gap {
			t.Fatalf("jump %#x: in-order segment after it gave %d bytes, gap %v", jump, len(data), gap)
		}
	}
}
