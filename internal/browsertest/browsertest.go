// Package browsertest runs Debian's Chromium headless for tests and drives
// it over the Chrome DevTools Protocol: navigate, set a cookie, evaluate,
// take a screenshot, and collect what the browser refused or complained
// about (Content-Security-Policy violations, failed loads, errors).
//
// Chromium runs with a fresh profile and with its background networking,
// component updates, sync and QUIC off, so it talks only to the pages a
// test opens.
package browsertest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/tapline/tapline/internal/needs"
)

// Candidates are where Debian and others install Chromium.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome"}

// Require returns Chromium's path, or skips t with a sentence (fails it
// under CI=true, where the test profile installs it).
func Require(t testing.TB) string {
	t.Helper()
	for _, c := range Candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	needs.Missing(t, "this test needs Debian's chromium (tools/ensure-deps.sh test installs it)")
	return ""
}

// Browser is one headless Chromium with one page.
type Browser struct {
	t       testing.TB
	cmd     *exec.Cmd
	ws      *websocket.Conn
	session string
	profile string

	mu       sync.Mutex
	nextID   int
	waiting  map[int]chan reply
	problems []string
	// netChanged is set when a load failed with net::ERR_NETWORK_CHANGED:
	// Chromium saw an interface come or go on the host (another test's
	// network namespace or veth), not a fault of the page.
	netChanged bool
	loaded     chan struct{}
	closed     chan struct{}
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Start launches Chromium for the test (it ends with the test) with a
// window of width x height CSS pixels.
func Start(t testing.TB, bin string, width, height int) *Browser {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-default-browser-check", "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
		"--user-data-dir="+profile, "--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1",
		"--ignore-certificate-errors", fmt.Sprintf("--window-size=%d,%d", width, height), "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "TMPDIR="+profile) // its scratch files go with the profile
	logf, err := os.Create(filepath.Join(profile, "chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	b := &Browser{t: t, cmd: cmd, profile: profile, waiting: map[int]chan reply{}, loaded: make(chan struct{}, 16), closed: make(chan struct{})}
	t.Cleanup(func() {
		if b.ws != nil {
			b.ws.Close()
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its whole process group: renderers too
		cmd.Wait()
		logf.Close()
	})
	// Chromium writes the port it chose to DevToolsActivePort.
	var port, path string
	deadline := time.Now().Add(60 * time.Second) // a loaded CI machine starts it slowly
	for {
		if raw, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			if lines := strings.Split(strings.TrimSpace(string(raw)), "\n"); len(lines) == 2 {
				port, path = lines[0], lines[1]
				break
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("chromium did not open its DevTools port: %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ws, err := websocket.Dial("ws://127.0.0.1:"+port+path, "", "http://127.0.0.1")
	if err != nil {
		t.Fatalf("DevTools: %v", err)
	}
	ws.MaxPayloadBytes = 64 << 20
	b.ws = ws
	go b.read()
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.callIn("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	b.callIn("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	for _, d := range []string{"Page.enable", "Log.enable", "Runtime.enable", "Network.enable", "Audits.enable"} {
		b.Call(d, nil, nil)
	}
	b.Call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	return b
}

// read dispatches replies to their callers and records events.
func (b *Browser) read() {
	defer close(b.closed)
	for {
		var msg struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			reply
		}
		if err := websocket.JSON.Receive(b.ws, &msg); err != nil {
			return
		}
		if msg.ID != 0 {
			b.mu.Lock()
			ch := b.waiting[msg.ID]
			delete(b.waiting, msg.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- msg.reply
			}
			continue
		}
		b.event(msg.Method, msg.Params)
	}
}

// event records what a page test must know about.
func (b *Browser) event(method string, params json.RawMessage) {
	var p struct {
		Entry struct {
			Source, Level, Text, URL string
		} `json:"entry"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
		Issue struct {
			Code    string          `json:"code"`
			Details json.RawMessage `json:"details"`
		} `json:"issue"`
		ErrorText     string `json:"errorText"`
		BlockedReason string `json:"blockedReason"`
		Type          string `json:"type"`
	}
	json.Unmarshal(params, &p)
	var problem string
	switch method {
	case "Page.loadEventFired":
		select {
		case b.loaded <- struct{}{}:
		default:
		}
	case "Log.entryAdded":
		if p.Entry.Level == "error" || p.Entry.Level == "warning" {
			problem = fmt.Sprintf("%s %s: %s", p.Entry.Source, p.Entry.Level, p.Entry.Text)
		}
	case "Runtime.exceptionThrown":
		problem = "exception: " + p.ExceptionDetails.Text
	case "Audits.issueAdded":
		// A page reached by a redirect without a click is skipped by Back:
		// history bookkeeping, not a fault of the page.
		if !strings.Contains(string(p.Issue.Details), "NavigationEntryMarkedSkippable") {
			problem = "issue " + p.Issue.Code + ": " + string(p.Issue.Details)
		}
	case "Network.loadingFailed":
		if p.ErrorText == errNetworkChanged {
			b.mu.Lock()
			b.netChanged = true
			b.mu.Unlock()
			return
		}
		problem = fmt.Sprintf("load failed (%s %s): %s", p.Type, p.BlockedReason, p.ErrorText)
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// Call sends a DevTools command to the page and decodes its result into
// result (may be nil). A failure fails the test.
func (b *Browser) Call(method string, params, result any) {
	b.t.Helper()
	b.callIn(b.session, method, params, result)
}

func (b *Browser) callIn(session, method string, params, result any) {
	b.t.Helper()
	if err := b.try(session, method, params, result); err != nil {
		b.t.Fatalf("DevTools %s: %v", method, err)
	}
}

func (b *Browser) try(session, method string, params, result any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	if err := websocket.JSON.Send(b.ws, msg); err != nil {
		return err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return errors.New(r.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-b.closed:
		return errors.New("the browser closed the connection")
	case <-time.After(30 * time.Second):
		return errors.New("no answer in 30 s")
	}
}

// errNetworkChanged is how Chromium reports that the host's interfaces
// changed under a load; the load is simply repeated.
const errNetworkChanged = "net::ERR_NETWORK_CHANGED"

// Navigate opens url and waits for its load event. A load cut short by a
// change of the host's interfaces (net::ERR_NETWORK_CHANGED, which tests
// building network namespaces beside this one cause) is repeated, up to
// three times; any other failure fails the test.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	for attempt := 1; ; attempt++ {
		if !b.navigate(url) || attempt == 3 {
			return
		}
		b.t.Logf("%s: the host's network changed during the load; loading it again", url)
	}
}

// navigate loads url once and reports whether the host's network changed
// during the load.
func (b *Browser) navigate(url string) (changed bool) {
	b.t.Helper()
	for len(b.loaded) > 0 {
		<-b.loaded
	}
	b.mu.Lock()
	b.netChanged = false
	b.mu.Unlock()
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	b.Call("Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText == errNetworkChanged {
		return true
	}
	if nav.ErrorText != "" {
		b.t.Fatalf("navigate to %s: %s", url, nav.ErrorText)
	}
	select {
	case <-b.loaded:
	case <-time.After(30 * time.Second):
		b.t.Fatalf("%s did not load in 30 s", url)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.netChanged
}

// Follow evaluates expr, which makes the page navigate (a click on a
// submit button, say), and waits for the next page's load event.
func (b *Browser) Follow(expr string) {
	b.t.Helper()
	for len(b.loaded) > 0 {
		<-b.loaded
	}
	b.mu.Lock()
	b.netChanged = false
	b.mu.Unlock()
	var ignored any
	b.Eval(expr, &ignored)
	select {
	case <-b.loaded:
	case <-time.After(30 * time.Second):
		b.t.Fatalf("no page loaded after %s", expr)
	}
	b.mu.Lock()
	changed := b.netChanged
	b.mu.Unlock()
	if changed {
		b.t.Fatalf("the host's network changed while %s loaded its page (another test's namespace); a submission is not repeated", expr)
	}
}

// SetCookie gives the browser a cookie for url (a session signed in
// elsewhere).
func (b *Browser) SetCookie(url, name, value string) {
	b.t.Helper()
	var r struct {
		Success bool `json:"success"`
	}
	b.Call("Network.setCookie", map[string]any{"url": url, "name": name, "value": value, "path": "/",
		"secure": true, "httpOnly": true, "sameSite": "Strict"}, &r)
}

// Eval evaluates a JavaScript expression in the page (DevTools' own
// evaluation, which the page's policy does not govern) and decodes its
// value into out.
func (b *Browser) Eval(expr string, out any) {
	b.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	b.Call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("evaluate %q: %s", expr, r.ExceptionDetails.Text)
	}
	if len(r.Result.Value) == 0 {
		r.Result.Value = json.RawMessage("null") // undefined
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		b.t.Fatalf("evaluate %q: %v (%s)", expr, err, r.Result.Value)
	}
}

// Screenshot returns a PNG of the whole page, as wide as the window.
func (b *Browser) Screenshot() []byte {
	b.t.Helper()
	var m struct {
		CSSContentSize struct {
			Width, Height float64
		} `json:"cssContentSize"`
		CSSLayoutViewport struct {
			ClientWidth int `json:"clientWidth"`
		} `json:"cssLayoutViewport"`
	}
	b.Call("Page.getLayoutMetrics", nil, &m)
	var shot struct {
		Data string `json:"data"`
	}
	b.Call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.CSSLayoutViewport.ClientWidth, "height": m.CSSContentSize.Height, "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return png
}

// Problems returns what the browser reported since the last call: policy
// violations, failed loads, errors and warnings.
func (b *Browser) Problems() []string {
	time.Sleep(100 * time.Millisecond) // reports trail the load event a little
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// Log returns Chromium's own output, for a failing test's message.
func (b *Browser) Log() string {
	out, _ := os.ReadFile(filepath.Join(b.profile, "chromium.log"))
	return string(out)
}
