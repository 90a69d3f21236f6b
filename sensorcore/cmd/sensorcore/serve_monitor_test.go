package main

import (
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// TestServeMonitor: serve --monitor lo mounts the monitoring pages behind
// sign-in and adds the capture line to sanity.
func TestServeMonitor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to capture on the loopback interface (AF_PACKET)")
	}
	k := testkit.New(t, time.Now().UTC(), "")
	root := t.TempDir()
	d := startServe(t, root, k.RootFile, "--monitor", "lo", "--manuf", "/nonexistent")
	base := "https://" + d.run.Console
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get(base + "/monitor/devices")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("monitor pages reachable without sign-in: %s", resp.Request.URL)
	}
	b, err := os.ReadFile(filepath.Join(daemon.Layout{Root: root}.Etc(), "console-initial-passwords"))
	if err != nil {
		t.Fatal(err)
	}
	var pw string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "admin" {
			pw = f[1]
		}
	}
	if resp, err = c.PostForm(base+"/login", url.Values{"user": {"admin"}, "password": {pw}}); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = c.PostForm(base+"/password", url.Values{"new": {"M0nitor-Pass"}, "confirm": {"M0nitor-Pass"}}); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + "/monitor/devices")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/monitor/devices" {
		t.Fatalf("devices page: %v %v", err, resp)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	out := ""
	for time.Now().Before(deadline) {
		out, _ = cli(t, nil, "sanity", "--root", root, "--trust-root", k.RootFile)
		if strings.Contains(out, "capture ") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "capture      UP    capture: 1 interfaces") {
		t.Fatalf("sanity lacks the capture line: %s\n%s", out, d.log)
	}
}
