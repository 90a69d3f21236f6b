package provision_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/faultproxy"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// sensorcoreBin is built once, when a test first needs it, from this module
// (so fuzzing and the offline tests do not pay for the build).
var (
	buildOnce     sync.Once
	sensorcoreBin string
	sensorcoreErr error
	buildDir      string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func needSensorcore(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("sensorcore, the appliance, runs on Linux only: this test pushes to real sensors")
	}
	buildOnce.Do(func() {
		if buildDir, sensorcoreErr = os.MkdirTemp("", "provision-test-"); sensorcoreErr == nil {
			sensorcoreBin, sensorcoreErr = fleettest.BuildSensorcore(buildDir)
		}
	})
	if sensorcoreErr != nil {
		t.Fatalf("building sensorcore: %v", sensorcoreErr)
	}
	return sensorcoreBin
}

// clientKey writes an unencrypted ed25519 OpenSSH key for the laptop.
func clientKey(t testing.TB) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "tapline-test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return p, s.PublicKey()
}

// lab is one loopback appliance and what pushing to it needs.
type lab struct {
	kit     *fleettest.Kit
	app     *fleettest.Appliance
	key     string
	sshAddr string
	console int
	kh      string
	work    string
}

func newLab(t *testing.T, sensor string) *lab {
	bin := needSensorcore(t)
	l := &lab{kit: fleettest.New(t, time.Now().UTC()), work: t.TempDir()}
	var pub ssh.PublicKey
	l.key, pub = clientKey(t)
	l.sshAddr = fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t))
	l.console = sshdtest.FreePort(t)
	l.app = fleettest.StartAppliance(t, bin, fleettest.ApplianceOptions{TrustRoot: l.kit.RootPub, SSHListen: l.sshAddr,
		ConsoleListen: fmt.Sprintf("127.0.0.1:%d", l.console), Hostname: sensor + ".plant.example", AuthorizedKey: pub})
	l.kh = filepath.Join(t.TempDir(), "known_hosts")
	return l
}

// row is the inventory row of sensor (its files f) on the lab: over
// SSH with the lab's key to the address the appliance listens on, the
// bundle's address newIP on eth0, the chain and console port; tests set
// the rest.
func (l *lab) row(sensor, newIP string, f fleettest.Files) provision.Row {
	return provision.Row{Line: 2, Sensor: sensor, Address: "127.0.0.1", User: "provision", Auth: provision.AuthKey,
		KeyFile: l.key, Interface: "eth0", NewIP: newIP, NewMask: "24", NewHostname: sensor + ".plant.example",
		Activation: f.Activation, Cert: f.Cert, Key: f.Key, Chain: l.kit.ChainPEM, ConsolePort: l.console}
}

// rowAt is row with the lab's SSH port and the address after the push
// (the same loopback address) filled in, for a Session's push.
func (l *lab) rowAt(t *testing.T, sensor, newIP string, f fleettest.Files) provision.Row {
	t.Helper()
	host, port, _ := net.SplitHostPort(l.sshAddr)
	r := l.row(sensor, newIP, f)
	r.Address, r.NewAddress = host, host
	r.SSHPort, _ = strconv.Atoi(port)
	return r
}

// session is a Session trusting the lab's sensors on first sight, with
// the lab's activation root and short retries.
func (l *lab) session(t *testing.T) *provision.Session {
	return &provision.Session{KnownHosts: l.kh, AcceptNew: func(*sshconn.UnknownHostError) bool { return true },
		Check:       provision.CheckOptions{ActivationRoots: mustRoots(t, l.kit.RootPub)},
		PushOptions: provision.Options{VerifyTimeout: 10 * time.Second, RetryEvery: 100 * time.Millisecond}}
}

// prepared builds a real bundle for sensor at newIP (the address inside
// the bundle's settings; the appliance runs the "none" backend).
func (l *lab) prepared(t *testing.T, sensor, newIP string) provision.Prepared {
	t.Helper()
	f := l.kit.Sensor(t, sensor, sensor+".plant.example", newIP)
	row := l.row(sensor, newIP, f)
	p := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, l.kit.RootPub)}, Now: func() time.Time { return time.Now().Add(time.Duration(len(newIP)) * time.Second) }}
	pr, err := p.Prepare(context.Background(), row)
	if err != nil {
		t.Fatal(err)
	}
	pr.Target.Addr = l.sshAddr
	pr.Target.NewAddr = ""
	return pr
}

func (l *lab) options(accept bool, events func(provision.Event)) provision.Options {
	kh := &sshconn.KnownHosts{File: l.kh}
	if accept {
		kh.Accept = func(*sshconn.UnknownHostError) bool { return true }
	}
	return provision.Options{Trust: kh, ConfirmTimeout: 3 * time.Second, RollbackGrace: 500 * time.Millisecond,
		RetryEvery: 100 * time.Millisecond, VerifyTimeout: 10 * time.Second, SSH: sshconn.Options{Timeout: 3 * time.Second}, Events: events}
}

func status(t *testing.T, l *lab) provision.Status {
	t.Helper()
	c, err := sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: l.sshAddr, User: "provision", Auth: sshconn.Auth{KeyFile: l.key}},
		sshconn.Pinned{Key: l.app.HostKey}, sshconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, _ := c.NewSession()
	defer sess.Close()
	out, err := sess.Output("sensorcore status --json")
	if err != nil {
		t.Fatalf("status: %v %s", err, out)
	}
	var st provision.Status
	if err := jsonUnmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// One sensor through every step against the real appliance: unknown host
// refused, accepted with the fingerprint, first setup, a move to a new
// address confirmed there, and a move to an unreachable address that the
// sensor rolls back by itself.
func TestPushToSensorcore(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	ctx := context.Background()

	p1 := l.prepared(t, "sensor-01", "198.18.0.10")
	res := provision.Push(ctx, p1.Target, p1.Bundle, l.options(false, nil))
	if res.Outcome != provision.OutcomeRefused || res.Step != provision.StepTrust || !strings.Contains(res.Error, ssh.FingerprintSHA256(l.app.HostKey)) {
		t.Fatalf("unknown host: %+v", res)
	}
	var mu sync.Mutex
	var steps []provision.Step
	res = provision.Push(ctx, p1.Target, p1.Bundle, l.options(true, func(e provision.Event) {
		mu.Lock()
		if len(steps) == 0 || steps[len(steps)-1] != e.Step {
			steps = append(steps, e.Step)
		}
		mu.Unlock()
	}))
	if res.Outcome != provision.OutcomeDone || res.ServedFingerprint != p1.Bundle.CertFingerprint || !res.Activated || res.Generation != 1 {
		t.Fatalf("first setup: %+v\n%s", res, l.app.Log.String())
	}
	mu.Lock()
	if got := fmt.Sprint(steps); got != "[connect trust preflight upload apply verify]" {
		t.Fatalf("steps %s", got)
	}
	mu.Unlock()

	// Move: old address through proxy A, new address through proxy B.
	a, _ := faultproxy.New(l.sshAddr)
	defer a.Close()
	b, _ := faultproxy.New(l.sshAddr)
	defer b.Close()
	os.WriteFile(l.kh, []byte(l.app.KnownHostsLine(a.Addr)), 0o600)
	p2 := l.prepared(t, "sensor-01", "198.18.0.11")
	p2.Target.Addr, p2.Target.NewAddr = a.Addr, b.Addr
	o := l.options(false, func(e provision.Event) {
		if e.Step == provision.StepApply && e.Percent == 100 {
			a.Refuse(true) // the sensor has left its old address
			a.CutNow()
		}
	})
	res = provision.Push(ctx, p2.Target, p2.Bundle, o)
	if res.Outcome != provision.OutcomeDone || res.FinalAddr != b.Addr || res.Generation != 2 || res.ServedFingerprint != p2.Bundle.CertFingerprint {
		t.Fatalf("move: %+v", res)
	}
	if st := status(t, l); st.PendingConfirmation || st.Generation != 2 {
		t.Fatalf("after move: %+v", st)
	}

	// Move to an address the laptop cannot reach: the sensor rolls back.
	a.Refuse(false)
	b.Refuse(true)
	p3 := l.prepared(t, "sensor-01", "198.18.0.12")
	p3.Target.Addr, p3.Target.NewAddr = a.Addr, b.Addr
	start := time.Now()
	res = provision.Push(ctx, p3.Target, p3.Bundle, l.options(false, nil))
	if res.Outcome != provision.OutcomeRolledBack || res.Generation != 2 || res.RollbackReason == "" || res.Transient {
		t.Fatalf("unreachable move: %+v\n%s", res, l.app.Log.String())
	}
	if time.Since(start) < 3*time.Second {
		t.Fatalf("reported rolled back before the deadline")
	}
	if st := status(t, l); st.Generation != 2 || st.PendingConfirmation || st.Certificate.FingerprintSHA256 != p2.Bundle.CertFingerprint {
		t.Fatalf("after rollback: %+v", st)
	}
	// A bundle for another sensor is refused at preflight, nothing written.
	p4 := l.prepared(t, "sensor-02", "198.18.0.10")
	p4.Target.Sensor = "sensor-02"
	res = provision.Push(ctx, p4.Target, p4.Bundle, l.options(true, nil))
	if res.Outcome != provision.OutcomeRefused || res.Step != provision.StepPreflight || res.Uploaded != nil {
		t.Fatalf("wrong sensor: %+v", res)
	}
}
