package monitor

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/capture"
)

// corruptSeeds are the seeds of the corruption sweep: five, as an analyst
// would run `editcap -E 0.02 --seed N` for N = 1..5.
var corruptSeeds = []uint64{1, 2, 3, 4, 5}

// corruptProb is the probability that a packet byte is changed.
const corruptProb = 0.02

// editcapErrors corrupts one packet's bytes in place the way editcap -E
// does: each byte is hit with probability prob, and a hit is, by weight,
// a flipped bit (5), a random byte (5), a random letter or digit (5), a
// "%" format character followed by NUL (2), or 0xAA to the end of the
// packet (1).
func editcapErrors(rng *rand.Rand, b []byte, prob float64) {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for i := 0; i < len(b); i++ {
		if rng.Float64() >= prob {
			continue
		}
		switch w := rng.IntN(18); {
		case w < 5:
			b[i] ^= 1 << rng.IntN(8)
		case w < 10:
			b[i] = byte(rng.IntN(256))
		case w < 15:
			b[i] = alnum[rng.IntN(len(alnum))]
		case w < 17:
			if i < len(b)-2 {
				b[i], b[i+1] = '%', 0
			}
		default:
			for j := i; j < len(b); j++ {
				b[j] = 0xaa
			}
			return
		}
	}
}

// corruptPackets returns a copy of a capture file's bytes with every
// packet's data corrupted by editcapErrors; the file's own structure
// (headers, record lengths) is left intact, as editcap leaves it.
func corruptPackets(t testing.TB, file []byte, seed uint64) []byte {
	out := append([]byte(nil), file...)
	r, err := capture.NewBytesReader(out) // packet data aliases out
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a91))
	for {
		data, _, err := r.Next()
		if err != nil {
			break
		}
		editcapErrors(rng, data, corruptProb)
	}
	return out
}

// corruptFile returns a copy of a capture file with bytes changed anywhere,
// the file and record headers included (a damaged disk or transfer): the
// readers must stop cleanly, never panic.
func corruptFile(file []byte, seed uint64, prob float64) []byte {
	out := append([]byte(nil), file...)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	editcapErrors(rng, out[min(len(out), 4):], prob) // keep the magic: otherwise nothing is read at all
	return out
}

// analyseBytes runs a capture held in memory through a fresh Monitor, as
// `sensorcore analyze` does, and renders the report. A decoding panic
// fails the test with the capture and seed that caused it.
func analyseBytes(t *testing.T, what string, b []byte) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("%s: panic: %v", what, v)
		}
	}()
	m, err := New(Options{Learning: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := capture.NewBytesReader(b)
	if err != nil {
		return // not a capture any more: refused, nothing read
	}
	if err := m.RunReader(r); err != nil && !errors.Is(err, capture.ErrCorrupt) {
		t.Errorf("%s: %v (damage must be reported as a corrupt capture)", what, err)
	}
	m.Report()
	m.Stats()
}

// TestCorruptedCaptureSweep runs every shared capture through the whole
// pipeline after five seeds of editcap-style byte corruption of its
// packets, and five seeds of corruption of the file itself: no panic.
func TestCorruptedCaptureSweep(t *testing.T) {
	for _, file := range sharedCaptures(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		for _, seed := range corruptSeeds {
			analyseBytes(t, fmt.Sprintf("%s packets corrupted, seed %d", name, seed), corruptPackets(t, raw, seed))
			analyseBytes(t, fmt.Sprintf("%s file corrupted, seed %d", name, seed), corruptFile(raw, seed, 0.001))
		}
	}
}

// TestEditcapCorruptionSweep is the same sweep through editcap itself
// (editcap -E 0.02 --seed N, N = 1..5) and sensorcore's file reader.
func TestEditcapCorruptionSweep(t *testing.T) {
	files := sharedCaptures(t)
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		needs.Missing(t, "needs editcap (Debian package wireshark-common, pulled in by tshark; make test installs it)")
	}
	dir := t.TempDir()
	for _, file := range files {
		name := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		for _, seed := range corruptSeeds {
			out := filepath.Join(dir, fmt.Sprintf("seed%d-%s", seed, filepath.Base(file)))
			cmd := exec.Command(editcap, "-E", fmt.Sprint(corruptProb), "--seed", fmt.Sprint(seed), file, out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("editcap on %s: %v: %s", name, err, b)
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Fatalf("%s after editcap -E %v --seed %d: panic: %v", name, corruptProb, seed, v)
					}
				}()
				m, err := New(Options{Learning: time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if err := m.RunFiles(out); err != nil && !errors.Is(err, capture.ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("%s after editcap --seed %d: %v", name, seed, err)
				}
				m.Report()
			}()
			os.Remove(out)
		}
	}
}
