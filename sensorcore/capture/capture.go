package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"
	"unsafe"
)

// Link types from the tcpdump.org LINKTYPE registry.
const (
	LinkEthernet = 1   // LINKTYPE_ETHERNET
	LinkRaw      = 101 // LINKTYPE_RAW: IPv4 or IPv6, no link header
	LinkLinuxSLL = 113 // LINKTYPE_LINUX_SLL
	LinkIPv4     = 228 // LINKTYPE_IPV4
	LinkIPv6     = 229 // LINKTYPE_IPV6
)

// MaxSnapLen bounds one record; larger records are refused as corrupt.
const MaxSnapLen = 262144

// Sentinel errors a caller may branch on.
var (
	// ErrUnknownFormat means the first four bytes are neither a pcap nor a
	// pcapng magic number.
	ErrUnknownFormat = errors.New("not a pcap or pcapng file")
	// ErrCorrupt matches every structural problem in a capture file
	// (*CorruptError); the packets before it were read.
	ErrCorrupt = errors.New("corrupt capture file")
	// ErrCutShort matches a file that ends in the middle of a record: cut
	// short by a copy, a full disk or head -c. It is also ErrCorrupt.
	ErrCutShort = errors.New("the capture appears to have been cut short in the middle of a packet")
)

// CorruptError is a structural problem in a capture file, with what was
// wrong. errors.Is matches it with ErrCorrupt, and a cut-short file with
// ErrCutShort too. Its message carries no package prefix: the caller puts
// the file's name in front.
type CorruptError struct {
	Reason   string
	CutShort bool
}

func (e *CorruptError) Error() string {
	if e.CutShort {
		return ErrCutShort.Error()
	}
	return "corrupt capture file: " + e.Reason
}

// Is matches ErrCorrupt, and ErrCutShort for a cut-short file.
func (e *CorruptError) Is(target error) bool {
	return target == ErrCorrupt || e.CutShort && target == ErrCutShort
}

func corrupt(format string, args ...any) error {
	return &CorruptError{Reason: fmt.Sprintf(format, args...)}
}

// errCutShort is returned for a record that the file ends inside.
var errCutShort error = &CorruptError{Reason: "cut short", CutShort: true}

// Info describes one captured packet.
type Info struct {
	// UnixNano is when the packet was captured, in nanoseconds since the
	// Unix epoch (0 when the capture gives no time: a pcapng Simple Packet
	// Block). An integer rather than a time.Time: the reader fills it with
	// one store per packet, and the pipeline works in nanoseconds.
	UnixNano   int64
	CaptureLen int // bytes present in the record
	Length     int // bytes on the wire
	LinkType   int // LINKTYPE_* of the interface the packet came from
}

// Timestamp is the capture time as a time.Time.
func (ci Info) Timestamp() time.Time { return time.Unix(0, ci.UnixNano) }

// Reader yields packets one by one. Next returns io.EOF at the end. The data
// slice aliases the reader's buffer and is valid until the next call.
type Reader interface {
	Next() (data []byte, ci Info, err error)
}

// InfoReader is a Reader that can also fill an Info in place: fewer
// result words than Next, so a per-packet loop passes them in registers.
type InfoReader interface {
	Reader
	NextInfo(ci *Info) (data []byte, err error)
}

// NewReader chooses the pcap or pcapng reader from the stream's magic bytes.
func NewReader(r io.Reader) (Reader, error) {
	return newReader(newFileSource(r))
}

func newReader(src *memSource) (Reader, error) {
	magic, err := src.peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w (shorter than 4 bytes)", ErrUnknownFormat)
	}
	switch {
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		return newPcapNG(src)
	default:
		if _, _, ok := pcapMagic(magic); ok {
			return newPcap(src)
		}
	}
	return nil, fmt.Errorf("%w (it starts with % x)", ErrUnknownFormat, magic)
}

// File is an open capture file. A regular file is mapped and read in
// place, its pages released behind the reader; anything else (a pipe, a
// device, a system without mappings) is read through a buffer of fixed
// size (readBuffer). Either way its resident memory stays bounded
// whatever the file's size.
type File struct {
	Reader
	Path   string
	close  func() error
	mapped []byte // the file's mapping, nil when it is read through the buffer
}

// Open opens a capture file and picks its reader by magic bytes; errors
// name the file. A mapped file must be read inside Guard.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the file
	}
	src, closeAll, mapped := (*memSource)(nil), f.Close, mapFile(f)
	if mapped == nil {
		src = newFileSource(f)
	} else {
		src = newMappedSource(mapped)
		closeAll = func() error {
			err := unmapFile(mapped)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		}
	}
	r, err := newReader(src)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Reader: r, Path: path, close: closeAll, mapped: mapped}, nil
}

// ErrShrank is the error of a mapped file that another program cut short
// while it was being read (a copy-and-truncate log rotation, a capture
// tool starting the file over): the records it no longer holds cannot be
// read, the ones before were.
var ErrShrank = errors.New("the capture file shrank while it was read (another program truncated or rewrote it): analyse a copy that nothing writes to")

// Guard runs fn, which reads f and uses the data it returns, and turns a
// fault reading f's mapping into ErrShrank: a mapped file cut short by
// another program faults when its lost pages are read, where a file read
// into a buffer sees its end. Any other fault or panic goes on as it was.
func (f *File) Guard(fn func() error) (err error) {
	if f.mapped == nil {
		return fn()
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if fault, ok := v.(interface{ Addr() uintptr }); ok && f.holds(fault.Addr()) {
			err = ErrShrank
			return
		}
		panic(v)
	}()
	return fn()
}

// holds reports whether addr is inside f's mapping.
func (f *File) holds(addr uintptr) bool {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(f.mapped)))
	return addr >= start && addr-start < uintptr(len(f.mapped))
}

// Close releases the file; data returned by Next is invalid afterwards.
func (f *File) Close() error { return f.close() }
