package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// rss is the process's resident memory (VmRSS in /proc/self/status: file
// pages and anonymous memory), in bytes.
func rss(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestCaptureBoundedRSS: reading a 256 MiB capture keeps the process's
// resident memory flat (two mapping windows, not the file): a 50 GB
// capture reads on a small appliance. Every packet is read.
func TestCaptureBoundedRSS(t *testing.T) {
	const size = 256 << 20
	path := filepath.Join(t.TempDir(), "big.pcap")
	packets := (size - 24 + 1499) / 1500 // records of 16 + 1484 bytes
	writeCapture(t, path, packets, 1484)
	readBounded(t, path, size, packets)
}
func readBounded(t *testing.T, path string, size, packets int) {
	t.Helper()
	runtime.GC()
	base := rss(t)
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ir := c.Reader.(InfoReader)
	var ci Info
	var peak int64
	n := 0
	for {
		if _, err := ir.NextInfo(&ci); err != nil {
			break
		}
		n++
		if n%4096 == 0 {
			peak = max(peak, rss(t)-base)
		}
	}
	if n != packets {
		t.Fatalf("read %d packets of %d", n, packets)
	}
	// two mapping windows (or the read buffer), and room for the
	// runtime's own growth
	limit := int64(2*mapWindow + 8<<20)
	t.Logf("peak RSS growth while reading %d MiB: %d KiB (limit %d KiB)", size>>20, peak>>10, limit>>10)
	if peak > limit {
		t.Fatalf("resident memory grew %d MiB while reading a %d MiB capture; two mapping windows allow %d MiB", peak>>20, size>>20, limit>>20)
	}
}

// writeCapture writes a pcap file of n Ethernet records of size bytes at
// path.
func writeCapture(t *testing.T, path string, n, size int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], LinkEthernet)
	w.Write(h)
	rec := make([]byte, 16+size)
	binary.LittleEndian.PutUint32(rec[8:], uint32(size))
	binary.LittleEndian.PutUint32(rec[12:], uint32(size))
	for i := range n {
		binary.LittleEndian.PutUint32(rec[16:], uint32(i))
		w.Write(rec)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMappedFileShrinks: another program truncates a capture while it is
// read in place. The pages it no longer holds fault when read; Guard
// turns that into ErrShrank after the records before, never a crash of
// the process.
func TestMappedFileShrinks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rotated.pcap")
	const records = 8192
	writeCapture(t, path, records, 1000) // about 8 MB: four mapping windows
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.mapped == nil {
		t.Fatal("a regular file is read in place: it should be mapped")
	}
	var sum uint64
	n, err := readNumbered(t, c, func(n int, data []byte) {
		for _, b := range data { // every byte used, as a dissector would
			sum += uint64(b)
		}
		if n == 99 {
			if err := os.Truncate(path, 64<<10); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !errors.Is(err, ErrShrank) {
		t.Fatalf("reading a file truncated under the reader: got %v after %d records, want ErrShrank", err, n)
	}
	if n < 100 || n >= records {
		t.Fatalf("read %d records of %d before the fault", n, records)
	}
	t.Logf("%d records read, then: %v", n, err)
}

// TestMappedGuardPassesOtherPanics: Guard keeps a panic that is not a
// fault on the file's mapping as it was, for the caller's own recovery.
func TestMappedGuardPassesOtherPanics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.pcap")
	writeCapture(t, path, 10, 100)
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func() {
		if v := recover(); v != "not a fault" {
			t.Fatalf("recovered %v, want the panic passed on", v)
		}
	}()
	c.Guard(func() error { panic("not a fault") })
	t.Fatal("Guard returned after a panic")
}

// TestPipeReadThroughBuffer: a capture that cannot be mapped (a pipe, as
// in `tcpdump -w - | sensorcore analyze /dev/stdin`) is read through the
// buffer, every record.
func TestPipeReadThroughBuffer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.pcap")
	writeCapture(t, path, 3000, 1000)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(whole)
		w.Close()
	}()
	c, err := Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.mapped != nil {
		t.Fatal("a pipe was mapped")
	}
	n, err := readNumbered(t, c, func(int, []byte) {})
	if err != io.EOF || n != 3000 {
		t.Fatalf("read %d records of 3000, then %v", n, err)
	}
}

// readNumbered reads c's records inside Guard, checking that record n
// starts with n as writeCapture wrote it, calls each on every record, and
// returns how many it read and the error that ended the reading.
func readNumbered(t *testing.T, c *File, each func(n int, data []byte)) (int, error) {
	t.Helper()
	n := 0
	err := c.Guard(func() error {
		for ; ; n++ {
			data, _, err := c.Next()
			if err != nil {
				return err
			}
			if got := binary.LittleEndian.Uint32(data); got != uint32(n) {
				t.Fatalf("record %d holds %d", n, got)
			}
			each(n, data)
		}
	})
	return n, err
}
