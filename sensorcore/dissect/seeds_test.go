package dissect

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
)

// sharedDir is ../shared/pcaps next to the repository root.
func sharedDir(t testing.TB) string { return filepath.Join(needs.SharedDir(t), "pcaps") }

// payloads returns up to max transport payloads to or from port in the
// shared captures matching glob (e.g. "modbus/*"), for seeds and tests.
func payloads(t testing.TB, glob string, port uint16, max int) [][]byte {
	files, _ := filepath.Glob(filepath.Join(sharedDir(t), glob))
	var out [][]byte
	var d decode.Decoder
	for _, f := range files {
		r, err := capture.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		for len(out) < max {
			data, ci, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Decode(data, ci.LinkType) != nil || len(d.Pkt.Payload) == 0 {
				continue
			}
			if d.Pkt.SrcPort == port || d.Pkt.DstPort == port {
				out = append(out, append([]byte(nil), d.Pkt.Payload...))
			}
		}
		r.Close()
	}
	return out
}

// fuzzSeeds adds captured payloads (or fallback when the captures are
// absent) to f's corpus.
func fuzzSeeds(f *testing.F, glob string, port uint16, fallback ...[]byte) {
	for _, p := range payloads(f, glob, port, 200) {
		f.Add(p)
	}
	for _, p := range fallback {
		f.Add(p)
	}
}

// checkFramer fails when a Len function returns more than it was given.
func checkFramer(t *testing.T, name string, length func([]byte) int, b []byte) {
	if n := length(b); n > len(b) {
		t.Fatalf("%s Len returned %d for %d bytes", name, n, len(b))
	}
}

// mustSkipNoCaptures skips when the shared captures are missing (fails
// under CI=true).
func mustSkipNoCaptures(t *testing.T, got [][]byte, what string) {
	if len(got) == 0 {
		needs.Missing(t, "needs the shared captures (%s) in %s", what, sharedDir(t))
	}
}
