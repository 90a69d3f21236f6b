package capture

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
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
// resident memory flat (the read buffer, not the file): a 50 GB capture
// reads on a small appliance. Every packet is read.
func TestCaptureBoundedRSS(t *testing.T) {
	const size = 256 << 20
	path := filepath.Join(t.TempDir(), "big.pcap")
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
	rec := make([]byte, 16+1484)
	binary.LittleEndian.PutUint32(rec[8:], 1484)
	binary.LittleEndian.PutUint32(rec[12:], 1484)
	packets := 0
	for written := 24; written < size; written += len(rec) {
		w.Write(rec)
		packets++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

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
	// the buffer, and room for the runtime's own growth
	limit := int64(readBuffer + 8<<20)
	t.Logf("peak RSS growth while reading %d MiB: %d KiB (limit %d KiB)", size>>20, peak>>10, limit>>10)
	if peak > limit {
		t.Fatalf("resident memory grew %d MiB while reading a %d MiB capture; the read buffer allows %d MiB", peak>>20, size>>20, limit>>20)
	}
}
