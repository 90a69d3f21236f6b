package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/capture"
)

// TestReplayPaced: a capture replayed twice at 10x on a clock the test
// holds: every packet goes through twice, stamped on the replay's
// timeline (recorded spacing / 10, silences over a second shortened),
// each pass logging its operations under new ids (its connections are
// new ones, not retransmissions of the last pass's); the always-on alert of
// the capture (an S7 PLC stop) is raised; Health says it replays.
func TestReplayPaced(t *testing.T) {
	path := filepath.Join(needs.SharedDir(t), "pcaps", "s7comm", "snap7_s300_stop.pcapng")
	data, err := os.ReadFile(path)
	if err != nil {
		needs.Missing(t, "needs the shared captures (%v)", err)
	}
	// The recorded timeline with silences shortened to 1 s.
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var span time.Duration
	var prev time.Time
	packets := 0
	for {
		_, ci, err := f.Next()
		if err == io.EOF {
			break
		}
		if !prev.IsZero() {
			span += min(max(ci.Timestamp().Sub(prev), 0), time.Second)
		}
		prev = ci.Timestamp()
		packets++
	}
	f.Close()

	var ops bytes.Buffer
	m, err := New(Options{Learning: -1, Operations: &ops})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now, slept := start, time.Duration(0)
	o := ReplayOptions{Speed: 10, Loops: 2, Now: func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); slept += d; return nil }}
	if err := m.RunReplay(context.Background(), []ReplaySource{{Name: "stop", R: bytes.NewReader(data), Size: int64(len(data))}}, o); err != nil {
		t.Fatal(err)
	}
	if got := m.Stats().Packets; got != uint64(2*packets) {
		t.Fatalf("%d packets through the pipeline, want %d (two passes)", got, 2*packets)
	}
	if want := 2 * span / 10; slept < want-10*time.Millisecond || slept > want+10*time.Millisecond {
		t.Fatalf("the replay slept %s, want %s (the recorded spacing at 10x)", slept, want)
	}
	ids := map[string]bool{}
	lines := strings.Split(strings.TrimSpace(ops.String()), "\n")
	for _, l := range lines {
		var r opRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		at := r.Time
		if at.Before(start) || at.After(start.Add(2*span/10+time.Second)) {
			t.Fatalf("operation at %s, outside the replay's timeline from %s", r.Time, start)
		}
		if ids[r.ID] {
			t.Fatalf("operation id %s twice: a pass repeated the last one's ids", r.ID)
		}
		ids[r.ID] = true
	}
	if len(lines) == 0 || len(lines)%2 != 0 {
		t.Fatalf("%d operations logged over two passes", len(lines))
	}
	stop := false
	for _, a := range m.Alerts() {
		stop = stop || a.Rule == "s7-plc-stop"
	}
	if !stop {
		t.Fatalf("no s7-plc-stop alert from the replayed stop: %+v", m.Alerts())
	}
	if h, err := m.Health(); err != nil || !strings.Contains(h, "replayed 1 capture file 2 times") {
		t.Fatalf("health %q %v", h, err)
	}
	// Not a capture: no packet, an error, never a busy loop.
	junk := []byte("not a capture file at all")
	if err := m.RunReplay(context.Background(), []ReplaySource{{Name: "junk", R: bytes.NewReader(junk), Size: int64(len(junk))}}, ReplayOptions{Loops: 0}); err == nil {
		t.Fatal("replaying a file that is no capture did not fail")
	}
}

// TestReplayPassesCount: every pass over a shared capture counts what one
// reading of it counts (PDUs, malformed, operations): the passes'
// connections are new ones, never retransmissions of the last pass's,
// whether they are long (many segments) or one request and its answer.
func TestReplayPassesCount(t *testing.T) {
	const passes = 3
	for _, name := range []string{"s7comm/s7comm_downloading_block_db1.pcap", "dnp3/directoperate_and_response.pcap", "modbus/modbusSmall.pcap", "dnp3-loopback/opendnp3-conformance-8_15_2.pcap"} {
		path := filepath.Join(needs.SharedDir(t), "pcaps", filepath.FromSlash(name))
		data, err := os.ReadFile(path)
		if err != nil {
			needs.Missing(t, "needs the shared captures (%v)", err)
		}
		var once bytes.Buffer
		one, _ := New(Options{Learning: -1, Operations: &once})
		one.RunFile(path)
		one.FlushOperations(true)
		var ops bytes.Buffer
		m, _ := New(Options{Learning: -1, Operations: &ops})
		now := time.Now()
		err = m.RunReplay(context.Background(), []ReplaySource{{Name: name, R: bytes.NewReader(data), Size: int64(len(data))}},
			ReplayOptions{Speed: MaxReplaySpeed, Loops: passes, Now: func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		for proto, p := range one.Report().Protocols {
			q := m.Report().Protocols[proto]
			if q.PDUs != passes*p.PDUs || q.Malformed != passes*p.Malformed {
				t.Errorf("%s replayed %d times: %s %d PDUs (%d malformed), one reading %d (%d)", name, passes, proto, q.PDUs, q.Malformed, p.PDUs, p.Malformed)
			}
		}
		if got, want := strings.Count(ops.String(), "\n"), passes*strings.Count(once.String(), "\n"); got != want || want == 0 {
			t.Errorf("%s replayed %d times: %d operations, want %d", name, passes, got, want)
		}
	}
}
