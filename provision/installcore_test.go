package provision_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/releasetest"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// TestPushInstallCore: push --install-core against a real `sensorcore
// serve` running an older build, behind its embedded listener and behind
// the real OpenSSH ForceCommand wrapper: the carried binary is uploaded,
// verified (release signature, hash) and installed beside the old one (kept as .prev), the
// daemon restarts into it, preflight then sees the new version and the push
// completes. A second push finds nothing to install.
func TestPushInstallCore(t *testing.T) {
	t.Parallel()
	old := needSensorcore(t)
	newer, err := fleettest.BuildSensorcoreVersion(t.TempDir(), "99.1.0")
	if err != nil {
		t.Fatal(err)
	}
	rel := releasetest.New(t)
	rel.SignFile(t, newer, "99.1.0", releasetest.Options{})
	core, err := provision.LoadCore(newer, provision.CoreOptions{Roots: rel.Roots()})
	if err != nil || core.Version != "99.1.0" || core.SHA256 != releasetest.FileSHA256(t, newer) || core.Signature != newer+".sig" {
		t.Fatalf("LoadCore: %v %+v", err, core)
	}
	for _, mode := range []string{"embedded", "openssh"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			kit := fleettest.New(t, time.Now().UTC()) // one each: parallel subtests must not share sensor files
			if mode == "openssh" {
				sshdtest.Require(t)
			}
			bin := filepath.Join(t.TempDir(), "sensorcore") // the appliance's installed binary
			raw, _ := os.ReadFile(old)
			os.WriteFile(bin, raw, 0o755)
			oldSum := releasetest.FileSHA256(t, bin)
			root := t.TempDir()
			console := sshdtest.FreePort(t)
			o := fleettest.ApplianceOptions{Root: root, TrustRoot: kit.RootPub, ReleaseRoot: rel.RootFile, ConsoleListen: fmt.Sprintf("127.0.0.1:%d", console),
				Hostname: "sensor-01.plant.example"}
			keyFile, pub := clientKey(t)
			kh := filepath.Join(t.TempDir(), "known_hosts")
			var addr string
			user := "provision"
			if mode == "embedded" {
				o.SSHListen, o.AuthorizedKey = fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t)), pub
				app := fleettest.StartAppliance(t, bin, o)
				addr = o.SSHListen
				os.WriteFile(kh, []byte(app.KnownHostsLine(addr)), 0o600)
				t.Cleanup(func() {
					if t.Failed() {
						t.Log(app.Log.String())
					}
				})
			} else {
				app := fleettest.StartAppliance(t, bin, o)
				s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"},
					Extra: fmt.Sprintf("Match User %s\n  ForceCommand %s ssh-command --root %s --trust-root %s --release-root %s\n  AllowTcpForwarding no\n  X11Forwarding no\n  PermitTTY no\n",
						"root", bin, root, kit.RootPub, rel.RootFile)})
				addr, user, keyFile = s.Addr, s.User, s.ClientKey
				os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
				t.Cleanup(func() {
					if t.Failed() {
						t.Log(app.Log.String(), s.Logs())
					}
				})
			}
			f := kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
			p := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}}
			host, port := splitAddr(t, addr)
			pr, err := p.Prepare(context.Background(), provision.Row{Line: 2, Sensor: "sensor-01", Address: host, SSHPort: port, User: user,
				Auth: provision.AuthKey, KeyFile: keyFile, Interface: "eth0", NewIP: "198.18.0.10", NewAddress: host, NewMask: "24",
				NewHostname: "sensor-01.plant.example", Activation: f.Activation, Cert: f.Cert, Key: f.Key, Chain: kit.ChainPEM, ConsolePort: console})
			if err != nil {
				t.Fatal(err)
			}
			opts := provision.Options{Trust: &sshconn.KnownHosts{File: kh}, VerifyTimeout: 20 * time.Second, RetryEvery: 200 * time.Millisecond,
				InstallCore: &core, MinCoreVersion: "99.1.0"}
			res := provision.Push(context.Background(), pr.Target, pr.Bundle, opts)
			if res.Outcome != provision.OutcomeDone || res.Generation != 1 {
				t.Fatalf("push --install-core: %+v", res)
			}
			steps := map[provision.Step]bool{}
			for _, s := range res.Steps {
				steps[s.Step] = s.OK
			}
			if !steps[provision.StepInstallCore] {
				t.Fatalf("no install-core step: %+v", res.Steps)
			}
			if releasetest.FileSHA256(t, bin) != core.SHA256 || releasetest.FileSHA256(t, bin+".prev") != oldSum {
				t.Fatal("the appliance's binary was not replaced, or the previous one not kept as .prev")
			}
			// Up to date now: nothing uploaded, the push still completes.
			var msgs []string
			opts.Events = func(e provision.Event) {
				if e.Step == provision.StepInstallCore && e.Message != "" {
					msgs = append(msgs, e.Message)
				}
			}
			res = provision.Push(context.Background(), pr.Target, pr.Bundle, opts)
			if res.Outcome != provision.OutcomeDone || len(msgs) == 0 || msgs[len(msgs)-1] != "sensorcore 99.1.0 on the sensor, 99.1.0 carried: nothing to install" {
				t.Fatalf("second push: %+v %q", res, msgs)
			}
		})
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}
