package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/console"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// TestSlowRequests: fifty connections from one address that send a
// request slowly, half the header and half a POST body one byte every two
// seconds (before: they stayed open forever). Beyond sixteen from that
// address they are closed at once; the rest are closed by the header and
// request timeouts; the console answers another address meanwhile.
func TestSlowRequests(t *testing.T) {
	t.Parallel() // after the latency tests, which run alone, beside the other parallel ones
	k := testkit.New(t, time.Now().UTC(), "")
	root := t.TempDir()
	d := startServe(t, root, k.RootFile)
	addr := d.run.Console
	type result struct {
		body   bool          // trickled a body (else a header)
		shaken bool          // the TLS handshake completed
		open   time.Duration // how long the console kept it
	}
	results := make(chan result, 50)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := result{body: i%2 == 0}
			defer func() { r.open = time.Since(start); results <- r }()
			dl := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
			raw, err := dl.Dial("tcp", addr)
			if err != nil {
				return
			}
			c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if c.Handshake() != nil {
				return
			}
			r.shaken = true
			c.SetDeadline(time.Now().Add(60 * time.Second))
			head := "POST /login HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
			if !r.body {
				head = head[:20] // the rest of the header never comes
			}
			if _, err := io.WriteString(c, head); err != nil {
				return
			}
			go io.Copy(io.Discard, c) // a 408 or a close ends the writes below
			for {
				time.Sleep(2 * time.Second)
				if _, err := io.WriteString(c, "a"); err != nil {
					return
				}
			}
		}()
	}
	// Meanwhile, another address signs in at once.
	time.Sleep(time.Second)
	other := consoleFrom("127.0.0.3")
	t0 := time.Now()
	resp, err := other.Get("https://" + addr + "/login")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the console for another address during the attack: %v %v", err, resp)
	}
	resp.Body.Close()
	if dt := time.Since(t0); dt > 3*time.Second {
		t.Errorf("the sign-in page took %v during the attack", dt)
	}
	wg.Wait()
	close(results)
	kept := 0
	for r := range results {
		if !r.shaken {
			if r.open > 6*time.Second {
				t.Errorf("a connection beyond the cap lingered %v", r.open)
			}
			continue
		}
		kept++
		limit := console.ReadTimeout
		if !r.body {
			limit = console.ReadHeaderTimeout
		}
		if r.open > limit+5*time.Second {
			t.Errorf("a slow %s was kept open %v (limit %v)", map[bool]string{true: "body", false: "header"}[r.body], r.open, limit)
		}
	}
	if kept != console.MaxConnsPerSource {
		t.Errorf("%d slow connections got through the handshake, want the per-address cap %d", kept, console.MaxConnsPerSource)
	}
}

// inlineCode finds what a Content-Security-Policy without 'unsafe-inline'
// refuses: style elements and attributes, script elements, event handler
// attributes and javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)<style|<script|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)

// TestPagesHaveNoInlineCode walks every page of a running console, signed
// in, and finds no inline style or script: the CSP forbids both, so any
// would be a broken page. The same walk in a real browser is
// TestConsoleInChromium.
func TestPagesHaveNoInlineCode(t *testing.T) {
	t.Parallel() // after the latency tests, which run alone, beside the other parallel ones
	_, _, base := serveWithAdmin(t)
	c := consoleFrom("127.0.0.3")
	if code, body, _ := postLogin(t, c, base, "admin", adminPassword); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	pages := []string{"/", "/password", "/monitor/devices", "/monitor/alerts", "/monitor/operations", "/no-such-page"}
	anon := consoleFrom("127.0.0.4")
	for _, p := range append(pages, "/login") {
		cl := c
		if p == "/login" {
			cl = anon
		}
		resp, err := cl.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		if m := inlineCode.FindString(string(b)); m != "" {
			t.Errorf("%s has inline code %q", p, m)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != console.ContentSecurityPolicy {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if !strings.Contains(string(b), `href="/static/console.css"`) {
			t.Errorf("%s does not use the stylesheet", p)
		}
	}
}
