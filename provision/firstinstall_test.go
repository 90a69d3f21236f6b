package provision_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/releasetest"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// firstInstallCore is what both first-install tests need: sshd, and the
// sensorcore release Tapline carries, signed by a lab release authority.
func firstInstallCore(t *testing.T) (context.Context, provision.Core, *releasetest.Authority) {
	t.Helper()
	sshdtest.Require(t)
	bin := filepath.Join(t.TempDir(), "sensorcore")
	raw, err := os.ReadFile(needSensorcore(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, raw, 0o755)
	rel := releasetest.New(t)
	rel.SignFile(t, bin, "0.1.0-dev", releasetest.Options{})
	core, err := provision.LoadCore(bin, provision.CoreOptions{Roots: rel.Roots()})
	if err != nil {
		t.Fatal(err)
	}
	return context.Background(), core, rel
}

// TestPushFirstInstall: a sensor with no sensorcore at all, reached over
// real OpenSSH as root with a shell. push --install-core uploads the
// carried binary into a private directory beside its target, where it
// installs itself (checksum, machine and version checked) and writes the
// systemd unit. The sensor's root is not / here, so nothing starts the
// daemon: the push stops and says how to start it. Started that way, the
// next push over the same account completes, verified on the console.
func TestPushFirstInstall(t *testing.T) {
	t.Parallel()
	ctx, core, rel := firstInstallCore(t)
	kit := fleettest.New(t, time.Now().UTC())
	root := t.TempDir()
	// The appliance image trusts the test activation and release roots
	// (config.json).
	etc := filepath.Join(root, "etc", "sensorcore")
	os.MkdirAll(etc, 0o700)
	pub, _ := os.ReadFile(kit.RootPub)
	os.WriteFile(filepath.Join(etc, "activation-root.pub"), pub, 0o600)
	rpub, _ := os.ReadFile(rel.RootFile)
	os.WriteFile(filepath.Join(etc, "release-root.pub"), rpub, 0o600)
	os.WriteFile(filepath.Join(etc, "config.json"), []byte(`{"activation_trust_roots": ["activation-root.pub"], "release_trust_roots": ["release-root.pub"]}`), 0o600)
	target := filepath.Join(t.TempDir(), "bin", "sensorcore")
	os.MkdirAll(filepath.Dir(target), 0o755)

	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}, Extra: "SetEnv SENSORCORE_ROOT=" + root + "\n"})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
	console := sshdtest.FreePort(t)
	f := kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	p := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}}
	pr, err := p.Prepare(ctx, provision.Row{Line: 2, Sensor: "sensor-01", Address: "127.0.0.1", SSHPort: s.Port, User: s.User,
		Auth: provision.AuthKey, KeyFile: s.ClientKey, Interface: "eth0", NewIP: "198.18.0.10", NewAddress: "127.0.0.1", NewMask: "24",
		NewHostname: "sensor-01.plant.example", Activation: f.Activation, Cert: f.Cert, Key: f.Key, Chain: kit.ChainPEM, ConsolePort: console})
	if err != nil {
		t.Fatal(err)
	}
	opts := provision.Options{Trust: &sshconn.KnownHosts{File: kh}, VerifyTimeout: 20 * time.Second, RetryEvery: 200 * time.Millisecond,
		InstallCore: &core, Core: target}
	res := provision.Push(ctx, pr.Target, pr.Bundle, opts)
	want := fmt.Sprintf("installed sensorcore %s at %s, but its daemon is not running: the root is %s, not /: the unit was written there and nothing was started; start the daemon with: %s serve --root %s; then push again",
		core.Version, target, root, target, root)
	if res.Outcome == provision.OutcomeDone || res.Code != provision.CodePreflight || !strings.Contains(res.Error, want) {
		t.Fatalf("first push: %+v\nwant error %q\n%s", res, want, s.Logs())
	}
	if releasetest.FileSHA256(t, target) != core.SHA256 {
		t.Fatal("the carried binary was not installed at its target")
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed binary: %v %v", fi, err)
	}
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/sensorcore.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart="+target+" serve --console-listen :443 --root "+root+"\n") {
		t.Fatalf("unit: %v\n%s", err, unit)
	}
	if fi, err := os.Stat(filepath.Join(root, "var/lib/sensorcore/incoming")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("incoming directory: %v %v", fi, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(target), ".tapline-core-*"))
	if len(left) != 0 {
		t.Fatalf("upload directory left behind: %v", left)
	}

	// The engineer starts the daemon as the push said; the next push
	// finds sensorcore up to date and completes.
	app := fleettest.StartAppliance(t, target, fleettest.ApplianceOptions{Root: root, TrustRoot: kit.RootPub,
		ConsoleListen: fmt.Sprintf("127.0.0.1:%d", console), Hostname: "sensor-01.plant.example"})
	opts.IncomingDir = filepath.Join(root, "var/lib/sensorcore/incoming") // a root shell account's plain SFTP
	res = provision.Push(ctx, pr.Target, pr.Bundle, opts)
	if res.Outcome != provision.OutcomeDone || res.Generation != 1 || res.ServedFingerprint != pr.Bundle.CertFingerprint {
		t.Fatalf("push after the first install: %+v\n%s", res, app.Log.String())
	}
}

// TestPushFirstInstallNeedsRootShell: where sensorcore is missing behind an
// account that has no shell (ForceCommand to a binary that is not there),
// the push says what a first install needs and writes nothing.
func TestPushFirstInstallNeedsRootShell(t *testing.T) {
	t.Parallel()
	ctx, core, _ := firstInstallCore(t)
	missing := filepath.Join(t.TempDir(), "sensorcore")
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}, Extra: "Match User root\n  ForceCommand " + missing + " ssh-command\n"})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
	kit := fleettest.New(t, time.Now().UTC())
	f := kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	p := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}}
	pr, err := p.Prepare(ctx, provision.Row{Line: 2, Sensor: "sensor-01", Address: "127.0.0.1", SSHPort: s.Port, User: s.User,
		Auth: provision.AuthKey, KeyFile: s.ClientKey, Interface: "eth0", NewIP: "198.18.0.10", NewAddress: "127.0.0.1", NewMask: "24",
		NewHostname: "sensor-01.plant.example", Activation: f.Activation, Cert: f.Cert, Key: f.Key, Chain: kit.ChainPEM})
	if err != nil {
		t.Fatal(err)
	}
	res := provision.Push(ctx, pr.Target, pr.Bundle, provision.Options{Trust: &sshconn.KnownHosts{File: kh}, InstallCore: &core})
	if res.Code != provision.CodePreflight || !strings.Contains(res.Error, "a first install needs an account that signs in as root with a shell") {
		t.Fatalf("push: %+v", res)
	}
	if left, _ := filepath.Glob("/usr/local/bin/.tapline-core-*"); len(left) != 0 {
		t.Fatalf("something was uploaded: %v", left)
	}
}
