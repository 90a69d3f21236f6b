package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rssFile is the process's resident file-backed memory (RssFile in
// /proc/self/status), in bytes.
func rssFile(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestMappedCaptureBoundedRSS: reading a 256 MiB capture keeps at most the
// window (a chunk behind, the prefault distance ahead) resident, not the
// file: a 50 GB capture reads on a small appliance. With one processor
// and with more (the pages ahead are mapped by an ordinary or a raw
// system call), every packet is read.
func TestMappedCaptureBoundedRSS(t *testing.T) {
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

	for _, procs := range []int{runtime.GOMAXPROCS(0), 1} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			readBounded(t, path, size, packets)
		})
	}
}

func readBounded(t *testing.T, path string, size, packets int) {
	t.Helper()
	base := rssFile(t)
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
			peak = max(peak, rssFile(t)-base)
		}
	}
	if n != packets {
		t.Fatalf("read %d packets of %d", n, packets)
	}
	// the window is 2 chunks behind at most and windowAhead in front
	limit := int64(windowAhead + 4*windowChunk)
	t.Logf("peak file-backed RSS while reading %d MiB: %d MiB (limit %d MiB)", size>>20, peak>>20, limit>>20)
	if peak > limit {
		t.Fatalf("resident %d MiB while reading a %d MiB capture; the window allows %d MiB", peak>>20, size>>20, limit>>20)
	}
}
