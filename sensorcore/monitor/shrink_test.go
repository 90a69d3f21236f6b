package monitor

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// truncating is an operations log that cuts the capture at path down to
// its first page the first time records are written out: another program
// truncating the file while sensorcore reads it.
type truncating struct {
	t    *testing.T
	path string
	done bool
}

func (w *truncating) Write(b []byte) (int, error) {
	if !w.done {
		w.done = true
		if err := os.Truncate(w.path, 4096); err != nil {
			w.t.Error(err)
		}
	}
	return len(b), nil
}

// TestRunFileShrinks: a capture truncated by another program while it is
// analysed gives a partial result that says so (exit 1 in the commands),
// with the packets read before it in the report, and no crash.
func TestRunFileShrinks(t *testing.T) {
	src := sharedFile(t, "modbus/ModbusTCP.pcap")
	whole, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rotating.pcap")
	if err := os.WriteFile(path, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	total := uint64(len(pcaptest.Read(t, src)))
	w := &truncating{t: t, path: path}
	m, err := New(Options{Learning: -1, Operations: w})
	if err != nil {
		t.Fatal(err)
	}
	fr := m.RunFile(path)
	if !w.done {
		t.Fatal("the operations log was not written out while the file was read: the test truncated nothing")
	}
	if fr.Status != FilePartial || !errors.Is(fr.Err(), capture.ErrShrank) {
		t.Fatalf("status %s, error %v; want partial with ErrShrank", fr.Status, fr.Err())
	}
	if fr.Packets == 0 || fr.Packets >= total {
		t.Fatalf("%d packets read of %d before the file shrank", fr.Packets, total)
	}
	rep := m.Report()
	if rep.Packets != fr.Packets || len(rep.Files) != 1 || rep.Files[0].Status != FilePartial {
		t.Fatalf("report: %d packets, files %+v; want %d packets, one partial file", rep.Packets, rep.Files, fr.Packets)
	}
	t.Logf("%d of %d packets read, then: %s", fr.Packets, total, fr.Error)
}
