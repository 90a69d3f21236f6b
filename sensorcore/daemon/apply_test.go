package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/netconf"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newEngine(t *testing.T, k *testkit.Kit, clk *fakeClock) *Engine {
	t.Helper()
	root := t.TempDir()
	e, err := NewEngine(Options{Root: root, TrustRoots: []string{k.RootFile}, Backend: "networkd", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.Layout.Incoming(), 0o700); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestApplyConfirmRollbackDeadline(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()
	b1 := k.Bundle(t, e.Layout.Incoming(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	res, err := e.Apply(ctx, ApplyOptions{Path: filepath.Base(b1.Archive)})
	if err != nil {
		t.Fatalf("apply 1: %v %+v", err, res.Findings)
	}
	if !res.OK || res.Generation != 1 || res.ConfirmationPending || res.Fingerprint != b1.Fingerprint {
		t.Fatalf("apply 1 result %+v", res)
	}
	nd, _ := os.ReadFile(filepath.Join(e.Layout.Root, "etc/systemd/network/10-sensorcore.network"))
	if !strings.Contains(string(nd), "Address=192.0.2.10/24") {
		t.Fatalf("networkd file: %s", nd)
	}
	// Generation 2 moves the address: the deadline is armed.
	b2 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.11"})
	res, err = e.Apply(ctx, ApplyOptions{Path: b2.Dir, ConfirmTimeout: 30 * time.Second})
	if err != nil || !res.ConfirmationPending || res.RollbackDeadline == nil || !res.NetworkChanged || res.PreviousGeneration != 1 {
		t.Fatalf("apply 2: %v %+v", err, res)
	}
	st, _ := e.Status("test")
	if !st.PendingConfirmation || st.Generation != 2 || st.Certificate.FingerprintSHA256 != b2.Fingerprint {
		t.Fatalf("status after apply 2: %+v", st)
	}
	// Before the deadline nothing happens; after it, generation 1 is back.
	clk.t = now.Add(29 * time.Second)
	if changed, err := e.Tick(ctx); err != nil || changed {
		t.Fatalf("tick before deadline: %v %v", changed, err)
	}
	clk.t = now.Add(31 * time.Second)
	if changed, err := e.Tick(ctx); err != nil || !changed {
		t.Fatalf("tick after deadline: %v %v", changed, err)
	}
	st, _ = e.Status("test")
	if st.Generation != 1 || st.PendingConfirmation || st.Certificate.FingerprintSHA256 != b1.Fingerprint ||
		!strings.Contains(st.LastRollbackReason, "not confirmed before its rollback deadline") || st.Network.Address != "192.0.2.10" {
		t.Fatalf("status after deadline: %+v", st)
	}
	nd, _ = os.ReadFile(filepath.Join(e.Layout.Root, "etc/systemd/network/10-sensorcore.network"))
	if !strings.Contains(string(nd), "Address=192.0.2.10/24") {
		t.Fatalf("network not restored: %s", nd)
	}
	// Generation 3 (address change again), confirmed: the deadline no longer applies.
	res, err = e.Apply(ctx, ApplyOptions{Path: b2.Dir, ConfirmTimeout: 5 * time.Second})
	if err != nil || res.Generation != 3 || !res.ConfirmationPending {
		t.Fatalf("apply 3: %v %+v", err, res)
	}
	if r, err := e.Confirm(); err != nil || !r.OK || r.Generation != 3 {
		t.Fatalf("confirm: %v %+v", err, r)
	}
	clk.t = clk.t.Add(time.Hour)
	if changed, _ := e.Tick(ctx); changed {
		t.Fatal("confirmed generation rolled back")
	}
	// Rollback on demand returns to the generation before.
	r, err := e.Rollback(ctx, "engineer asked")
	if err != nil || r.Generation != 1 {
		t.Fatalf("rollback: %v %+v", err, r)
	}
	st, _ = e.Status("test")
	if st.Generation != 1 || st.LastRollbackReason != "engineer asked" {
		t.Fatalf("after rollback %+v", st)
	}
}

func TestRefusedBundlesChangeNothing(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()
	good := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"})
	if _, err := e.Apply(ctx, ApplyOptions{Path: good.Dir}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		make func(t *testing.T) string
		code string
		msg  string
	}{
		{"altered file", func(t *testing.T) string {
			b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"})
			f, _ := os.OpenFile(filepath.Join(b.Dir, "chain.pem"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("\n")
			f.Close()
			return b.Dir
		}, "TL-BUN-003", "chain.pem is"},
		{"missing file", func(t *testing.T) string {
			b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"})
			os.Remove(filepath.Join(b.Dir, "sensor.key"))
			return b.Dir
		}, "TL-BUN-002", "sensor.key is listed"},
		{"activation for another sensor", func(t *testing.T) string {
			return k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", ActivationFor: "sensor-02"}).Archive
		}, "TL-ACT-003", `for sensor "sensor-02", not "sensor-01"`},
		{"expired certificate", func(t *testing.T) string {
			return k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", CertNotAfter: now.Add(-24 * time.Hour)}).Archive
		}, "TL-CERT-007", ""},
		{"key does not match", func(t *testing.T) string {
			return k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", WrongKey: true}).Archive
		}, "TL-CERT-004", ""},
		{"upload window passed", func(t *testing.T) string {
			return k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", ActivationAt: now.AddDate(0, 0, -15)}).Archive
		}, "TL-ACT-004", "14 days"},
		{"interface pattern: every link, the SPAN port too", func(t *testing.T) string {
			return k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Interface: "*"}).Archive
		}, CodeSettings, "network.interface"},
		{"interface negation", func(t *testing.T) string {
			return k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Interface: "!eth0"}).Archive
		}, CodeSettings, "network.interface"},
		{"unfinished upload", func(t *testing.T) string {
			p := filepath.Join(e.Layout.Incoming(), "x.tapbundle.part")
			os.WriteFile(p, []byte("x"), 0o600)
			return p
		}, CodePath, ".part"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.make(t)
			before, err := testkit.TreeHash(e.Layout.Root)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Apply(ctx, ApplyOptions{Path: path})
			var r *Refusal
			if !errors.As(err, &r) || r.Code != c.code || res.OK || res.Error == "" {
				t.Fatalf("got %v (%+v), want %s", err, res, c.code)
			}
			if !strings.Contains(res.Error, c.msg) {
				t.Errorf("error %q lacks %q", res.Error, c.msg)
			}
			// The JSON result names the code, and a finding explains it.
			explained := false
			for _, f := range res.Findings {
				explained = explained || (f.Code == c.code && f.Severity == "error" && f.Message != "" && f.Hint != "")
			}
			if res.Code != c.code || !explained {
				t.Errorf("result code %q, findings %+v: want %s with an error finding and a fix", res.Code, res.Findings, c.code)
			}
			after, _ := testkit.TreeHash(e.Layout.Root)
			if before != after {
				t.Fatal("the tree changed on a refused bundle")
			}
		})
	}
}

// TestLateConfirmRestores: a confirm that arrives after the deadline (the
// daemon was down, nothing enforced it yet) does not make the generation
// permanent: it restores the previous one, as the daemon would have.
func TestLateConfirmRestores(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()
	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10"})
	if _, err := e.Apply(ctx, ApplyOptions{Path: b1.Dir}); err != nil {
		t.Fatal(err)
	}
	b2 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.11"})
	if res, err := e.Apply(ctx, ApplyOptions{Path: b2.Dir, ConfirmTimeout: 10 * time.Second}); err != nil || !res.ConfirmationPending {
		t.Fatalf("apply 2: %v %+v", err, res)
	}
	clk.t = now.Add(11 * time.Second)
	r, err := e.Confirm()
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Code != CodeDeadlinePassed || r.OK || r.Code != CodeDeadlinePassed || r.Generation != 1 ||
		!strings.Contains(r.Error, "too late to confirm") {
		t.Fatalf("late confirm: %v %+v", err, r)
	}
	st, _ := e.Status("test")
	if st.Generation != 1 || st.PendingConfirmation || st.Network.Address != "192.0.2.10" || st.Certificate.FingerprintSHA256 != b1.Fingerprint ||
		!strings.Contains(st.LastRollbackReason, "not confirmed before its rollback deadline") {
		t.Fatalf("status after late confirm: %+v", st)
	}
	nd, _ := os.ReadFile(filepath.Join(e.Layout.Root, "etc/systemd/network/10-sensorcore.network"))
	if !strings.Contains(string(nd), "Address=192.0.2.10/24") {
		t.Fatalf("network not restored: %s", nd)
	}
}

// TestRelativeRoot: --root r works from the working directory and every
// path the engine reports is absolute.
func TestRelativeRoot(t *testing.T) {
	t.Chdir(t.TempDir())
	e, err := NewEngine(Options{Root: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(e.Layout.Root) || !filepath.IsAbs(e.Layout.Incoming()) || filepath.Base(e.Layout.Root) != "r" {
		t.Fatalf("root %q, incoming %q", e.Layout.Root, e.Layout.Incoming())
	}
}

// TestOtherSensorRefused: once activated, an appliance refuses a bundle for
// another sensor id (wrong appliance), with both names, changing nothing;
// --new-identity re-purposes it on purpose.
func TestOtherSensorRefused(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	e := newEngine(t, k, &fakeClock{now})
	ctx := context.Background()
	if _, err := e.Apply(ctx, ApplyOptions{Path: k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"}).Dir}); err != nil {
		t.Fatal(err)
	}
	other := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-02"})
	before, _ := testkit.TreeHash(e.Layout.Root)
	res, err := e.Apply(ctx, ApplyOptions{Path: other.Dir})
	var r *Refusal
	if !errors.As(err, &r) || r.Code != CodeIdentity || !strings.Contains(res.Error, `activated as sensor "sensor-01"`) ||
		!strings.Contains(res.Error, `for sensor "sensor-02"`) {
		t.Fatalf("other sensor: %v %+v", err, res)
	}
	if after, _ := testkit.TreeHash(e.Layout.Root); after != before {
		t.Fatal("the tree changed on a refused bundle")
	}
	if res, err := e.Apply(ctx, ApplyOptions{Path: other.Dir, NewIdentity: true}); err != nil || !res.OK || res.Activation.SensorName != "sensor-02" {
		t.Fatalf("--new-identity: %v %+v", err, res)
	}
}

// TestActivationExpiryOnSensor: a locally managed sensor warns from 30 days
// before its activation expires, and after expiry shows it while staying
// up (monitoring continues).
func TestActivationExpiryOnSensor(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()
	if _, err := e.Apply(ctx, ApplyOptions{Path: k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"}).Dir}); err != nil {
		t.Fatal(err)
	}
	codes := func() (string, bool, bool) {
		st, err := e.Status("test")
		if err != nil || st.Activation == nil {
			t.Fatalf("status: %v %+v", err, st)
		}
		var cs []string
		for _, f := range st.ActivationFindings {
			cs = append(cs, f.Code+" "+string(f.Severity))
		}
		lines, _ := e.Sanity(ctx, "test")
		up := false
		for _, l := range lines {
			if l.Component == "activation" {
				up = l.Up
			}
		}
		return strings.Join(cs, ","), st.Activation.Expired, up
	}
	if c, exp, up := codes(); c != "" || exp || !up {
		t.Fatalf("fresh: %q expired %v up %v", c, exp, up)
	}
	clk.t = now.AddDate(1, 0, -20) // testkit files expire a year after issue
	if c, exp, up := codes(); c != "TL-ACT-006 warning" || exp || !up {
		t.Fatalf("20 days before expiry: %q expired %v up %v", c, exp, up)
	}
	clk.t = now.AddDate(1, 0, 1)
	if c, exp, up := codes(); c != "TL-ACT-005 warning" || !exp || !up {
		t.Fatalf("after expiry: %q expired %v up %v", c, exp, up)
	}
}

// TestFirstApplyRollsBackToFactory: the first apply (generation 0 -> 1)
// that changes the factory address arms the deadline; unconfirmed, the
// appliance returns to its factory network (the backend's file removed) and
// to generation 0. One that keeps the factory address arms nothing.
func TestFirstApplyRollsBackToFactory(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()
	// What the daemon records at its first start on an appliance whose eth0
	// came up as 192.0.2.10/24 via 192.0.2.1.
	fac := FactoryNetwork{RecordedAt: now, Interfaces: []netconf.Live{{Interface: "eth0", Up: true,
		Addresses: []string{"192.0.2.10/24", "fe80::1/64"}, Gateway: "192.0.2.1"}}}
	b, _ := jsonIndent(fac)
	if err := os.WriteFile(e.Layout.factoryPath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	nd := filepath.Join(e.Layout.Root, "etc/systemd/network/10-sensorcore.network")
	moved := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.77", Gateway: "192.0.2.1"})
	res, err := e.Apply(ctx, ApplyOptions{Path: moved.Dir, ConfirmTimeout: 30 * time.Second})
	if err != nil || res.Generation != 1 || res.PreviousGeneration != 0 || !res.NetworkChanged || !res.ConfirmationPending || res.RollbackDeadline == nil {
		t.Fatalf("first apply moving the address: %v %+v", err, res)
	}
	if _, err := os.Stat(nd); err != nil {
		t.Fatalf("first apply wrote no network file: %v", err)
	}
	clk.t = now.Add(31 * time.Second)
	if changed, err := e.Tick(ctx); err != nil || !changed {
		t.Fatalf("tick after deadline: %v %v", changed, err)
	}
	st, err := e.Status("test")
	if err != nil || st.Generation != 0 || st.PendingConfirmation || (st.Certificate != nil && !st.Certificate.SelfSigned) ||
		!strings.Contains(st.LastRollbackReason, "not confirmed before its rollback deadline") {
		t.Fatalf("status after the first apply's deadline: %v %+v", err, st)
	}
	if _, err := os.Stat(nd); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("factory network not restored: %s still there (%v)", nd, err)
	}
	// Rollback on demand of an unconfirmed first apply also returns to the
	// factory state; a confirmed one has nothing to roll back to.
	res, err = e.Apply(ctx, ApplyOptions{Path: moved.Dir, ConfirmTimeout: 30 * time.Second})
	if err != nil || res.Generation != 2 || res.PreviousGeneration != 0 || !res.ConfirmationPending {
		t.Fatalf("second first apply: %v %+v", err, res)
	}
	if r, err := e.Rollback(ctx, "engineer asked"); err != nil || r.Generation != 0 {
		t.Fatalf("rollback of an unconfirmed first apply: %v %+v", err, r)
	}
	same := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Address: "192.0.2.10", Gateway: "192.0.2.1"})
	res, err = e.Apply(ctx, ApplyOptions{Path: same.Dir})
	if err != nil || res.NetworkChanged || res.ConfirmationPending {
		t.Fatalf("first apply keeping the factory address: %v %+v", err, res)
	}
	var re *Refusal
	if _, err := e.Rollback(ctx, "again"); !errors.As(err, &re) || re.Code != CodeNothingToRollBack {
		t.Fatalf("rollback of a permanent first generation: %v", err)
	}
}

// "Nothing to roll back" is TL-APP-008 (TL-APP-006 is an appliance I/O
// error) also before any generation, in the result and the refusal.
func TestRollbackNothingCode(t *testing.T) {
	now := time.Now().UTC()
	k := testkit.New(t, now, "")
	e := newEngine(t, k, &fakeClock{now})
	r, err := e.Rollback(context.Background(), "asked")
	var re *Refusal
	if !errors.As(err, &re) || re.Code != CodeNothingToRollBack || r.Code != CodeNothingToRollBack || r.OK {
		t.Fatalf("rollback before any generation: %v %+v", err, r)
	}
}

// TestStatusNameSource: status says where the sensor's name comes from, so
// the laptop can tell a binding name from a host name: the host name before
// any bundle, the activated identity after one, config.json's name always.
func TestStatusNameSource(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	e := newEngine(t, k, &fakeClock{now})
	if st, err := e.Status("test"); err != nil || st.SensorNameSource != NameFromHost || st.SensorName == "" {
		t.Fatalf("before any bundle: %v %q from %q", err, st.SensorName, st.SensorNameSource)
	}
	if _, err := e.Apply(context.Background(), ApplyOptions{Path: k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01"}).Dir}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Status("test"); st.SensorNameSource != NameFromActivation || st.SensorName != "sensor-01" || st.SensorID == "" {
		t.Fatalf("activated: %q (%s) from %q", st.SensorName, st.SensorID, st.SensorNameSource)
	}
	e.Config.SensorName = "sensor-01"
	if st, _ := e.Status("test"); st.SensorNameSource != NameFromConfig || st.SensorName != "sensor-01" {
		t.Fatalf("named in config.json: %q from %q", st.SensorName, st.SensorNameSource)
	}
	fresh := newEngine(t, k, &fakeClock{now})
	fresh.Config.SensorName = "sensor-07"
	if st, _ := fresh.Status("test"); st.SensorNameSource != NameFromConfig || st.SensorName != "sensor-07" || st.SensorID != "" {
		t.Fatalf("named in config.json, never activated: %q (%s) from %q", st.SensorName, st.SensorID, st.SensorNameSource)
	}
}
