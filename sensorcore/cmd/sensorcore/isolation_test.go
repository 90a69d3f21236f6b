package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// capNetRaw is CAP_NET_RAW's bit in /proc/PID/status's capability masks.
const capNetRaw = 1 << 13

// monitored is a serve --monitor lo with a provisioned generation (so the
// sensor has a private key on disk) and a signed-in console client.
type monitored struct {
	root, base string
	d          *proc
	console    *http.Client
	ssh        *sshClient
	kit        *testkit.Kit
}

func startMonitored(t *testing.T) *monitored {
	t.Helper()
	if os.Geteuid() != 0 {
		needs.Missing(t, "this test needs root: serve must start the monitoring engine as another user, and capture needs AF_PACKET")
	}
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	root := t.TempDir()
	// Open the test's own temporary directories to everyone, so that only
	// the sensor's own file modes keep the engine out, as on an appliance.
	for p := root; p != filepath.Dir(os.TempDir()) && p != "/"; p = filepath.Dir(p) {
		if strings.HasPrefix(p, os.TempDir()+"/") {
			os.Chmod(p, 0o755)
		}
	}
	// And the parents of the sensor's directories as an appliance has them.
	for _, d := range []string{"etc", "var/lib"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.Chmod(filepath.Join(root, d), 0o755)
		os.Chmod(filepath.Join(root, "var"), 0o755)
	}
	m := &monitored{root: root, ssh: newSSHClient(t, root), kit: k}
	m.d = startServe(t, root, k.RootFile, "--monitor", "lo", "--manuf", "/nonexistent")
	b := k.Bundle(t, daemon.Layout{Root: root}.Incoming(), testkit.Spec{Sensor: "sensor-01", Hostname: "sensor-01.plant.example"})
	if out, code := cli(t, nil, "apply", "--json", "--root", root, "--trust-root", k.RootFile, filepath.Base(b.Archive)); code != 0 {
		t.Fatalf("apply: %s", out)
	}
	m.base = "https://" + m.d.run.Console
	m.console = consoleClient(t, root, m.base)
	return m
}

func (m *monitored) engine(t *testing.T, not int, within time.Duration) daemon.MonitorState {
	t.Helper()
	return waitEngine(t, m.d, m.root, not, within)
}

// waitEngine waits until run.json shows the monitoring engine of the serve
// d running with a pid other than not, and capturing, and returns its state.
func waitEngine(t *testing.T, d *proc, root string, not int, within time.Duration) daemon.MonitorState {
	t.Helper()
	l := daemon.Layout{Root: root}
	deadline := time.Now().Add(within)
	for {
		if ri, ok := l.ReadRunInfo(); ok && ri.Monitor != nil && ri.Monitor.Running && ri.Monitor.PID != not &&
			strings.HasPrefix(ri.Capture, "capture: 1 interfaces") {
			return *ri.Monitor
		}
		if time.Now().After(deadline) {
			ri, _ := l.ReadRunInfo()
			t.Fatalf("the monitoring engine is not running within %s: %+v %+v\n%s", within, ri, ri.Monitor, d.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get fetches a console page, returning its status and body.
func (m *monitored) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := m.console.Get(m.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// provisioningUp checks, each within a second, that the console and the
// SSH listener answer as ever.
func (m *monitored) provisioningUp(t *testing.T) {
	t.Helper()
	start := time.Now()
	if h := health(t, m.d.run.Console); h["status"] != "ok" {
		t.Fatalf("health: %v", h)
	}
	if code, body := m.get(t, "/"); code != http.StatusOK || !strings.Contains(body, "sensor-01") {
		t.Fatalf("overview: %d", code)
	}
	cl := m.ssh.dial(t, m.root, m.d.run.SSH)
	defer cl.Close()
	var st daemon.Status
	if code := remote(t, cl, "sensorcore status --json", &st); code != 0 || st.Generation != 1 {
		t.Fatalf("status over SSH: exit %d %+v", code, st)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the console and SSH listener took %s to answer", d)
	}
}

// TestMonitorIsolation: the monitoring engine runs in a process of its
// own. Flooded, the console and SSH listener answer. Killed (SIGKILL), crashed (a Go runtime dump, as a panic makes) or
// hung (stopped: a parser in an endless loop), it costs monitoring seconds:
// the console and the SSH listener answer throughout, the console says
// monitoring is restarting, and serve has it back within seconds,
// counting the restarts and naming the last fault on the overview.
func TestMonitorIsolation(t *testing.T) {
	m := startMonitored(t)
	first := m.engine(t, 0, 10*time.Second)
	if code, body := m.get(t, "/monitor/devices"); code != http.StatusOK || !strings.Contains(body, "Devices") {
		t.Fatalf("devices page: %d", code)
	}

	// Flooded: UDP as fast as this process can send it, on the loopback
	// interface the engine captures; the console and SSH listener answer.
	stop := make(chan struct{})
	flooded := make(chan int)
	go func() {
		c, err := net.Dial("udp", "127.0.0.1:9")
		if err != nil {
			flooded <- 0
			return
		}
		defer c.Close()
		payload := make([]byte, 512)
		n := 0
		for {
			select {
			case <-stop:
				flooded <- n
				return
			default:
			}
			c.Write(payload)
			n++
		}
	}()
	time.Sleep(500 * time.Millisecond)
	m.provisioningUp(t)
	m.provisioningUp(t)
	close(stop)
	t.Logf("%d datagrams sent while the console and SSH listener answered", <-flooded)
	if e := m.engine(t, 0, 5*time.Second); e.PID != first.PID {
		t.Fatalf("the engine restarted under the flood: %+v", e)
	}

	// Killed.
	syscall.Kill(first.PID, syscall.SIGKILL)
	m.provisioningUp(t)
	killedAt := time.Now()
	second := m.engine(t, first.PID, 5*time.Second)
	t.Logf("engine back %s after SIGKILL", time.Since(killedAt).Round(time.Millisecond))
	if second.Restarts != 1 || !strings.Contains(second.LastFault, "SIGKILL") {
		t.Fatalf("after a kill: %+v", second)
	}
	if _, body := m.get(t, "/"); !strings.Contains(body, "capture restarted 1 times") || !strings.Contains(body, "SIGKILL") {
		t.Fatalf("the overview does not show the restart:\n%s", body)
	}

	// Crashed: the Go runtime's dump on SIGQUIT, like a panic's.
	syscall.Kill(second.PID, syscall.SIGQUIT)
	m.provisioningUp(t)
	third := m.engine(t, second.PID, 8*time.Second)
	if third.Restarts != 2 || !strings.Contains(third.LastFault, "SIGQUIT: quit") {
		t.Fatalf("after a crash: %+v", third)
	}

	// Hung: stopped, it answers nothing; the console says so, the
	// watchdog kills it and it comes back.
	syscall.Kill(third.PID, syscall.SIGSTOP)
	m.provisioningUp(t)
	time.Sleep(5 * time.Second) // two health polls missed
	m.provisioningUp(t)
	start := time.Now()
	code, body := m.get(t, "/monitor/api/v1/stats")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "restarting") || time.Since(start) > time.Second {
		t.Fatalf("stats from a hung engine: %d after %s: %s", code, time.Since(start), body)
	}
	fourth := m.engine(t, third.PID, 20*time.Second)
	if fourth.Restarts != 3 || !strings.Contains(fourth.LastFault, "did not answer") {
		t.Fatalf("after a hang: %+v", fourth)
	}
	if code, _ := m.get(t, "/monitor/api/v1/stats"); code != http.StatusOK {
		t.Fatalf("stats after the restart: %d", code)
	}
	if out, code := cli(t, nil, "sanity", "--root", m.root); !strings.Contains(out, "restarted 3 times") {
		t.Fatalf("sanity does not say the capture restarted: exit %d\n%s", code, out)
	}
}

// procStatus reads the fields of /proc/PID/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// TestMonitorPrivileges: the monitoring engine runs as another user than
// root, with no supplementary groups, no_new_privs, and CAP_NET_RAW as its
// only capability (it captures with it); with exactly those credentials
// nothing of the sensor's provisioning can be read: not the sensor's
// private key, the console's, the SSH host key, the console accounts, the
// configuration, the incoming uploads.
func TestMonitorPrivileges(t *testing.T) {
	m := startMonitored(t)
	e := m.engine(t, 0, 10*time.Second)
	st := procStatus(t, e.PID)
	ids := func(k string) []uint64 {
		var out []uint64
		for _, f := range strings.Fields(st[k]) {
			n, _ := strconv.ParseUint(f, 10, 32)
			out = append(out, n)
		}
		return out
	}
	capMask := func(k string) uint64 { v, _ := strconv.ParseUint(st[k], 16, 64); return v }
	uid, gid := ids("Uid"), ids("Gid")
	for i := range uid {
		if uid[i] == 0 || gid[i] == 0 {
			t.Fatalf("the engine runs as uid %v gid %v", uid, gid)
		}
	}
	if st["Groups"] != "" {
		t.Errorf("supplementary groups: %q", st["Groups"])
	}
	for _, k := range []string{"CapEff", "CapPrm", "CapAmb"} {
		if capMask(k) != capNetRaw {
			t.Errorf("%s is %s, want CAP_NET_RAW alone (%x)", k, st[k], capNetRaw)
		}
	}
	if capMask("CapInh")&^capNetRaw != 0 {
		t.Errorf("CapInh is %s", st["CapInh"])
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs is %q", st["NoNewPrivs"])
	}
	if !strings.Contains(e.User, fmt.Sprintf("uid %d", uid[0])) {
		t.Errorf("run.json says the engine runs as %q", e.User)
	}

	// Try the sensor's files with the engine's own credentials.
	l := daemon.Layout{Root: m.root}
	cur, err := os.Readlink(filepath.Join(l.State(), "current"))
	if err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(m.root, "readable-by-all")
	os.WriteFile(ok, []byte("ok"), 0o644)
	as := func(args ...string) error {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid[0]), Gid: uint32(gid[0]), Groups: []uint32{}},
			AmbientCaps: []uintptr{13}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := as("cat", ok); err != nil {
		t.Fatalf("the probe cannot read a file open to everyone: %v", err)
	}
	for _, p := range []string{
		filepath.Join(l.State(), cur, "sensor.key"),
		filepath.Join(l.Etc(), "console-selfsigned.key"),
		filepath.Join(l.Etc(), "ssh_host_ed25519_key"),
		filepath.Join(l.Etc(), "console-users.json"),
		filepath.Join(l.Etc(), "console-initial-passwords"),
		filepath.Join(l.Etc(), "authorized_keys"),
		l.RunFile(),
	} {
		if err := as("cat", p); err == nil || !strings.Contains(err.Error(), "Permission denied") {
			t.Errorf("with the engine's credentials, %s: %v", p, err)
		}
	}
	for _, d := range []string{l.Etc(), l.Incoming(), l.State()} {
		if err := as("ls", d); err == nil || !strings.Contains(err.Error(), "Permission denied") {
			t.Errorf("with the engine's credentials, ls %s: %v", d, err)
		}
	}
}
