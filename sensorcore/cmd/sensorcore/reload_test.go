package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// TestApplyReturnsAfterConsoleReload: the daemon's tick is an hour, so only
// apply's own reload request can switch the console. Apply over the
// embedded SSH listener (same process), through the OpenSSH ForceCommand
// wrapper and from the CLI (other processes) each return only once the
// console serves the new certificate; with no daemon the result says so.
func TestApplyReturnsAfterConsoleReload(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	root := t.TempDir()
	c := newSSHClient(t, root)
	d := startServe(t, root, k.RootFile, "--tick", "1h")
	cl := c.dial(t, root, d.run.SSH)
	defer cl.Close()
	incoming := daemon.Layout{Root: root}.Incoming()

	// 1. Embedded listener.
	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	var res daemon.ApplyResult
	if code := remote(t, cl, "sensorcore apply --json "+upload(t, cl, b1.Archive), &res); code != 0 || !res.OK {
		t.Fatalf("apply over ssh: exit %d %+v\n%s", code, res, d.log)
	}
	if got := servedFingerprint(t, d.run.Console); !res.ConsoleReloaded || got != b1.Fingerprint {
		t.Fatalf("embedded: apply returned with the console serving %s (want %s), result %+v", got, b1.Fingerprint, res)
	}

	// 2. ForceCommand wrapper: another process signals the daemon.
	b2 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	name := filepath.Base(b2.Archive)
	copyFile(t, b2.Archive, filepath.Join(incoming, name), 0o600)
	out, code := cli(t, []string{"SSH_ORIGINAL_COMMAND=sensorcore apply --json " + name},
		"serve", "--ssh-command", "--root", root, "--trust-root", k.RootFile)
	res = daemon.ApplyResult{}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || !res.OK {
		t.Fatalf("apply through the wrapper: exit %d %s", code, out)
	}
	if got := servedFingerprint(t, d.run.Console); !res.ConsoleReloaded || got != b2.Fingerprint {
		t.Fatalf("wrapper: apply returned with the console serving %s (want %s), result %+v", got, b2.Fingerprint, res)
	}

	// 3. No daemon: applied, and the result says the console is not running.
	d.stop(t)
	b3 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	out, code = cli(t, nil, "apply", "--json", "--root", root, "--trust-root", k.RootFile, b3.Archive)
	res = daemon.ApplyResult{}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || !res.OK || res.ConsoleReloaded ||
		!strings.Contains(res.ConsoleNote, "no sensorcore daemon is running") {
		t.Fatalf("apply without a daemon: exit %d %s", code, out)
	}
}
