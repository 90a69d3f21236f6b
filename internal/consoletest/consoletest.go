// Package consoletest is what tests of the sensor's HTTPS console share: a
// client that connects from a chosen loopback address, so one test can be
// an attacker at one address and the administrator at another, and the
// console's first-start passwords.
package consoletest

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// From is a console client whose connections come from src, an address of
// 127.0.0.0/8 (every one reaches a console listening on 127.0.0.1): a
// browser at another address, as far as the console can tell. It keeps
// cookies, does not follow redirects, and accepts the console's
// certificate whatever it is (tests pin it where it matters).
func From(src string) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// InitialPasswords reads the console's first-start passwords from a
// sensor's root (etc/sensorcore/console-initial-passwords): account to
// password.
func InitialPasswords(t testing.TB, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc", "sensorcore", "console-initial-passwords"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			out[f[0]] = f[1]
		}
	}
	return out
}
