package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/internal/keyscan"
	"github.com/tapline/tapline/provision"
)

// A batch killed mid-push (SIGKILL: no chance to clean up; SIGTERM: the
// same stop as Ctrl-C) leaves no unencrypted private key on the laptop's
// disk: not in the temporary folder, the working folder, the home folder
// or beside the inventory. Then --resume finishes the site exactly once:
// sensors done before the kill are not pushed again.
func TestBatchRunKilledLeavesNoKey(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { killedBatch(t, sig) })
	}
}

func killedBatch(t *testing.T, sig syscall.Signal) {
	bin := cliBinary(t)
	f, err := demo.Start(context.Background(), demo.Options{Dir: filepath.Join(t.TempDir(), "demo"), Sensorcore: sensorcoreForDemo(t), Sensors: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop() })
	tmp, home, cwd := t.TempDir(), t.TempDir(), t.TempDir()
	run := func(extra ...string) *exec.Cmd {
		args := append([]string{"batch", "run", "--trust-root", f.TrustRoot, "--accept-new", "--known-hosts", f.KnownHosts, "--parallel", "2"}, extra...)
		cmd := exec.Command(bin, append(args, f.Inventory)...)
		cmd.Dir = cwd
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp, "HOME=" + home, "TAPLINE_SSH_PASSWORD=" + demo.Password}
		return cmd
	}
	cmd := run()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), ": upload") || strings.Contains(sc.Text(), ": apply") {
			cmd.Process.Signal(sig)
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	werr := cmd.Wait()
	if sig == syscall.SIGKILL {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("batch run was not killed (%v):\n%s", werr, strings.Join(seen, "\n"))
		}
	} else if code := cmd.ProcessState.ExitCode(); code != ExitOK && code != ExitVerdict {
		t.Fatalf("SIGTERM: exit %d, want a clean stop:\n%s", code, strings.Join(seen, "\n"))
	}
	scan := func(when string) {
		t.Helper()
		var keep []string
		for _, s := range f.Sensors {
			keep = append(keep, s.Root, s.Key) // the sensor's own disk, and the engineer's input key
		}
		left, err := keyscan.Unencrypted([]string{tmp, home, cwd, f.Dir}, keep...)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Fatalf("%s: unencrypted private keys on the laptop's disk: %v", when, left)
		}
	}
	scan("after " + sig.String())
	stem := strings.TrimSuffix(f.Inventory, ".csv")
	if sig == syscall.SIGTERM {
		if _, err := os.Stat(stem + ".report.json"); err != nil {
			t.Fatalf("SIGTERM: no report written: %v", err)
		}
	}

	out, err := run("--resume").CombinedOutput()
	if err != nil {
		t.Fatalf("--resume: %v\n%s", err, out)
	}
	scan("after --resume")
	raw, err := os.ReadFile(stem + ".report.json")
	if err != nil {
		t.Fatal(err)
	}
	var rep provision.BatchReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	// Exactly once: each sensor ended done once in the journal, whichever
	// run did it.
	jl, _ := os.ReadFile(stem + ".journal.jsonl")
	for _, r := range rep.Results {
		if r.Result.Outcome != provision.OutcomeDone {
			t.Errorf("%s after --resume: %+v", r.Row.Sensor, r.Result)
		}
		dones := 0
		for _, line := range strings.Split(string(jl), "\n") {
			var e provision.JournalEntry
			if json.Unmarshal([]byte(line), &e) == nil && e.Sensor == r.Row.Sensor && e.Event == "end" && e.Result.Outcome == provision.OutcomeDone {
				dones++
			}
		}
		if dones != 1 {
			t.Errorf("%s ended done %d times in the journal", r.Row.Sensor, dones)
		}
	}
}
