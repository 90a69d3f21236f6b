package console

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapline/tapline/sensorcore/signin"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestCheckPassword(t *testing.T) {
	for p, ok := range map[string]bool{"Sh0rt!": false, "alllower1!": false, "ALLUPPER1!": false, "NoDigits!!": false,
		"NoSymbol12": false, "Go0d-Pass": true, "Ünïcode1€x": true} {
		if err := CheckPassword(p); (err == nil) != ok {
			t.Errorf("%q: %v", p, err)
		}
	}
}

func startConsole(t *testing.T) (*httptest.Server, *Server, *clock, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	users, err := LoadUsers(filepath.Join(dir, "users.json"), filepath.Join(dir, "initial"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "initial")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("initial passwords mode %v", fi.Mode())
	}
	init := map[string]string{}
	b, _ := os.ReadFile(filepath.Join(dir, "initial"))
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		init[f[0]] = f[1]
	}
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	cp, kp := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	if err := EnsureSelfSigned(cp, kp, "sensor-01.plant.example", clk.now()); err != nil {
		t.Fatal(err)
	}
	cb, _ := os.ReadFile(cp)
	kb, _ := os.ReadFile(kp)
	kpair, err := LoadKeyPair(cb, nil, kb)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Users: users, Now: clk.now, Log: t.Logf,
		Status: func() (Overview, error) { return map[string]any{"sensor_name": "sensor-01", "generation": 0}, nil }}
	s.SetCertificate(kpair)
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.TLS = s.TLSConfig()
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts, s, clk, init
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestFirstLoginLockoutCookies(t *testing.T) {
	ts, s, clk, init := startConsole(t)
	c := client(t)
	// Health needs no sign-in; status does.
	resp, err := c.Get(ts.URL + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if len(h) != 1 || h["status"] != "ok" {
		t.Fatalf("health without sign-in says more than that the console is up: %v", h)
	}
	if resp, _ := c.Get(ts.URL + "/api/v1/status"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status without sign-in: %d", resp.StatusCode)
	}
	// First sign-in: cookie flags, then a forced password change.
	resp, err = c.PostForm(ts.URL+"/login", url.Values{"user": {"admin"}, "password": {init["admin"]}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
		t.Fatalf("first sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	sc := resp.Header.Get("Set-Cookie")
	for _, f := range []string{CookieName + "=", "Secure", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(sc, f) {
			t.Errorf("cookie %q lacks %s", sc, f)
		}
	}
	if resp, _ := c.Get(ts.URL + "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
		t.Fatalf("overview before the change: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(ts.URL+"/password", url.Values{"current": {init["admin"]}, "new": {"weakpass"}, "confirm": {"weakpass"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("weak password accepted: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(ts.URL+"/password", url.Values{"current": {init["admin"]}, "new": {"N3w-Secret!"}, "confirm": {"N3w-Secret!"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	resp, _ = c.Get(ts.URL + "/")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<span class="sensor">sensor-01</span> <span class="gen">generation 0</span>`) || !strings.Contains(string(body), "Not activated") {
		t.Fatalf("overview: %d %s", resp.StatusCode, body)
	}
	resp, _ = c.Get(ts.URL + "/api/v1/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status signed in: %d", resp.StatusCode)
	}
	// Basic auth for tools, once the password is changed.
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/status", nil)
	req.SetBasicAuth("admin", "N3w-Secret!")
	if resp, _ := client(t).Do(req); resp.StatusCode != http.StatusOK {
		t.Fatalf("basic auth: %d", resp.StatusCode)
	}
	// Five failures from one address lock support for that address, even
	// against the right password; each failure first waits out the delay
	// the previous one set.
	c2 := client(t)
	for i := 0; i < 5; i++ {
		clk.add(signin.DefaultMaxDelay)
		resp, _ := c2.PostForm(ts.URL+"/login", url.Values{"user": {"support"}, "password": {"wrong"}})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want, code := "Wrong user name or password", http.StatusUnauthorized
		if i == 4 {
			want, code = "Account locked for 5 minutes after 5 failed sign-ins from this address", http.StatusTooManyRequests
		}
		if resp.StatusCode != code || !strings.Contains(string(b), want) {
			t.Errorf("failure %d: %d, page lacks %q: %s", i, resp.StatusCode, want, b)
		}
	}
	clk.add(signin.DefaultMaxDelay)
	var le *signin.LockedError
	if _, err := s.signIn(context.Background(), "127.0.0.1:4000", "support", init["support"]); !errors.As(err, &le) {
		t.Fatalf("after 5 failures: %v", err)
	}
	// Support at another address signs in.
	if must, err := s.signIn(context.Background(), "127.0.0.7:4000", "support", init["support"]); err != nil || !must {
		t.Fatalf("another address: %v %v", must, err)
	}
	clk.add(signin.DefaultLockFor)
	if must, err := s.signIn(context.Background(), "127.0.0.1:4000", "support", init["support"]); err != nil || !must {
		t.Fatalf("after the lock: %v %v", must, err)
	}
	// A cross-origin POST is refused.
	req, _ = http.NewRequest("POST", ts.URL+"/logout", nil)
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := c.Do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %d", resp.StatusCode)
	}
	// Idle sessions end.
	clk.add(SessionIdle + time.Minute)
	if resp, _ := c.Get(ts.URL + "/api/v1/status"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("idle session still valid: %d", resp.StatusCode)
	}
}

// TestOverviewContent: the overview shows the activation state (with the
// expiry warning), the certificate's subject, fingerprint and expiry, the
// network settings and the version, from the daemon's status object.
func TestOverviewContent(t *testing.T) {
	ts, s, _, init := startConsole(t)
	var st map[string]any
	if err := json.Unmarshal([]byte(`{"sensor_name":"sensor-01","sensor_id":"S-0001","version":"1.2.3","generation":2,
		"pending_confirmation":true,"rollback_deadline":"2026-11-21T10:32:00Z","last_rollback_reason":"",
		"activation":{"sensor_id":"S-0001","sensor_name":"sensor-01","site":"Plant A","zone":"Cell 3","mode":"locally-managed",
		  "plan_id":"OT-500","device_count":500,"issued_at":"2026-11-20T09:00:00Z","expires":"2026-12-01T00:00:00.123456Z","expired":false,"signer_key_id":"3a9f"},
		"activation_findings":[{"code":"TL-ACT-006","severity":"warning","message":"the locally managed activation file expires 2026-12-01T00:00:00Z (within 30 days)","hint":"Ask the license authority for a renewed activation file before then"}],
		"certificate":{"fingerprint_sha256":"5c8961668dbd782ae87a1c960e70b25d0bcdf0e44b6ed9593e3730cc524e976a","subject":"CN=sensor-01.plant.example,OU=OT Sensors,O=Plant,C=DE","not_after":"2027-11-21T10:30:00Z","self_signed":false},
		"network":{"interface":"eth0","address":"192.0.2.10","mask":"255.255.255.0","gateway":"192.0.2.1","dns":["192.0.2.53","192.0.2.54"],"hostname":"sensor-01.plant.example"}}`), &st); err != nil {
		t.Fatal(err)
	}
	s.Status = func() (Overview, error) { return st, nil }
	c := client(t)
	c.PostForm(ts.URL+"/login", url.Values{"user": {"admin"}, "password": {init["admin"]}})
	if resp, _ := c.PostForm(ts.URL+"/password", url.Values{"current": {init["admin"]}, "new": {"N3w-Secret!"}, "confirm": {"N3w-Secret!"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	page := func() string {
		resp, err := c.Get(ts.URL + "/")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("overview: %v %v", err, resp)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	body := page()
	for _, want := range []string{"Activated", "TL-ACT-006", "within 30 days", "Plant A / Cell 3", "locally-managed", "OT-500, 500 devices",
		"2026-12-01 00:00 UTC", "CN=sensor-01.plant.example,OU=OT Sensors,O=Plant,C=DE",
		"5c8961668dbd782ae87a1c960e70b25d0bcdf0e44b6ed9593e3730cc524e976a", "2027-11-21 10:30 UTC",
		"eth0", "192.0.2.10 / 255.255.255.0", "192.0.2.1", "192.0.2.53 192.0.2.54", "sensor-01.plant.example",
		"1.2.3", "awaiting confirmation until 2026-11-21 10:32 UTC"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	// Expired: the state says so and that monitoring continues.
	st["activation"].(map[string]any)["expired"] = true
	if body := page(); !strings.Contains(body, "Expired: monitoring continues") {
		t.Errorf("expired activation not shown: %s", body)
	}
}

// TestResetFromAnotherProcess: `sensorcore console reset` (another
// process, the same account file) gives a one-time password, ends the
// user's sessions in the running console at once, and clears its
// throttling there.
func TestResetFromAnotherProcess(t *testing.T) {
	ts, s, clk, init := startConsole(t)
	c := client(t)
	c.PostForm(ts.URL+"/login", url.Values{"user": {"admin"}, "password": {init["admin"]}})
	if resp, _ := c.PostForm(ts.URL+"/password", url.Values{"current": {init["admin"]}, "new": {"N3w-Secret!"}, "confirm": {"N3w-Secret!"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if resp, _ := c.Get(ts.URL + "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	var le *signin.LockedError
	for range 5 {
		clk.add(signin.DefaultMaxDelay)
		s.signIn(context.Background(), "127.0.0.2:1", "admin", "wrong")
	}
	clk.add(signin.DefaultMaxDelay)
	if _, err := s.signIn(context.Background(), "127.0.0.2:1", "admin", "N3w-Secret!"); !errors.As(err, &le) {
		t.Fatalf("not locked at 127.0.0.2: %v", err)
	}
	other, err := OpenUsers(s.Users.path, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := other.Reset("admin")
	if err != nil || len(pw) != 19 {
		t.Fatalf("reset: %q %v", pw, err)
	}
	if resp, _ := c.Get(ts.URL + "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("session after the reset: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	must, err := s.signIn(context.Background(), "127.0.0.2:1", "admin", pw)
	if err != nil || !must {
		t.Fatalf("one-time password from the formerly locked address: %v %v", must, err)
	}
	if _, err := other.Reset("root"); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("reset of another name: %v", err)
	}
	// The hard lock: recorded in the file, ended by unlock from elsewhere.
	if err := s.Users.HardLock("support", clk.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.signIn(context.Background(), "127.0.0.3:1", "support", init["support"]); !errors.As(err, &le) || !le.Everywhere {
		t.Fatalf("hard-locked support: %v", err)
	}
	if was, err := other.Unlock("support", clk.now()); err != nil || !was {
		t.Fatalf("unlock: %v %v", was, err)
	}
	if _, err := s.signIn(context.Background(), "127.0.0.3:1", "support", init["support"]); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if fi, _ := os.Stat(s.Users.path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("account file mode %v", fi.Mode())
	}
}

func TestEventLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "accounts.log")
	l := &EventLog{Path: p, Now: func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }}
	l.Record("reset", "admin reset\nby someone %s", "x\x1b[31m")
	if got := l.Tail(5); len(got) != 1 || got[0] != "2026-11-21T12:00:00Z reset: admin reset by someone x [31m" {
		t.Fatalf("tail: %q", got)
	}
	for range MaxEventLog / 40 {
		l.Record("unlock", "support unlocked at the appliance by root")
	}
	if _, err := os.Stat(p + ".1"); err != nil {
		t.Fatalf("not rotated: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Size() > MaxEventLog || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log %d bytes, mode %v", fi.Size(), fi.Mode())
	}
}
