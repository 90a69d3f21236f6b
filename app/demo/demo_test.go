//go:build linux

// The demo fleet runs sensorcore serve, which runs on Linux only.

package demo

import (
	"context"
	"crypto/ed25519"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/jsoncontract"
	"github.com/tapline/tapline/internal/sensorcorebin"
	"github.com/tapline/tapline/sensorcore/daemon"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/activation"
)

// sensorcoreBin is sensorcore built once for these tests (CGO_ENABLED=0).
var sensorcoreBin string

func TestMain(m *testing.M) { sensorcorebin.Main(m, &sensorcoreBin) }

func TestFleetStartsChecksAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	f, err := Start(context.Background(), Options{Dir: dir, Sensorcore: sensorcoreBin, Sensors: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop() })
	if len(f.Sensors) != 2 {
		t.Fatalf("%d sensors", len(f.Sensors))
	}
	for _, s := range f.Sensors {
		for _, a := range []string{s.SSHAddr, s.Console} {
			host, _, _ := net.SplitHostPort(a)
			if host != "127.0.0.1" {
				t.Fatalf("%s listens on %s, want loopback", s.Name, a)
			}
			c, err := net.DialTimeout("tcp", a, 2*time.Second)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			c.Close()
		}
	}

	// The manifest reads back, and the inventory passes the offline check
	// with the demo authority's root: the newcomer's first push can succeed.
	m, err := Load(dir)
	if err != nil || m.Inventory != f.Inventory || len(m.Sensors) != 2 || m.Sensors[1].SSHAddr != f.Sensors[1].SSHAddr {
		t.Fatalf("manifest: %+v %v", m, err)
	}
	inv, err := provision.ReadInventory(f.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	root, err := activation.ReadPublicKey(f.TrustRoot)
	if err != nil {
		t.Fatal(err)
	}
	rep := provision.Check(inv, provision.CheckOptions{Now: time.Now(), ActivationRoots: []ed25519.PublicKey{root}})
	if rep.HasErrors() {
		t.Fatalf("demo inventory has errors: %+v", rep)
	}
	for _, st := range []string{f.CADir, f.Sensors[0].Key} {
		if fi, err := os.Stat(st); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v %v, want private", st, fi.Mode(), err)
		}
	}

	pids := []int{f.Sensors[0].PID, f.Sensors[1].PID}
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("sensor pid %d still runs after Stop", pid)
		}
	}
	if c, err := net.DialTimeout("tcp", f.Sensors[0].SSHAddr, time.Second); err == nil {
		c.Close()
		t.Error("SSH listener still answers after Stop")
	}
	if err := f.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartRefuses(t *testing.T) {
	used := t.TempDir()
	os.WriteFile(filepath.Join(used, "x"), []byte("x"), 0o600)
	cases := []struct {
		name string
		o    Options
	}{
		{"no binary", Options{Dir: t.TempDir()}},
		{"a used folder", Options{Dir: used, Sensorcore: sensorcoreBin}},
		{"too many sensors", Options{Dir: t.TempDir(), Sensorcore: sensorcoreBin, Sensors: 51}},
		{"a binary that is not sensorcore", Options{Dir: filepath.Join(t.TempDir(), "d"), Sensorcore: "/bin/false", Sensors: 1, StartTimeout: 5 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Start(context.Background(), c.o)
			if err == nil {
				f.Stop()
				t.Fatal("started")
			}
		})
	}
	// A binary that stops at start is named with what it said, not "<nil>".
	sh := writeScript(t, "#!/bin/sh\necho 'no such command: serve' >&2\nexit 3\n")
	_, err := Start(context.Background(), Options{Dir: filepath.Join(t.TempDir(), "d"), Sensorcore: sh, Sensors: 1, StartTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "no such command: serve") || !strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), "<nil>") {
		t.Fatalf("stopped at start: %v", err)
	}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-sensorcore")
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if f, err := Start(ctx, Options{Dir: filepath.Join(t.TempDir(), "d"), Sensorcore: sensorcoreBin, Sensors: 1}); err == nil {
		f.Stop()
		t.Fatal("a cancelled start started")
	}
}

// TestApplianceFiles: the files the demo writes into a sensor's root and the
// run.json it reads are the daemon's own, at the daemon's paths, although the
// demo shares no code with it (the laptop binary never links the daemon).
func TestApplianceFiles(t *testing.T) {
	l := daemon.Layout{Root: "/r"}
	for _, c := range []struct{ demo, daemon string }{
		{filepath.Join("/r", etcDir), l.Etc()},
		{filepath.Join("/r", runFile), l.RunFile()},
	} {
		if filepath.Clean(c.demo) != c.daemon {
			t.Errorf("the demo uses %s, the daemon %s", c.demo, c.daemon)
		}
	}
	for _, p := range jsoncontract.Missing(reflect.TypeOf(applianceConfig{}), reflect.TypeOf(daemon.Config{}), configFile, "the demo writes", "the daemon reads") {
		t.Error(p)
	}
	for _, p := range jsoncontract.Missing(reflect.TypeOf(runInfo{}), reflect.TypeOf(daemon.RunInfo{}), "run.json", "the demo reads", "the daemon writes") {
		t.Error(p)
	}
}
