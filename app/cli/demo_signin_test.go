package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/app/demo"
)

// The console sign-in the demo prints works: admin with the printed
// password signs in to sensor-01's console, which then asks for a new
// password (first sign-in), as the README says.
func TestDemoConsoleSignIn(t *testing.T) {
	f, err := demo.Start(context.Background(), demo.Options{Dir: filepath.Join(t.TempDir(), "demo"), Sensorcore: sensorcoreForDemo(t), Sensors: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop() })
	var out bytes.Buffer
	f.Describe(&out)
	m := regexp.MustCompile(`(?m)^  sensor-01 +https://(\S+) +admin / (\S+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the demo does not print sensor-01's console sign-in:\n%s", out.String())
	}
	addr, pw := m[1], m[2]
	c := &http.Client{Timeout: 10 * time.Second,
		// The demo console's certificate is the sensor's own (loopback only).
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(password string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/login", strings.NewReader(url.Values{"user": {"admin"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://"+addr)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := signIn(pw); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
		t.Fatalf("signing in with the printed password: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp := signIn("Demo.Sensor-1"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the old README password signs in")
	}
}
