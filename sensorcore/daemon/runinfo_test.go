package daemon

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestStaleRunInfoNotSignalled: after a crash or reboot run.json may name
// a pid that now belongs to another process; apply must not send that
// process SIGHUP (which would end it), and sanity must not call it the
// console. The recorded process start time tells them apart.
func TestStaleRunInfoNotSignalled(t *testing.T) {
	if _, ok := procStart(os.Getpid()); !ok {
		t.Skip("needs /proc (Linux)")
	}
	e, err := NewEngine(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(e.Layout.State(), 0o700)
	stranger := exec.Command("sleep", "30")
	if err := stranger.Start(); err != nil {
		t.Skipf("needs sleep(1): %v", err)
	}
	defer stranger.Process.Kill()
	exited := make(chan struct{})
	go func() { stranger.Wait(); close(exited) }()
	write := func(start string) {
		b, _ := json.Marshal(RunInfo{PID: stranger.Process.Pid, Console: "127.0.0.1:1", ProcStart: start})
		if err := os.WriteFile(e.Layout.RunFile(), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	real, _ := procStart(stranger.Process.Pid)
	write(real + "1") // the daemon that wrote it started at another time
	if _, alive := e.Layout.DaemonAlive(); alive {
		t.Fatal("a reused pid was taken for the daemon")
	}
	e.signalReload()
	select {
	case <-exited:
		t.Fatal("apply's reload signal killed an unrelated process")
	case <-time.After(300 * time.Millisecond):
	}
	// The recorded process itself is the daemon and gets the signal.
	write(real)
	if _, alive := e.Layout.DaemonAlive(); !alive {
		t.Fatal("the recorded process is not recognised")
	}
	e.signalReload()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon's pid was not signalled")
	}
}
