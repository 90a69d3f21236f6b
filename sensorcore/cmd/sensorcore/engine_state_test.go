package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/monitor"
)

// TestServeMonitorOperationsInState: the monitoring engine serve starts
// keeps its operations log in the state directory serve gives it
// (var/lib/sensorcore/monitor under the root), never in the directory
// serve was started from: a shared Modbus capture replayed through serve
// leaves there exactly the records `sensorcore events` writes for it,
// 0640, and nothing named operations.jsonl anywhere else.
func TestServeMonitorOperationsInState(t *testing.T) {
	needs.Root(t, "serve starts the monitoring engine as its own user")
	capture := needs.Shared(t, "pcaps/modbus/modbusSmall.pcap")[0]
	want, code := cli(t, nil, "events", "--json", capture)
	if code != 0 || strings.Count(want, "\n") == 0 {
		t.Fatalf("events: exit %d\n%s", code, want)
	}
	cwd, _ := os.Getwd()
	k := testkit.New(t, time.Now().UTC(), "")
	root := t.TempDir()
	d := startServe(t, root, k.RootFile, "--monitor-replay", capture, "--monitor-replay-speed", "1000", "--monitor-replay-loops", "1",
		"--manuf", "/nonexistent")
	l := daemon.Layout{Root: root}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ri, ok := l.ReadRunInfo(); ok && strings.Contains(ri.Capture, "replayed ") {
			break
		}
		if time.Now().After(deadline) {
			ri, _ := l.ReadRunInfo()
			t.Fatalf("the replay did not finish: %+v\n%s", ri, d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop(t) // the engine writes what it holds as it stops

	path := filepath.Join(l.MonitorState(), "operations.jsonl")
	if path != filepath.Join(root, monitor.StateSubdir, "operations.jsonl") {
		t.Fatalf("the daemon's and the monitor's state directories differ: %s", path)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no operations log in the engine's state directory: %v\n%s", err, d.log)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("%s: mode %v, want 0640", path, fi.Mode().Perm())
	}
	// A replay runs on the clock of the replay (other times, so other
	// ids and latencies): the records must agree in everything else.
	ops := func(b []byte) map[string]int {
		out := map[string]int{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var op monitor.Operation
			if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
				t.Fatalf("record %q: %v", sc.Text(), err)
			}
			op.ID, op.Time, op.LatencyUS = "", time.Time{}, nil
			k, _ := json.Marshal(op)
			out[string(k)]++
		}
		return out
	}
	g, w := ops(got), ops([]byte(want))
	if len(w) == 0 || !maps.Equal(g, w) {
		t.Fatalf("the engine logged\n%v\nevents logs\n%v", g, w)
	}
	for _, dir := range []string{cwd, root, l.State()} {
		if _, err := os.Stat(filepath.Join(dir, "operations.jsonl")); err == nil {
			t.Errorf("an operations log was written in %s", dir)
		}
	}
}
