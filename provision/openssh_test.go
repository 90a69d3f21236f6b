package provision_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// openSSHSensor runs sensorcore (sensor-01.plant.example) behind Debian's
// real OpenSSH sshd with host keys of hostKeys, the account restricted by
// ForceCommand to sensorcore's wrapper; it returns the sshd, the sensor's
// root, its console port and a known_hosts file trusting the sshd.
func openSSHSensor(t *testing.T, bin string, kit *fleettest.Kit, hostKeys ...string) (*sshdtest.Server, string, int, string) {
	t.Helper()
	root := t.TempDir()
	console := sshdtest.FreePort(t)
	fleettest.StartAppliance(t, bin, fleettest.ApplianceOptions{Root: root, TrustRoot: kit.RootPub,
		ConsoleListen: fmt.Sprintf("127.0.0.1:%d", console), Hostname: "sensor-01.plant.example"})
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: hostKeys,
		Extra: fmt.Sprintf("Match User %s\n  ForceCommand %s serve --ssh-command --root %s --trust-root %s\n  AllowTcpForwarding no\n  X11Forwarding no\n  PermitTTY no\n",
			"root", bin, root, kit.RootPub)})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
	return s, root, console, kh
}

// The engine pushes to sensorcore behind Debian's real OpenSSH sshd, the
// provisioning account restricted by ForceCommand to sensorcore's wrapper
// (sensorcore serve --ssh-command: the allowed commands only, SFTP confined
// to the incoming directory), as the appliance issue describes it.
func TestPushThroughOpenSSHForceCommand(t *testing.T) {
	t.Parallel()
	bin := needSensorcore(t)
	sshdtest.Require(t)
	scp := needs.Tool(t, "scp", "openssh-client") // uploads beside the engine
	kit := fleettest.New(t, time.Now().UTC())
	s, root, console, kh := openSSHSensor(t, bin, kit, "ed25519", "rsa")

	f := kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	p := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}}
	pr, err := p.Prepare(context.Background(), provision.Row{Line: 2, Sensor: "sensor-01", Address: "127.0.0.1", SSHPort: s.Port, User: s.User,
		Auth: provision.AuthKey, KeyFile: s.ClientKey, Interface: "eth0", NewIP: "198.18.0.10", NewAddress: "127.0.0.1", NewMask: "24",
		NewHostname: "sensor-01.plant.example", Activation: f.Activation, Cert: f.Cert, Key: f.Key, Chain: kit.ChainPEM, ConsolePort: console})
	if err != nil {
		t.Fatal(err)
	}
	res := provision.Push(context.Background(), pr.Target, pr.Bundle, provision.Options{Trust: &sshconn.KnownHosts{File: kh}, VerifyTimeout: 10 * time.Second})
	if res.Outcome != provision.OutcomeDone || res.ServedFingerprint != pr.Bundle.CertFingerprint || !res.Activated || res.Generation != 1 {
		t.Fatalf("push through OpenSSH: %+v\n%s", res, s.Logs())
	}
	if res.Uploaded == nil || !res.Uploaded.ReadBack {
		t.Fatalf("upload through the wrapper's SFTP: %+v", res.Uploaded)
	}
	// OpenSSH's scp (SFTP mode) uploads through the wrapper's SFTP server
	// into the incoming directory (its size setstat accepted; the channel
	// reports an exit status).
	{
		local := filepath.Join(t.TempDir(), "by-scp.tapbundle")
		os.WriteFile(local, pr.Bundle.Archive, 0o600)
		out, err := exec.Command(scp, "-q", "-i", s.ClientKey, "-o", "UserKnownHostsFile="+kh, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
			"-P", fmt.Sprint(s.Port), local, s.User+"@127.0.0.1:/by-scp.tapbundle").CombinedOutput()
		if err != nil {
			t.Fatalf("scp through the ForceCommand wrapper: %v %s\n%s", err, out, s.Logs())
		}
		want := pr.Bundle.Archive
		if got, _ := os.ReadFile(filepath.Join(root, "var/lib/sensorcore/incoming/by-scp.tapbundle")); !bytes.Equal(got, want) {
			t.Fatalf("scp'd bundle in incoming: %d bytes, want %d", len(got), len(want))
		}
	}
	// The account runs nothing else.
	c, err := sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: s.ClientKey}},
		&sshconn.KnownHosts{File: kh}, sshconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, _ := c.NewSession()
	out, err := sess.CombinedOutput("id")
	sess.Close()
	if err == nil {
		t.Fatalf("ForceCommand let 'id' run: %s", out)
	}
}
