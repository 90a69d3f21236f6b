package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/provision"
)

// A first run refuses every sensor (their host keys are unknown): the
// summary names them first, with the address and the fix, and the retry
// inventory is written. Running that retry inventory (trusting first
// contacts now) updates the site's combined report: every sensor done,
// "on retry", and the retry file gone.
func TestRetryUpdatesTheSiteReport(t *testing.T) {
	f, err := demo.Start(context.Background(), demo.Options{Dir: filepath.Join(t.TempDir(), "demo"), Sensorcore: sensorcoreForDemo(t), Sensors: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop() })
	run := func(args ...string) (int, string) {
		env, out, errb := testEnv(time.Now())
		env.Getenv = func(k string) string {
			if k == "TAPLINE_SSH_PASSWORD" {
				return demo.Password
			}
			return ""
		}
		code := Main(append([]string{"batch", "run", "--trust-root", f.TrustRoot, "--known-hosts", f.KnownHosts, "--confirm-timeout", "30s"}, args...), env)
		return code, out.String() + errb.String()
	}
	code, out := run(f.Inventory)
	stem := strings.TrimSuffix(f.Inventory, ".csv")
	if code != ExitVerdict || !strings.HasPrefix(out[strings.Index(out, "needs attention"):], "needs attention (2):\n  sensor-01  refused  127.0.0.1:") ||
		!strings.Contains(out, "fix: Compare the fingerprint") || !strings.Contains(out, "tapline batch run "+stem+".retry.csv") {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	if provision.RetryOf(stem+".retry.csv") != filepath.Base(stem) {
		t.Fatalf("the retry inventory does not name its site")
	}
	code, out = run(stem+".retry.csv", "--accept-new")
	if code != ExitOK || strings.Contains(out, "needs attention") || !strings.Contains(out, "done (2):") || !strings.Contains(out, "this retry updated 2 sensor(s)") {
		t.Fatalf("retry run: exit %d\n%s", code, out)
	}
	rep, err := provision.ReadReport(stem + ".report.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rep.Results {
		if x.Result.Outcome != provision.OutcomeDone || !x.Retried || x.Attempts != 2 {
			t.Errorf("the site's report after the retry: %s %+v", x.Row.Sensor, x)
		}
		// Validated after the push; the demo's sensors run the none
		// backend, so nothing was sent to their example addresses.
		v := x.Result.Validation
		if v == nil || !v.OK || !strings.Contains(x.Verdict(), "validated (") {
			t.Errorf("%s validation: %+v %q", x.Row.Sensor, v, x.Result.ValidationError)
			continue
		}
		for _, c := range v.Checks {
			if (c.Check == "gateway" || c.Check == "dns") && (c.Status != "not_applied" || !strings.Contains(c.Detail, "not applied (backend none)")) {
				t.Errorf("%s %s %s: %s %s", x.Row.Sensor, c.Check, c.Target, c.Status, c.Detail)
			}
		}
	}
	if !strings.Contains(out, "certificate proven over TLS") || !strings.Contains(out, "; validated (") {
		t.Errorf("the summary does not say what was proven and validated:\n%s", out)
	}
	if _, err := os.Stat(stem + ".retry.csv"); !os.IsNotExist(err) {
		t.Errorf("the retry inventory is still there: %v", err)
	}
	if _, err := os.Stat(stem + ".retry.report.json"); !os.IsNotExist(err) {
		t.Errorf("the retry wrote a report of its own instead of the site's")
	}
	html, _ := os.ReadFile(stem + ".report.html")
	if !strings.Contains(string(html), "Every sensor is done") {
		t.Errorf("HTML report after the retry:\n%s", html)
	}
}
