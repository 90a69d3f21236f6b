package console

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every answer carries the security headers; the stylesheet is a file and
// the health answer without sign-in says only that the console is up.
func TestSecurityHeaders(t *testing.T) {
	ts, _, _, _ := startConsole(t)
	c := client(t)
	for _, p := range []string{"/login", "/api/v1/health", "/static/console.css", "/", "/nowhere", "/monitor/devices"} {
		resp, err := c.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("Content-Security-Policy") != ContentSecurityPolicy || h.Get("Referrer-Policy") != "same-origin" ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "script-src", "*"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("the policy allows %s", bad)
		}
	}
	resp, _ := c.Get(ts.URL + "/static/console.css")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(string(b), "--primary: #296ff6") {
		t.Fatalf("stylesheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// The sign-in page names no account and no file path.
func TestSignInPageNamesNothing(t *testing.T) {
	ts, _, _, _ := startConsole(t)
	resp, err := client(t).Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, name := range UserNames {
		if strings.Contains(strings.ToLower(page), name) {
			t.Errorf("the sign-in page names the account %q", name)
		}
	}
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " ") // the words, not the markup's own URLs
	if p := regexp.MustCompile(`(^|\s)/[a-z]+/`).FindString(text); p != "" || strings.Contains(page, "initial-passwords") || strings.Contains(page, "sensor-01") {
		t.Errorf("the sign-in page names a path or the sensor: %q\n%s", p, page)
	}
}

// Changing the password asks for the current one (a wrong one changes
// nothing) and ends every other session of the user, not this one.
func TestPasswordChange(t *testing.T) {
	ts, _, clk, init := startConsole(t)
	c1, c2 := client(t), client(t)
	for _, c := range []*http.Client{c1, c2} {
		c.PostForm(ts.URL+"/login", url.Values{"user": {"admin"}, "password": {init["admin"]}})
	}
	change := func(c *http.Client, cur, pw string) int {
		resp, err := c.PostForm(ts.URL+"/password", url.Values{"current": {cur}, "new": {pw}, "confirm": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := change(c1, "Not-The-0ne!", "N3w-Secret!"); code != http.StatusUnauthorized {
		t.Fatalf("wrong current password: %d", code)
	}
	clk.add(time.Minute)
	if code := change(c1, init["admin"], "N3w-Secret!"); code != http.StatusSeeOther {
		t.Fatalf("password change: %d", code)
	}
	if resp, _ := c1.Get(ts.URL + "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the changing session ended: %d", resp.StatusCode)
	}
	if resp, _ := c2.Get(ts.URL + "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("the other session still works: %d", resp.StatusCode)
	}
	// HTTP Basic cannot change a password.
	req, _ := http.NewRequest("POST", ts.URL+"/password", strings.NewReader(url.Values{"current": {"N3w-Secret!"}, "new": {"Other-Secret-2"}, "confirm": {"Other-Secret-2"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("admin", "N3w-Secret!")
	if resp, _ := client(t).Do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("password change with Basic: %d", resp.StatusCode)
	}
}

// Connections beyond the per-address cap are closed at once; another
// address still gets in.
func TestConnectionCap(t *testing.T) {
	_, s, _, _ := startConsole(t)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	go hs.Serve(s.Listener(raw))
	t.Cleanup(func() { hs.Close() })
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	closed := 0
	for range MaxConnsPerSource + 10 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	results := make(chan bool, len(held))
	for _, c := range held {
		go func() {
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			results <- err != nil && !isTimeout(err)
		}()
	}
	for range held {
		if <-results {
			closed++
		}
	}
	if closed != 10 {
		t.Fatalf("%d connections closed at once, want 10", closed)
	}
	resp, err := client(t).Get("https://" + raw.Addr().String() + "/api/v1/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("another address: %v %v", err, resp)
	}
	resp.Body.Close()
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// The overview lists the components as sanity does (DOWN when one is) and
// the SSH host keys; the monitoring pages say when monitoring is off, an
// unknown page is a framed 404, and every page has the sensor's name and
// generation in its header.
func TestOverviewAndFrame(t *testing.T) {
	ts, s, _, init := startConsole(t)
	s.Components = func(context.Context) ([]Component, error) {
		return []Component{{"console", true, "HTTPS on :443"}, {"capture", false, "eth1: no such interface"}}, nil
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k.pub"), []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test\n"), 0o644)
	hk, err := ReadHostKey(filepath.Join(dir, "k.pub"), "OpenSSH")
	if err != nil || hk.Type != "ED25519" || !strings.HasPrefix(hk.Fingerprint, "SHA256:") {
		t.Fatalf("host key: %+v %v", hk, err)
	}
	s.HostKeys = func() []HostKey { return []HostKey{hk} }
	c := client(t)
	c.PostForm(ts.URL+"/login", url.Values{"user": {"admin"}, "password": {init["admin"]}})
	c.PostForm(ts.URL+"/password", url.Values{"current": {init["admin"]}, "new": {"N3w-Secret!"}, "confirm": {"N3w-Secret!"}})
	get := func(p string) (int, string) {
		resp, err := c.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	code, body := get("/")
	for _, want := range []string{"eth1: no such interface", `<span class="badge down">DOWN</span>`, "System is DOWN", strings.ReplaceAll(hk.Fingerprint, "+", "&#43;"), "OpenSSH",
		`aria-current="page"`, `<span class="sensor">sensor-01</span>`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("overview lacks %q (%d)", want, code)
		}
	}
	for p, want := range map[string]string{"/monitor/devices": "Monitoring is not running", "/monitor/operations": "Monitoring is not running",
		"/monitor/nothing": "There is no page at", "/elsewhere": "There is no page at"} {
		code, body := get(p)
		if !strings.Contains(body, want) || !strings.Contains(body, `<span class="sensor">sensor-01</span>`) {
			t.Errorf("%s: %d lacks %q", p, code, want)
		}
		if want == "There is no page at" && code != http.StatusNotFound {
			t.Errorf("%s: %d", p, code)
		}
	}
}
