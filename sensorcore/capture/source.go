package capture

import (
	"bufio"
	"io"
	"math"
)

// source hands out the next n bytes of a capture: from memory without
// copying (a mapped file or a byte slice), or read into a reused buffer.
// The returned slice is valid until the next call.
type source interface {
	peek(n int) ([]byte, error)
	take(n int) ([]byte, error)
}

type memSource struct {
	data []byte
	off  int
	// win, when set, is told the offset each time it passes mark (a
	// mapped file's resident window); mark is then the next chunk.
	win  *readWindow
	mark int
}

// crossed reports the reader's offset to the window.
func (m *memSource) crossed() {
	m.win.advance(m.off)
	m.mark = m.off + windowChunk
}

func (m *memSource) peek(n int) ([]byte, error) {
	if len(m.data)-m.off < n {
		return nil, io.ErrUnexpectedEOF
	}
	return m.data[m.off : m.off+n], nil
}

func (m *memSource) take(n int) ([]byte, error) {
	if n == 0 {
		return m.data[m.off:m.off:m.off], nil
	}
	rest := len(m.data) - m.off
	if rest == 0 {
		return nil, io.EOF
	}
	if rest < n {
		m.off = len(m.data)
		return nil, errCutShort
	}
	b := m.data[m.off : m.off+n : m.off+n]
	m.off += n
	if m.win != nil && m.off >= m.mark {
		m.crossed()
	}
	return b, nil
}

type bufSource struct {
	r   *bufio.Reader
	buf []byte
}

func (s *bufSource) peek(n int) ([]byte, error) { return s.r.Peek(n) }

func (s *bufSource) take(n int) ([]byte, error) {
	s.buf = grow(s.buf, n)
	k, err := io.ReadFull(s.r, s.buf)
	if err == io.EOF && k == 0 {
		return nil, io.EOF
	}
	if err != nil {
		return nil, errCutShort
	}
	return s.buf, nil
}

// NewBytesReader reads a capture held in memory without copying packets:
// the data returned by Next aliases b.
func NewBytesReader(b []byte) (Reader, error) {
	return newReader(&memSource{data: b, mark: math.MaxInt}) // no window: mark never reached
}
