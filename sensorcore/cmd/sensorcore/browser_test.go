package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/browsertest"
	"github.com/tapline/tapline/sensorcore/console"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/inventory"
	"github.com/tapline/tapline/sensorcore/monitor"
)

// screenshotsEnv names a folder for the console's screenshots
// (make console-screenshots sets docs/screenshots); unset, they go to the
// test's temporary folder.
const screenshotsEnv = "TAPLINE_CONSOLE_SCREENSHOTS"

// TestConsoleInChromium opens every page of a running console, activated
// and signed in, in a real headless Chromium: each loads its stylesheet
// (the app's colours are applied), shows the sensor's name and generation
// in its header and the navigation, and the browser reports no
// Content-Security-Policy violation, failed load or error. A control page
// with inline style and script, served under the same policy, shows that
// such violations are seen. Screenshots of each page are taken.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel() // after the latency tests, which run alone, beside the other parallel ones
	bin := browsertest.Require(t)
	now := time.Now().UTC()
	k := testkit.New(t, now, "")
	root := t.TempDir()
	var extra []string
	if iface := monitorState(t, root); iface != "" {
		extra = append(extra, "--monitor", iface)
	}
	d := startServe(t, root, k.RootFile, extra...)
	base := "https://" + d.run.Console
	// Provisioned: activated, the plant CA's certificate, generation 1.
	b1 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Hostname: "sensor-01.plant.example", Address: "192.0.2.10"})
	if out, code := cli(t, nil, "apply", "--json", "--root", root, "--trust-root", k.RootFile, b1.Archive); code != 0 {
		t.Fatalf("apply: %d %s", code, out)
	}
	waitFingerprint(t, d.run.Console, b1.Fingerprint)
	readyAdmin(t, root, base, "127.0.0.3", adminPassword)
	if out, code := cli(t, nil, "console", "reset", "--user", "support", "--root", root); code != 0 {
		t.Fatalf("console reset: %d %s", code, out)
	}

	br := browsertest.Start(t, bin, 1280, 860)
	shots := os.Getenv(screenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	}
	type check struct {
		name, path string
		want       []string // in the page's text
	}
	visit := func(p check, framed bool) {
		t.Helper()
		br.Navigate(base + p.path)
		var page struct {
			Background, Text, Title string
			Inline                  int
		}
		br.Eval(`({Background: getComputedStyle(document.body).backgroundColor, Text: document.body.innerText, Title: document.title,
			Inline: document.querySelectorAll("[style], style, script").length})`, &page)
		for _, pr := range br.Problems() {
			t.Errorf("%s: the browser reports %s", p.name, pr)
		}
		if page.Background != "rgb(23, 23, 24)" {
			t.Errorf("%s: the stylesheet is not applied (background %s)", p.name, page.Background)
		}
		if page.Inline != 0 {
			t.Errorf("%s: %d inline style or script elements", p.name, page.Inline)
		}
		want := p.want
		if framed {
			want = append(want, "sensor-01", "generation 1", "Overview", "Devices", "Alerts", "Operations log", "Sign out")
		}
		for _, w := range want {
			if !strings.Contains(page.Text, w) {
				t.Errorf("%s does not show %q:\n%s", p.name, w, page.Text)
			}
		}
		if err := os.WriteFile(filepath.Join(shots, "console-"+p.name+".png"), br.Screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	visit(check{"sign-in", "/login", []string{"Sign in", "User name", "Password", "5 failed sign-ins lock the account for a while"}}, false)
	// Sign in with the form, as a person would: the POST must pass the
	// console's same-origin check under its Referrer-Policy.
	br.Follow(fmt.Sprintf(`document.querySelector("input[name=user]").value = "admin";
		document.querySelector("input[name=password]").value = %q;
		document.querySelector("form").requestSubmit()`, adminPassword))
	var at string
	br.Eval(`location.pathname`, &at)
	if at != "/" {
		t.Fatalf("after signing in with the form the browser is at %s: %v", at, br.Problems())
	}
	hostKey, err := console.ReadHostKey(filepath.Join(root, "etc/sensorcore/ssh_host_ed25519_key.pub"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []check{
		{"overview", "/", []string{"Components", "console", "storage", "activation", "certificate", "network", "UP",
			"Activated", "SSH host key", hostKey.Fingerprint, b1.Fingerprint, "192.0.2.10", "reset: support given a one-time password"}},
		{"devices", "/monitor/devices", []string{"Devices"}},
		{"alerts", "/monitor/alerts", []string{"Alerts"}},
		{"operations", "/monitor/operations", []string{"Operations log"}},
		{"password", "/password", []string{"Current password", "New password", "Every other session of admin ends"}},
	} {
		visit(p, true)
	}
	// A form on a monitoring page posts too (acknowledge an alert), when
	// there is one.
	br.Navigate(base + "/monitor/alerts")
	var forms int
	br.Eval(`document.querySelectorAll("form.inline").length`, &forms)
	if forms > 0 {
		br.Follow(`document.querySelector("form.inline button").click()`)
		var text string
		br.Eval(`document.body.innerText`, &text)
		if !strings.Contains(text, "acknowledged") || len(br.Problems()) > 0 {
			t.Errorf("acknowledging an alert in the browser: %s", text)
		}
	}

	// The control: the same policy over a page with inline style and
	// script. The browser must refuse both and say so.
	bad := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", console.ContentSecurityPolicy)
		fmt.Fprint(w, `<!doctype html><html><head><style>body{background:red}</style></head><body style="color:red">x<script>document.title="ran"</script></body></html>`)
	}))
	defer bad.Close()
	br.Navigate(bad.URL)
	var title string
	br.Eval(`document.title`, &title)
	problems := strings.Join(br.Problems(), "\n")
	if title == "ran" || strings.Count(problems, "Content Security Policy")+strings.Count(problems, "ContentSecurityPolicy") < 2 {
		t.Fatalf("inline code under the console's policy: title %q, reports:\n%s", title, problems)
	}
}

// monitorState, where capturing is possible (root), runs the shared S7comm
// captures through the monitoring pipeline into the sensor's monitor state,
// so the Devices and Alerts pages have something to show, and makes a
// quiet interface to monitor (a veth pair named after the process, removed
// at the end; lo if that fails, which adds the test's own traffic). It
// returns the interface, or "" where serve cannot monitor.
func monitorState(t *testing.T, root string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Log("not root: the monitoring pages show that monitoring is off")
		return ""
	}
	oui, _ := inventory.ReadManuf(inventory.DefaultManuf)
	m, err := monitor.New(monitor.Options{StateDir: filepath.Join(root, monitor.StateSubdir), OUI: oui})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pcaps, _ := filepath.Glob("../../../../shared/pcaps/s7comm/*.pcap*") // the shared captures, beside the repository
	if len(pcaps) > 0 {
		if err := m.RunFiles(pcaps...); err != nil {
			t.Fatalf("%s: %v", pcaps, err)
		}
	}
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	link := fmt.Sprintf("tlc%d", os.Getpid()%1000000)
	if out, err := exec.Command("ip", "link", "add", link, "type", "veth", "peer", "name", link+"p").CombinedOutput(); err != nil {
		t.Logf("no veth pair (%v %s): monitoring lo", err, out)
		return "lo"
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", link).Run() })
	if out, err := exec.Command("ip", "link", "set", link, "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s up: %v %s", link, err, out)
	}
	return link
}
