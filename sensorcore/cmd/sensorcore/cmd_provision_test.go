package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// TestEndToEnd: serve on a temp root, upload over SFTP, apply over SSH,
// check the served certificate, change the address, confirm, restart: the
// new certificate is still served.
func TestEndToEnd(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	root := t.TempDir()
	c := newSSHClient(t, root)
	d := startServe(t, root, k.RootFile)
	cl := c.dial(t, root, d.run.SSH)
	defer cl.Close()
	selfSigned := servedFingerprint(t, d.run.Console)
	// Health without sign-in says only that the console is up; the sensor's
	// name, activation and certificate come over SSH.
	if h := health(t, d.run.Console); len(h) != 1 || h["status"] != "ok" {
		t.Fatalf("health before provisioning: %v", h)
	}
	var st daemon.Status
	if code := remote(t, cl, "sensorcore status --json", &st); code != 0 || st.Activation != nil || st.Certificate == nil ||
		st.Certificate.FingerprintSHA256 != selfSigned || st.Generation != 0 {
		t.Fatalf("status before provisioning: %d %+v", code, st)
	}

	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	name := upload(t, cl, b1.Archive)
	var res daemon.ApplyResult
	if code := remote(t, cl, "sensorcore apply --json "+name, &res); code != 0 || !res.OK || res.Generation != 1 {
		t.Fatalf("apply 1: exit %d %+v\n%s", code, res, d.log)
	}
	if res.Fingerprint != b1.Fingerprint || res.Activation == nil || res.Activation.SensorName != "sensor-01" {
		t.Fatalf("apply 1 result %+v", res)
	}
	waitFingerprint(t, d.run.Console, b1.Fingerprint)

	// Address change: pending until confirmed.
	b2 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.11"})
	name = upload(t, cl, b2.Archive)
	res = daemon.ApplyResult{}
	if code := remote(t, cl, "sensorcore apply --json --confirm-timeout 3s "+name, &res); code != 0 || !res.ConfirmationPending || res.RollbackDeadline == nil {
		t.Fatalf("apply 2: exit %d %+v", code, res)
	}
	waitFingerprint(t, d.run.Console, b2.Fingerprint)
	var op daemon.OpResult
	if code := remote(t, cl, "sensorcore confirm --json", &op); code != 0 || !op.OK || op.Generation != 2 {
		t.Fatalf("confirm: %d %+v", code, op)
	}
	st = daemon.Status{}
	if code := remote(t, cl, "sensorcore status --json", &st); code != 0 || st.PendingConfirmation || st.Generation != 2 || st.Network.Address != "192.0.2.11" {
		t.Fatalf("status: %d %+v", code, st)
	}
	// A command outside the list is refused with exit 2.
	if code := remote(t, cl, "sensorcore serve", nil); code != 2 {
		t.Fatalf("serve over ssh: exit %d", code)
	}
	cl.Close()

	d.stop(t)
	time.Sleep(3500 * time.Millisecond) // past the old deadline: confirmed, so nothing rolls back
	d2 := startServe(t, root, k.RootFile)
	waitFingerprint(t, d2.run.Console, b2.Fingerprint)
	if h := health(t, d2.run.Console); len(h) != 1 || h["status"] != "ok" {
		t.Fatalf("health after restart: %v", h)
	}
	cl = c.dial(t, root, d2.run.SSH)
	defer cl.Close()
	if remote(t, cl, "sensorcore status --json", &st); st.Generation != 2 || st.LastRollbackReason != "" || st.SensorName != "sensor-01" || st.Activation == nil {
		t.Fatalf("after restart: %+v", st)
	}
}

// TestUnconfirmedRollsBack: the deadline passes unconfirmed, across a
// daemon killed with -9 while the change was pending.
func TestUnconfirmedRollsBack(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	root := t.TempDir()
	c := newSSHClient(t, root)
	d := startServe(t, root, k.RootFile)
	cl := c.dial(t, root, d.run.SSH)
	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	var res daemon.ApplyResult
	if remote(t, cl, "sensorcore apply --json "+upload(t, cl, b1.Archive), &res); !res.OK {
		t.Fatalf("apply 1: %+v", res)
	}
	b2 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.11"})
	if remote(t, cl, "sensorcore apply --json --confirm-timeout 2s "+upload(t, cl, b2.Archive), &res); !res.OK || !res.ConfirmationPending {
		t.Fatalf("apply 2: %+v", res)
	}
	cl.Close()
	waitFingerprint(t, d.run.Console, b2.Fingerprint)
	d.kill() // the daemon dies with the change pending
	time.Sleep(2500 * time.Millisecond)
	d2 := startServe(t, root, k.RootFile)
	waitFingerprint(t, d2.run.Console, b1.Fingerprint)
	out, code := cli(t, nil, "status", "--json", "--root", root, "--trust-root", k.RootFile)
	if code != 0 || !strings.Contains(out, `"generation":1`) || !strings.Contains(out, "not confirmed before its rollback deadline") ||
		!strings.Contains(out, `"address":"192.0.2.10"`) || !strings.Contains(out, `"pending_confirmation":false`) {
		t.Fatalf("status after rollback: %s", out)
	}
	// Live: without a restart, the daemon itself rolls back.
	cl = c.dial(t, root, d2.run.SSH)
	defer cl.Close()
	if remote(t, cl, "sensorcore apply --json --confirm-timeout 1s "+upload(t, cl, b2.Archive), &res); !res.OK || res.Generation != 3 {
		t.Fatalf("apply 3: %+v", res)
	}
	waitFingerprint(t, d2.run.Console, b2.Fingerprint)
	waitFingerprint(t, d2.run.Console, b1.Fingerprint)
}

// TestCrashAtEachStep kills the apply process with -9 at each step and
// checks the sensor is on exactly the old or the new generation, and that
// a later apply works.
func TestCrashAtEachStep(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	b2 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.11"})
	steps := []struct {
		step  string
		after bool // the new generation is current after a crash here
	}{
		{daemon.StepChecked, false}, {daemon.StepStaged, false}, {daemon.StepCommited, false},
		{daemon.StepPending, false}, {daemon.StepSwitched, true}, {daemon.StepNetwork, true},
	}
	for _, s := range steps {
		t.Run(s.step, func(t *testing.T) {
			root := t.TempDir()
			base := []string{"--root", root, "--trust-root", k.RootFile, "--network-backend", "networkd"}
			if out, code := cli(t, nil, append([]string{"apply", "--json", b1.Archive}, base...)...); code != 0 {
				t.Fatalf("apply 1: %s", out)
			}
			killAt(t, append([]string{"apply", "--json", "--confirm-timeout", "60s", b2.Archive}, base...), s.step)
			want, wantAddr := b1.Fingerprint, "192.0.2.10"
			if s.after {
				want, wantAddr = b2.Fingerprint, "192.0.2.11"
			}
			// A daemon start resolves what the crash left: stale pending,
			// network not applied.
			d := startServe(t, root, k.RootFile, "--network-backend", "networkd")
			waitFingerprint(t, d.run.Console, want)
			out, _ := cli(t, nil, append([]string{"status", "--json"}, base...)...)
			if !strings.Contains(out, want) || !strings.Contains(out, `"address":"`+wantAddr+`"`) {
				t.Fatalf("status after crash at %s: %s", s.step, out)
			}
			waitFile(t, filepath.Join(root, "etc/systemd/network/10-sensorcore.network"), "Address="+wantAddr+"/24")
			d.stop(t)
			// No leftover makes a later apply fail.
			out, code := cli(t, nil, append([]string{"apply", "--json", "--confirm-timeout", "60s", b2.Archive}, base...)...)
			if code != 0 || !strings.Contains(out, `"ok":true`) || !strings.Contains(out, b2.Fingerprint) {
				t.Fatalf("apply after crash at %s: %s", s.step, out)
			}
			ents, _ := os.ReadDir(filepath.Join(root, "var/lib/sensorcore/generations"))
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("leftover %s", e.Name())
				}
			}
		})
	}
}

// killAt runs apply with the crash hook in pause mode and kills it with -9
// once it reports reaching step.
func killAt(t *testing.T, args []string, step string) {
	t.Helper()
	cmd := execCommand(args, daemon.CrashEnv+"="+step+":pause")
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "stopping at step "+step) {
				done <- true
				return
			}
		}
		done <- false
	}()
	select {
	case ok := <-done:
		if !ok {
			cmd.Wait()
			t.Fatalf("apply ended before step %s", step)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("apply did not reach step %s", step)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("%s lacks %q: %s", path, want, b)
}

// consoleClient signs in to the console at base as admin with the
// first-start password and sets a new one, returning the signed-in client.
// It checks on the way that the monitoring pages ask for sign-in.
func consoleClient(t *testing.T, root, base string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get(base + "/monitor/devices")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("monitor pages reachable without sign-in: %s", resp.Request.URL)
	}
	b, err := os.ReadFile(filepath.Join(daemon.Layout{Root: root}.Etc(), "console-initial-passwords"))
	if err != nil {
		t.Fatal(err)
	}
	var pw string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "admin" {
			pw = f[1]
		}
	}
	if resp, err = c.PostForm(base+"/login", url.Values{"user": {"admin"}, "password": {pw}}); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = c.PostForm(base+"/password", url.Values{"current": {pw}, "new": {"M0nitor-Pass"}, "confirm": {"M0nitor-Pass"}}); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

// TestServeMonitor: serve --monitor lo mounts the monitoring pages behind
// sign-in and adds the capture line to sanity.
func TestServeMonitor(t *testing.T) {
	needs.Root(t, "captures on the loopback interface (AF_PACKET)")
	k := testkit.New(t, time.Now().UTC(), "")
	root := t.TempDir()
	d := startServe(t, root, k.RootFile, "--monitor", "lo", "--manuf", "/nonexistent")
	base := "https://" + d.run.Console
	c := consoleClient(t, root, base)
	waitEngine(t, d, root, 0, 10*time.Second)
	resp, err := c.Get(base + "/monitor/devices")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/monitor/devices" {
		t.Fatalf("devices page: %v %v", err, resp)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	out := ""
	for time.Now().Before(deadline) {
		out, _ = cli(t, nil, "sanity", "--root", root, "--trust-root", k.RootFile)
		if strings.Contains(out, "capture ") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "capture      UP    capture: 1 interfaces") {
		t.Fatalf("sanity lacks the capture line: %s\n%s", out, d.log)
	}
}

// TestSSHCommandWrapper runs the OpenSSH ForceCommand wrapper as sshd would:
// SSH_ORIGINAL_COMMAND in the environment, stdin/stdout as the channel.
func TestSSHCommandWrapper(t *testing.T) {
	k := testkit.New(t, time.Now().UTC(), "")
	root := t.TempDir()
	wrap := []string{"serve", "--ssh-command", "--root", root, "--trust-root", k.RootFile}
	out, code := cli(t, []string{"SSH_ORIGINAL_COMMAND=sensorcore status --json"}, wrap...)
	if code != 0 || !strings.Contains(out, `"generation":0`) {
		t.Fatalf("status: %d %s", code, out)
	}
	for cmd, want := range map[string]string{
		"sh -c id":                            "not allowed",
		"sensorcore serve":                    "not allowed",
		"sensorcore apply --root / x":         "--root is not allowed",
		"sensorcore apply --json /etc/passwd": "outside the incoming directory",
		"":                                    "no command",
	} {
		out, code := cli(t, []string{"SSH_ORIGINAL_COMMAND=" + cmd}, wrap...)
		if code == 0 || !strings.Contains(out, want) {
			t.Errorf("%q: exit %d %s", cmd, code, out)
		}
	}
	// The sftp subsystem: served confined to the incoming directory.
	cmd := execCommand(wrap, "SSH_ORIGINAL_COMMAND=internal-sftp")
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc, err := sftp.NewClientPipe(outp, in)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sc.Create("/x.tapbundle")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("data"))
	w.Close()
	// "/" is the incoming directory: ../.. clamps to it.
	if w, err := sc.Create("../../escape"); err == nil {
		w.Close()
	}
	sc.Close()
	cmd.Wait()
	if b, err := os.ReadFile(filepath.Join(daemon.Layout{Root: root}.Incoming(), "x.tapbundle")); err != nil || string(b) != "data" {
		t.Fatalf("upload: %q %v", b, err)
	}
	for _, p := range []string{"var/lib/escape", "var/lib/sensorcore/escape", "escape"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Fatalf("wrote %s outside the incoming directory", p)
		}
	}
}

// TestApplyIPRouteInNetns runs apply with the iproute backend inside a
// network namespace and a UTS namespace of its own, as the fleet tests do,
// and network validate after: the address, the route and the host name.
func TestApplyIPRouteInNetns(t *testing.T) {
	needs.Root(t, "creates a network namespace")
	needs.Tool(t, "ip", "iproute2")
	ns := fmt.Sprintf("tlapply%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer")
	ip("-n", ns, "link", "set", "eth0peer", "up")
	// The host name lives in a UTS namespace kept by a bind mount, so each
	// command below sees what the one before it set, and the host's own
	// name is never touched.
	hostBefore, _ := os.Hostname()
	uts := filepath.Join(t.TempDir(), "uts")
	if err := os.WriteFile(uts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--uts="+uts, "hostname", "factory-name").CombinedOutput(); err != nil {
		needs.Missing(t, "this test needs util-linux's unshare with --uts=FILE: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", uts).Run() })
	liveName := func() string {
		out, err := exec.Command("nsenter", "--uts="+uts, "hostname").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	k := testkit.New(t, time.Now().UTC(), "")
	b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "198.18.7.10", Gateway: "198.18.7.1"})
	root := t.TempDir()
	run := func(args ...string) (string, int) {
		cmd := exec.Command("nsenter", append([]string{"--uts=" + uts, "ip", "netns", "exec", ns, binary}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		return string(out), 0
	}
	base := []string{"--root", root, "--trust-root", k.RootFile, "--network-backend", "iproute"}
	if out, code := run(append([]string{"apply", "--json", b.Archive}, base...)...); code != 0 || !strings.Contains(out, `"ok":true`) {
		t.Fatalf("apply in netns: %d %s", code, out)
	}
	out, code := run(append([]string{"network", "validate"}, base...)...)
	if code != 0 || !strings.Contains(out, "Success! (Appliance configuration matches the network settings)") {
		t.Fatalf("network validate: %d %s", code, out)
	}
	if out, _ := exec.Command("ip", "-n", ns, "-4", "addr", "show", "dev", "eth0").CombinedOutput(); !strings.Contains(string(out), "198.18.7.10/24") {
		t.Fatalf("interface: %s", out)
	}
	if h := liveName(); h != "sensor-01.plant.example" {
		t.Fatalf("host name after apply: %q", h)
	}
	// A host name changed behind the daemon's back is reported.
	exec.Command("nsenter", "--uts="+uts, "hostname", "someone-else").Run()
	if out, code := run(append([]string{"network", "validate"}, base...)...); code == 0 || !strings.Contains(out, `host name is "someone-else", configured sensor-01.plant.example`) {
		t.Fatalf("network validate with another host name: %d %s", code, out)
	}
	exec.Command("nsenter", "--uts="+uts, "hostname", "sensor-01.plant.example").Run()
	// A generation whose interface does not exist: the backend fails and
	// apply restores generation 1, network included.
	bad := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "198.18.8.10", Gateway: "198.18.8.1", Interface: "nosuch0"})
	out, code = run(append([]string{"apply", "--json", bad.Archive}, base...)...)
	if code != 1 || !strings.Contains(out, "network settings could not be applied") || !strings.Contains(out, "generation 1 restored") {
		t.Fatalf("apply with a missing interface: %d %s", code, out)
	}
	out, _ = run(append([]string{"status", "--json"}, base...)...)
	if !strings.Contains(out, `"generation":1`) || !strings.Contains(out, "network backend failed") {
		t.Fatalf("status after the failed network: %s", out)
	}
	if out, code := run(append([]string{"network", "validate"}, base...)...); code != 0 {
		t.Fatalf("network validate after the restore: %s", out)
	}
	// A new host name (with a certificate for it), then a rollback on
	// demand: the host name goes back with the generation.
	b3 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Hostname: "sensor-01b.plant.example", Address: "198.18.7.10", Gateway: "198.18.7.1"})
	if out, code := run(append([]string{"apply", "--json", b3.Archive}, base...)...); code != 0 || !strings.Contains(out, `"ok":true`) {
		t.Fatalf("apply with a new host name: %d %s", code, out)
	}
	if h := liveName(); h != "sensor-01b.plant.example" {
		t.Fatalf("host name after the second apply: %q", h)
	}
	if out, code := run(append([]string{"rollback", "--json"}, base...)...); code != 0 {
		t.Fatalf("rollback: %d %s", code, out)
	}
	if h := liveName(); h != "sensor-01.plant.example" {
		t.Fatalf("host name after the rollback: %q", h)
	}
	if h, _ := os.Hostname(); h != hostBefore {
		t.Fatalf("the host's own name changed from %q to %q", hostBefore, h)
	}
	// Outside the namespace the check fails: nothing leaked to the host.
	if out, code := cli(t, nil, append([]string{"network", "validate"}, base...)...); code == 0 {
		t.Fatalf("validate on the host passed: %s", out)
	}
}

// TestApplyText: what an engineer at the appliance's shell reads: the
// activation summary after an apply, and for a refused bundle the code,
// the message and the fix, exit 1; usage mistakes exit 2.
func TestApplyText(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	root := t.TempDir()
	base := []string{"--root", root, "--trust-root", k.RootFile}
	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"})
	out, code := cli(t, nil, append([]string{"apply", b1.Archive}, base...)...)
	if code != 0 || !strings.Contains(out, "applied generation 1 (previous 0)") || !strings.Contains(out, b1.Fingerprint) ||
		!strings.Contains(out, "no sensorcore daemon is running: the console serves generation 1 when sensorcore serve starts") ||
		!strings.Contains(out, "activated as sensor-01 (id ID-sensor-01), locally-managed, Plant A/Z1, plan OT-500, 500 devices, expires") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	bad := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"})
	f, _ := os.OpenFile(filepath.Join(bad.Dir, "settings.json"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(" ")
	f.Close()
	out, code = cli(t, nil, append([]string{"apply", bad.Dir}, base...)...)
	if code != 1 || !strings.Contains(out, "TL-BUN-003 error") || !strings.Contains(out, "changed after the bundle was made") || !strings.Contains(out, "fix: ") {
		t.Fatalf("altered bundle: exit %d\n%s", code, out)
	}
	if out, _ := cli(t, nil, append([]string{"status"}, base...)...); !strings.Contains(out, "certificate:   CN=") {
		t.Fatalf("status text: %s", out)
	}
	if out, code = cli(t, nil, append([]string{"apply"}, base...)...); code != 2 || !strings.Contains(out, "usage") {
		t.Fatalf("no bundle: exit %d\n%s", code, out)
	}
	if out, code = cli(t, nil, "apply", "--no-such-flag", "x"); code != 2 {
		t.Fatalf("bad flag: exit %d\n%s", code, out)
	}
}
