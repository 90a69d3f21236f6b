package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMonitorProxyStripsCredentials: the console's requests reach the
// monitoring engine without the user's cookie, password or forwarding
// headers, and the engine's answer reaches the browser with nothing but a
// content type (script types refused), a relative redirect and the
// console's own security headers: an engine taken over through a parser
// bug gets no credentials and cannot set cookies, scripts or frames on
// the console's origin.
func TestMonitorProxyStripsCredentials(t *testing.T) {
	e, err := NewEngine(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.NewMonitorSupervisor(MonitorOptions{Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan http.Header, 1)
	engine := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		h := w.Header()
		h.Set("Set-Cookie", "tapline_session=stolen; Path=/")
		h.Set("Content-Type", "text/javascript")
		h.Set("Location", "https://attacker.example/")
		h.Set("Content-Security-Policy", "script-src *")
		h.Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "alert(1)")
	})}
	go engine.Serve(s.ln)
	defer engine.Close()
	s.mu.Lock()
	s.st.Running, s.st.PID, s.answered = true, 1, time.Now()
	s.mu.Unlock()

	req := httptest.NewRequest(http.MethodGet, "/devices", nil)
	req.Header.Set("Cookie", "tapline_session=secret")
	req.Header.Set("Authorization", "Basic YWRtaW46U2VjcmV0LTE=")
	req.Header.Set("X-Forwarded-For", "192.0.2.7")
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	in := <-got
	for _, k := range []string{"Cookie", "Authorization", "X-Forwarded-For", "X-Forwarded-Host"} {
		if in.Get(k) != "" {
			t.Errorf("the engine received %s: %q", k, in.Get(k))
		}
	}
	if in.Get("Accept") != "text/html" {
		t.Errorf("Accept not passed on: %v", in)
	}
	out := rec.Result().Header
	if out.Get("Set-Cookie") != "" || out.Get("Location") != "" || out.Get("Content-Security-Policy") != "" || out.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the engine's headers reached the browser: %v", out)
	}
	if ct := out.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || out.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("content type %q, nosniff %q", ct, out.Get("X-Content-Type-Options"))
	}

	// Down: a page saying so, without asking the engine.
	s.mu.Lock()
	s.st.Running, s.st.Restarts, s.st.LastFault = false, 2, "killed by SIGKILL"
	s.mu.Unlock()
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/devices", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Capture restarted 2 times") ||
		!strings.Contains(rec.Body.String(), "killed by SIGKILL") {
		t.Fatalf("engine down: %d %s", rec.Code, rec.Body)
	}
	select {
	case h := <-got:
		t.Fatalf("the engine was asked while down: %v", h)
	default:
	}
}

// TestFaultLine: the fault named is the crash line of a Go panic or
// runtime dump, not the last line of its stack trace.
func TestFaultLine(t *testing.T) {
	var f faultTail
	for _, l := range []string{"monitor-engine: warning: no manuf", "panic: runtime error: slice bounds out of range [:-2147483648]", "",
		"goroutine 7 [running]:", "github.com/tapline/tapline/sensorcore/decode.(*Stream).Add(...)", "\t/src/decode/stream.go:88 +0x1d"} {
		f.add(l)
	}
	if got := f.fault(); got != "panic: runtime error: slice bounds out of range [:-2147483648]" {
		t.Fatalf("fault %q", got)
	}
	var g faultTail
	g.add("monitor-engine: capture eth9: no such interface")
	if got := g.fault(); got != "monitor-engine: capture eth9: no such interface" {
		t.Fatalf("fault %q", got)
	}
}

// TestSupervisorRestarts: an engine that floods its output and dies is
// started again with backoff, its fault named by its panic line (not the
// last line of its dump), and serve's log gets a bounded share of its
// output.
func TestSupervisorRestarts(t *testing.T) {
	dir := t.TempDir()
	// The engine's user (nobody, under root) must reach and run the script.
	for p := dir; strings.HasPrefix(p, os.TempDir()+"/"); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	exe := filepath.Join(dir, "engine")
	os.WriteFile(exe, []byte("#!/bin/sh\necho 'panic: index out of range [3] with length 3'\ni=0\nwhile [ $i -lt 500 ]; do echo \"goroutine $i [running]:\"; i=$((i+1)); done\nexit 2\n"), 0o755)
	e, err := NewEngine(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logged []string
	s, err := e.NewMonitorSupervisor(MonitorOptions{Interfaces: []string{"lo"}, Exe: exe, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Log: func(f string, a ...any) { mu.Lock(); logged = append(logged, fmt.Sprintf(f, a...)); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.State().Restarts < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	st := s.State()
	if st.Restarts < 3 || st.LastFault != "exited with status 2: panic: index out of range [3] with length 3" {
		t.Fatalf("state %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	output, cut := 0, false
	for _, l := range logged {
		if strings.HasPrefix(l, "monitor: goroutine") || strings.HasPrefix(l, "monitor: panic") {
			output++
		}
		cut = cut || strings.Contains(l, "lines of the engine's output were not logged")
	}
	if !cut || output > (st.Restarts+1)*logBurst {
		t.Fatalf("%d output lines logged over %d runs, cut noted %v", output, st.Restarts+1, cut)
	}
}
