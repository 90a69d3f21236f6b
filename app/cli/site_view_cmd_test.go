package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/siteview"
)

// TestSiteViewCommands runs tapline site status|assets|alerts|events on a
// real NATS server holding what two sensors streamed: one row for the PLC
// both see, an acknowledgement that reaches the next reader, the
// operations of one device, JSON for each; and the failures a user meets
// (no server, a malformed --ack, no site.json) as one line and an exit
// code.
func TestSiteViewCommands(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01", "sensor-02")
	now := time.Now().UTC()
	ex := st.PublishExample(now)
	siteFile := filepath.Join(st.Dir, siteconf.SiteFile)
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		env, out, errb := testEnv(now.Add(5 * time.Second))
		env.Getenv = func(k string) string {
			if k == "USER" {
				return "engineer"
			}
			return ""
		}
		if code := Main(append([]string{"site"}, append(args, "--site-file", siteFile)...), env); code != want {
			t.Fatalf("tapline site %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(args, " "), code, want, out, errb)
		}
		return out.String(), errb.String()
	}

	out, _ := run(ExitOK, "status")
	for _, want := range []string{"site plant-a: 1 devices discovered, 2 licensed", "sensor-01", "sensor-02", "s7comm", "modbus", "1/1"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(ExitOK, "status", "--json")
	var status struct {
		Licence siteview.Licence  `json:"licence"`
		Sensors []siteview.Sensor `json:"sensors"`
	}
	if err := json.Unmarshal([]byte(out), &status); err != nil || len(status.Sensors) != 2 || status.Licence.Discovered != 1 {
		t.Fatalf("status --json: %v %s", err, out)
	}

	out, _ = run(ExitOK, "assets")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "sensor-01,sensor-02") ||
		!strings.Contains(lines[1], "modbus,s7comm") || !strings.Contains(lines[1], "6ES7 315-2EH14-0AB0") {
		t.Fatalf("assets: want one row for the PLC naming both sensors:\n%s", out)
	}

	out, _ = run(ExitOK, "alerts", "--open", "--severity", "high")
	if !strings.Contains(out, "sensor-01/"+ex.StopKey) || strings.Contains(out, ex.ScanKey) {
		t.Fatalf("alerts --open --severity high:\n%s", out)
	}
	run(ExitOK, "alerts", "--ack", "sensor-01/"+ex.StopKey, "--note", "planned stop")
	out, _ = run(ExitOK, "alerts", "--open")
	if strings.Contains(out, ex.StopKey) || !strings.Contains(out, ex.ScanKey) {
		t.Fatalf("acknowledged, yet still open for the next reader:\n%s", out)
	}
	out, _ = run(ExitOK, "alerts", "--json", "--sensor", "sensor-01")
	var alerts []siteview.Alert
	if err := json.Unmarshal([]byte(out), &alerts); err != nil || len(alerts) != 1 || alerts[0].Ack == nil ||
		!strings.HasPrefix(alerts[0].Ack.By, "engineer@") || alerts[0].Ack.Note != "planned stop" {
		t.Fatalf("alerts --json: %v %s", err, out)
	}

	out, _ = run(ExitOK, "events", "--device", ex.PLC)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "PLC Stop") || !strings.Contains(lines[1], "sensor-01,sensor-02") {
		t.Fatalf("events --device %s:\n%s", ex.PLC, out)
	}
	out, _ = run(ExitOK, "events", "--device", "192.0.2.99", "--json")
	if strings.TrimSpace(out) != "[]" && strings.TrimSpace(out) != "null" {
		t.Fatalf("events of a device nobody saw: %s", out)
	}

	// What goes wrong, said in one line.
	_, errs := run(ExitUsage, "alerts", "--ack", "no-key-here")
	if !strings.Contains(errs, "SENSOR/KEY") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("a malformed --ack: %q", errs)
	}
	dead := filepath.Join(t.TempDir(), "dead")
	os.MkdirAll(dead, 0o700)
	sc := st.Config()
	b, _ := os.ReadFile(siteFile)
	var raw map[string]any
	json.Unmarshal(b, &raw)
	raw["servers"] = []string{"tls://127.0.0.1:1"}
	for _, k := range []string{"ca", "cert", "key", "credential"} {
		raw[k] = map[string]string{"ca": sc.CA, "cert": sc.Cert, "key": sc.Key, "credential": sc.Credential}[k]
	}
	b, _ = json.Marshal(raw)
	os.WriteFile(filepath.Join(dead, siteconf.SiteFile), b, 0o600)
	env, _, errb := testEnv(now)
	if code := Main([]string{"site", "status", "--site-file", filepath.Join(dead, siteconf.SiteFile), "--timeout", "5s"}, env); code != ExitVerdict ||
		!strings.Contains(errb.String(), "127.0.0.1:1") {
		t.Fatalf("no server: exit %d, %q", code, errb)
	}
	env, _, errb = testEnv(now)
	if code := Main([]string{"site", "assets", "--site-file", filepath.Join(dead, "missing.json")}, env); code != ExitUsage || !strings.Contains(errb.String(), "missing.json") {
		t.Fatalf("no site.json: exit %d, %q", code, errb)
	}
}
