package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"
)

// edgeCapture is a pcap whose records cross the read buffer's end at many
// different offsets (sizes cycle through 1..3001 bytes), with records of
// the largest size allowed, larger than the buffer, among them.
func edgeCapture() ([]byte, int) {
	var pkts [][]byte
	var ts []time.Time
	size := 0
	for i := 0; size < 3*readBuffer; i++ {
		n := 1 + i*37%3001
		if i%97 == 50 {
			n = MaxSnapLen
		}
		p := bytes.Repeat([]byte{byte(i)}, n)
		pkts = append(pkts, p)
		ts = append(ts, time.Unix(1700000000+int64(i), int64(i)*1000))
		size += 16 + n
	}
	return writePcap(binary.LittleEndian, false, pkts, ts), len(pkts)
}

// readRecords reads every record of r, copied, and the error that ended it
// (nil at the end).
func readRecords(r Reader) (pkts [][]byte, infos []Info, err error) {
	for {
		p, ci, err := r.Next()
		if err == io.EOF {
			return pkts, infos, nil
		}
		if err != nil {
			return pkts, infos, err
		}
		pkts = append(pkts, append([]byte(nil), p...))
		infos = append(infos, ci)
	}
}

// sameRecords fails unless a file's reading gave what the same bytes give
// read from memory: the same records and the same kind of ending.
func sameRecords(t *testing.T, what string, data []byte, r Reader) {
	t.Helper()
	m, err := NewBytesReader(data)
	if err != nil {
		t.Fatal(err)
	}
	wp, wi, werr := readRecords(m)
	gp, gi, gerr := readRecords(r)
	if len(gp) != len(wp) {
		t.Fatalf("%s: %d records, %d in memory", what, len(gp), len(wp))
	}
	for i := range wp {
		if !bytes.Equal(gp[i], wp[i]) || gi[i] != wi[i] || len(gp[i]) != gi[i].CaptureLen {
			t.Fatalf("%s: record %d differs from the same record read in memory", what, i)
		}
	}
	if (gerr == nil) != (werr == nil) || errors.Is(gerr, ErrCutShort) != errors.Is(werr, ErrCutShort) ||
		errors.Is(gerr, ErrCorrupt) != errors.Is(werr, ErrCorrupt) {
		t.Fatalf("%s: ended with %v, in memory with %v", what, gerr, werr)
	}
}

// TestFileBufferEdges: a capture file read through the reused buffer
// gives exactly the records the same bytes give in memory, whatever the
// record's place against the buffer's end, records larger than the buffer
// included; also when each read returns a single byte, and when the file
// is cut short anywhere around the buffer's end.
func TestFileBufferEdges(t *testing.T) {
	data, n := edgeCapture()
	dir := t.TempDir()
	path := filepath.Join(dir, "edges.pcap")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "file", data, f)
	f.Close()
	r, err := NewReader(iotest.OneByteReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "one byte per read", data, r)
	if m, _ := NewBytesReader(data); true {
		if p, _, _ := readRecords(m); len(p) != n {
			t.Fatalf("%d records in memory, wrote %d", len(p), n)
		}
	}
	for _, cut := range []int{24 + 7, readBuffer - 9, readBuffer - 1, readBuffer, readBuffer + 1, readBuffer + 15, 2*readBuffer + 3, len(data) - 1} {
		cutPath := filepath.Join(dir, fmt.Sprintf("cut%d.pcap", cut))
		if err := os.WriteFile(cutPath, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Open(cutPath)
		if err != nil {
			t.Fatal(err)
		}
		sameRecords(t, fmt.Sprintf("cut at %d", cut), data[:cut], f)
		f.Close()
	}
}

// TestMappedWindowEdges: a mapped file read through a window of a few
// bytes or pages, whatever the record's place against the window's end,
// gives exactly the records the same bytes give in memory, cut short
// anywhere too, pcap and pcapng alike.
func TestMappedWindowEdges(t *testing.T) {
	pcap, _ := edgeCapture()
	pkts := [][]byte{{1, 2, 3}, bytes.Repeat([]byte{7}, MaxSnapLen), {4, 5}, bytes.Repeat([]byte{9}, 5000)}
	ts := []time.Time{time.Unix(1, 0), time.Unix(2, 0), time.Unix(3, 0), time.Unix(4, 0)}
	ng := writePcapNG(binary.LittleEndian, pkts, ts)
	for _, data := range [][]byte{pcap, ng} {
		for _, window := range []int{1, 100, 4096 + 7, 3 * readBuffer} {
			for _, cut := range []int{len(data), len(data) - 1, len(data) / 2, 24 + 7} {
				r, err := newReader(&memSource{data: data[:0:0], mapped: data[:cut], window: window})
				if err != nil {
					t.Fatal(err)
				}
				sameRecords(t, fmt.Sprintf("window %d, cut at %d of %d", window, cut, len(data)), data[:cut], r)
			}
		}
	}
}

// TestFilePcapNGLargeBlock: a pcapng block of the largest size allowed,
// larger than the read buffer, reads from a file.
func TestFilePcapNGLargeBlock(t *testing.T) {
	pkts := [][]byte{{1, 2, 3}, bytes.Repeat([]byte{7}, MaxSnapLen), {4, 5}}
	ts := []time.Time{time.Unix(1, 0), time.Unix(2, 0), time.Unix(3, 0)}
	data := writePcapNG(binary.BigEndian, pkts, ts)
	path := filepath.Join(t.TempDir(), "large.pcapng")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _, err := readRecords(f)
	if err != nil || len(got) != 3 || !bytes.Equal(got[1], pkts[1]) {
		t.Fatalf("%d records, %v", len(got), err)
	}
}

// TestReadErrorReported: a read that fails midway (a disk error) ends the
// capture with that error, after the records before it; it is not taken
// for the end of the file or for a cut-short one.
func TestReadErrorReported(t *testing.T) {
	data, _ := edgeCapture()
	failure := errors.New("input/output error")
	r, err := NewReader(io.MultiReader(bytes.NewReader(data[:readBuffer+100]), iotest.ErrReader(failure)))
	if err != nil {
		t.Fatal(err)
	}
	pkts, _, err := readRecords(r)
	if !errors.Is(err, failure) || errors.Is(err, ErrCorrupt) || len(pkts) == 0 {
		t.Fatalf("%d records, then %v; want the read error", len(pkts), err)
	}
}
