package capture

import (
	"io"
	"os"
)

// readBuffer is the size of the buffer a capture file is read into: small
// enough to stay in a core's L2 cache, so the packets the kernel copies
// into it are still there when they are dissected, and large enough that
// the read calls cost little (about 180 for a 46 MB capture). The
// resident memory of a file's reading is this buffer, whatever the file's
// size.
const readBuffer = 256 << 10

// mapWindow is how far a mapped file's data reaches past the record being
// read, and how far behind the reader its pages are released: a mapped
// file keeps about two windows resident, whatever its size.
const mapWindow = 2 << 20

// memSource hands out the next n bytes of a capture (peek, take), valid
// until the next call: a capture held in memory (data, read from off), or,
// when r is set, the part of a file read so far and not yet consumed: data
// is then a reused buffer, refilled from r when a record does not fit in
// what is left (fill). A file mapped whole (mapped) is read in place:
// data is then the mapping up to mapWindow bytes past the last record
// asked for, extended by fill, which also releases the pages more than
// mapWindow behind the reader.
type memSource struct {
	data []byte
	off  int
	r    io.Reader
	err  error // r's error once it has ended (io.EOF at the end)
	// mapped is the file mapped whole (data is a prefix of it), window
	// how far data reaches past a record and how far behind the reader
	// pages are released (mapWindow), release what hands them back, and
	// mapped[:released] the pages already handed back.
	mapped   []byte
	window   int
	release  func([]byte)
	released int
}

// newMappedSource reads a file mapped whole (mapFile).
func newMappedSource(b []byte) *memSource {
	return &memSource{data: b[:0], mapped: b, window: mapWindow, release: releasePages}
}

// newFileSource reads r through a buffer of readBuffer bytes.
func newFileSource(r io.Reader) *memSource {
	return &memSource{data: make([]byte, 0, readBuffer), r: r}
}

// fill makes at least n bytes available at data[off:] when the capture
// holds that many more: it moves the bytes left to the buffer's start and
// reads after them, as much as the buffer takes (growing it first, once
// and for good, for a record larger than the buffer), until n bytes are
// there. It reports whether they are.
func (m *memSource) fill(n int) bool {
	rest := len(m.data) - m.off
	if rest >= n {
		return true
	}
	if m.mapped != nil {
		return m.extend(n)
	}
	if m.r == nil || m.err != nil {
		return false
	}
	buf := m.data[:cap(m.data)]
	if n > len(buf) {
		buf = make([]byte, n)
	}
	copy(buf, m.data[m.off:])
	m.data, m.off = buf[:rest], 0
	for empty := 0; len(m.data) < n; {
		k, err := m.r.Read(buf[len(m.data):])
		m.data = buf[:len(m.data)+k]
		if k == 0 && err == nil {
			if empty++; empty == 100 { // a reader that never progresses, as bufio counts
				err = io.ErrNoProgress
			}
		}
		if err != nil {
			m.err = err
			return len(m.data) >= n
		}
	}
	return true
}

// extend is fill for a mapped file: data reaches window bytes past the
// n asked for (no further than the file's end), and the whole pages more
// than window behind the reader are released.
func (m *memSource) extend(n int) bool {
	if n > len(m.mapped)-m.off {
		m.data, m.err = m.mapped, io.EOF
		return false
	}
	m.data = m.mapped[:m.off+min(n+m.window, len(m.mapped)-m.off)]
	if behind := (m.off - m.window) &^ (pageSize - 1); behind > m.released {
		if m.release != nil {
			m.release(m.mapped[m.released:behind])
		}
		m.released = behind
	}
	return true
}

// pageSize aligns the releases of a mapping (the mapping itself starts on
// a page).
var pageSize = os.Getpagesize()

// failed is the error for a capture that ends before n more bytes: a
// read error as it is, else errCutShort (io.EOF when nothing is left, the
// end of the capture between records).
func (m *memSource) failed() error {
	if m.err != nil && m.err != io.EOF {
		return m.err
	}
	if len(m.data) == m.off {
		return io.EOF
	}
	return errCutShort
}

func (m *memSource) peek(n int) ([]byte, error) {
	if !m.fill(n) {
		if err := m.failed(); err != io.EOF && err != errCutShort {
			return nil, err
		}
		return nil, io.ErrUnexpectedEOF
	}
	return m.data[m.off : m.off+n], nil
}

func (m *memSource) take(n int) ([]byte, error) {
	if n == 0 {
		return m.data[m.off:m.off:m.off], nil
	}
	if !m.fill(n) {
		err := m.failed()
		m.off = len(m.data)
		return nil, err
	}
	b := m.data[m.off : m.off+n : m.off+n]
	m.off += n
	return b, nil
}

// NewBytesReader reads a capture held in memory without copying packets:
// the data returned by Next aliases b.
func NewBytesReader(b []byte) (Reader, error) {
	return newReader(&memSource{data: b})
}
