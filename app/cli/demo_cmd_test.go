package cli

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/internal/sensorcorebin"
)

var (
	demoCoreOnce sync.Once
	demoCore     string
	demoCoreErr  error
)

// sensorcoreForDemo builds sensorcore once (CGO_ENABLED=0), as make run does.
func sensorcoreForDemo(t *testing.T) string {
	t.Helper()
	needs.Tool(t, "go", "golang (the go tool builds sensorcore)")
	demoCoreOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cli-demo-sensorcore")
		if err != nil {
			demoCoreErr = err
			return
		}
		if demoCore, demoCoreErr = sensorcorebin.Build(dir, ""); demoCoreErr != nil {
			os.RemoveAll(dir)
		}
	})
	if demoCoreErr != nil {
		t.Fatal(demoCoreErr)
	}
	return demoCore
}

// TestDemoHeadless is what make run does without a display: start the demo
// fleet, provision it through batch run, print the report, stop every
// sensor it started.
func TestDemoHeadless(t *testing.T) {
	core := sensorcoreForDemo(t)
	dir := filepath.Join(t.TempDir(), "demo")
	env, out, errb := testEnv(time.Now())
	env.Getenv = os.Getenv
	if code := Main([]string{"demo", "--sensorcore", core, "--sensors", "2", "--headless", "--dir", dir}, env); code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	for _, want := range []string{"Demo fleet in " + dir, "sensor-01", "sensor-02", "reports: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^  sensor-0[12] +done +`).FindAllString(out.String(), -1)); n != 2 {
		t.Errorf("%d sensors done, want 2:\n%s", n, out)
	}
	for _, name := range []string{"inventory.report.json", "inventory.report.csv", "inventory.report.html"} {
		if _, err := os.Stat(filepath.Join(dir, "files", name)); err != nil {
			t.Errorf("report: %v", err)
		}
	}
	// Every sensor it started is gone: nothing listens on their addresses.
	f, err := demo.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Sensors {
		if c, err := net.DialTimeout("tcp", s.SSHAddr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listens on %s after the demo ended", s.Name, s.SSHAddr)
		}
	}
}

// TestDemoTemporaryFolderRemoved: without --dir the demo's material lives in a
// temporary folder that is removed when it stops.
func TestDemoTemporaryFolderRemoved(t *testing.T) {
	core := sensorcoreForDemo(t)
	env, out, errb := testEnv(time.Now())
	env.Getenv = os.Getenv
	if code := Main([]string{"demo", "--sensorcore", core, "--sensors", "1", "--headless"}, env); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errb)
	}
	m := regexp.MustCompile(`Demo fleet in (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no folder named:\n%s", out)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("%s left behind (%v)", m[1], err)
	}
}

func TestDemoUsage(t *testing.T) {
	used := t.TempDir()
	os.WriteFile(filepath.Join(used, "x"), []byte("x"), 0o600)
	cases := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"unknown flag", []string{"--bogus"}, "demo: unknown flag --bogus; run 'tapline demo --help' for the flags"},
		{"an argument", []string{"--sensorcore", "/bin/true", "now"}, `unexpected argument "now"`},
		{"missing sensorcore", []string{"--sensorcore", "/nonexistent/sensorcore"}, "/nonexistent/sensorcore: no such file; build it with 'make build-sensorcore'"},
		{"too many sensors", []string{"--sensorcore", "/bin/true", "--sensors", "51", "--headless"}, "51 sensors: choose 1 to 50"},
		{"a used folder", []string{"--sensorcore", "/bin/true", "--dir", used, "--headless"}, "is not empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, out, errb := testEnv(time.Now())
			if code := Main(append([]string{"demo"}, c.args...), env); code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errb)
			}
			if !strings.Contains(errb.String(), c.inStderr) {
				t.Errorf("stderr %q lacks %q", errb, c.inStderr)
			}
		})
	}
}

// TestDemoHeadlessSite is make run's demo with its site: a one-node
// JetStream server from the real nats-server beside the sensors, each
// sensor's monitor replaying shared captures, the inventory's uplink
// column provisioning every sensor to stream to it; after the batch run
// the site shows both sensors with their devices and their PLC stop
// alerts (S7comm on sensor-01, CIP on sensor-02).
func TestDemoHeadlessSite(t *testing.T) {
	core := sensorcoreForDemo(t)
	nats := natstest.Binary(t)
	pcaps := filepath.Join("..", "..", "..", "shared", "pcaps")
	if _, err := os.Stat(filepath.Join(pcaps, "s7comm")); err != nil {
		needs.Missing(t, "the demo replays the shared captures: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	env, out, errb := testEnv(time.Now())
	env.Now = time.Now
	env.Getenv = os.Getenv
	if code := Main([]string{"demo", "--sensorcore", core, "--nats-server", nats, "--captures", pcaps, "--replay-speed", "10",
		"--sensors", "2", "--headless", "--dir", dir}, env); code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	o := out.String()
	if n := len(regexp.MustCompile(`(?m)^  sensor-0[12] +done +`).FindAllString(o, -1)); n != 2 {
		t.Errorf("%d sensors done, want 2:\n%s", n, o)
	}
	if m := regexp.MustCompile(`site demo-plant: (\d+) devices discovered, 200 licensed`).FindStringSubmatch(o); m == nil || m[1] == "0" {
		t.Errorf("no site status with devices:\n%s", o)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^sensor-01 +\d+s ago .* [1-9]\d*/100 `),
		regexp.MustCompile(`(?m)^sensor-02 +\d+s ago .* [1-9]\d*/100 `),
		regexp.MustCompile(`(?m)^sensor-01/[0-9a-f]{16} +critical .* S7`),
		regexp.MustCompile(`(?m)^sensor-02/[0-9a-f]{16} +\w+ .*CIP`),
	} {
		if !want.MatchString(o) {
			t.Errorf("the site's view lacks %s:\n%s", want, o)
		}
	}
	f, err := demo.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", f.NATSAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("the site's server still listens on %s after the demo ended", f.NATSAddr)
	}
}
