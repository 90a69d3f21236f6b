package decode

// TCP sequence numbers are compared in serial-number arithmetic (RFC 1982
// §3.2, SERIAL_BITS 32; RFC 9293 §3.4): a is before b when b is less than
// 2^31 ahead of a. Two numbers exactly 2^31 apart are neither before nor
// after each other; callers must handle that case explicitly, never by a
// signed subtraction (which overflows to the most negative int32).

// seqHalf is 2^(SERIAL_BITS-1), the distance at which comparison is
// undefined.
const seqHalf = 1 << 31

// SeqBefore reports a < b in serial-number arithmetic.
func SeqBefore(a, b uint32) bool {
	d := b - a
	return d != 0 && d < seqHalf
}

// SeqAfter reports a > b in serial-number arithmetic.
func SeqAfter(a, b uint32) bool { return SeqBefore(b, a) }

// SeqBehind is how far a lies before b, when SeqBefore(a, b); 0 otherwise.
// The result is below 2^31, so it fits an int on every platform Go runs
// sensorcore on.
func SeqBehind(a, b uint32) uint32 {
	if !SeqBefore(a, b) {
		return 0
	}
	return b - a
}
