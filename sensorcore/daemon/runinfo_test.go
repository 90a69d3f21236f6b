package daemon

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestStaleRunInfoNotSignalled: after a crash or reboot run.json may name
// a pid that now belongs to another process; apply must not send that
// process SIGHUP (which would end it), and sanity must not call it the
// console. The recorded process start time tells them apart.
func TestStaleRunInfoNotSignalled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the process start time comes from /proc, which only Linux has")
	}
	if _, ok := procStart(os.Getpid()); !ok {
		t.Fatal("no start time for this process in /proc")
	}
	e, err := NewEngine(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(e.Layout.State(), 0o700)
	// The stranger is this test binary waiting for SIGHUP with a handler of
	// its own: a sleep(1) would inherit an ignored SIGHUP from a test run
	// under nohup and never die of it.
	stranger := exec.Command(os.Args[0], "-test.run=^TestHelperStranger$")
	stranger.Env = append(os.Environ(), "SENSORCORE_TEST_STRANGER=1")
	out, err := stranger.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer stranger.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the stranger process did not start: %q %v", line, err)
	}
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

// TestHelperStranger is the unrelated process of TestStaleRunInfoNotSignalled:
// it says "ready" once its SIGHUP handler is in place and exits on SIGHUP.
func TestHelperStranger(t *testing.T) {
	if os.Getenv("SENSORCORE_TEST_STRANGER") != "1" {
		t.Skip("helper process for TestStaleRunInfoNotSignalled")
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	fmt.Println("ready")
	select {
	case <-hup:
		os.Exit(0)
	case <-time.After(30 * time.Second):
		os.Exit(1)
	}
}
