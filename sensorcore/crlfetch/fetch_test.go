package crlfetch

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/netconf"
)

// forwardingProxy is a real HTTP forwarding proxy on loopback: it takes
// absolute-form requests, checks Basic proxy credentials and forwards them.
type forwardingProxy struct {
	user, pass string
	seen       atomic.Int32
}

func (p *forwardingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
	if r.Header.Get("Proxy-Authorization") != want {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		http.Error(w, "proxy auth required", http.StatusProxyAuthRequired)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "not a proxy request", http.StatusBadRequest)
		return
	}
	p.seen.Add(1)
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
	resp, err := http.DefaultTransport.(*http.Transport).Clone().RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func serve(t *testing.T, h http.Handler) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return host, p
}

func TestFetchThroughProxy(t *testing.T) {
	crl := []byte("-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n")
	var direct atomic.Int32
	h, port := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		direct.Add(1)
		w.Write(crl)
	}))
	crlURL := "http://" + net.JoinHostPort(h, strconv.Itoa(port)) + "/ca.crl"
	px := &forwardingProxy{user: "u", pass: "p@ss"}
	ph, pport := serve(t, px)
	proxy := netconf.Proxy{Enabled: true, Host: ph, Port: pport, Username: "u", Password: "p@ss"}

	got, err := Fetch(context.Background(), crlURL, Options{Proxy: proxy, Timeout: time.Second})
	if err != nil || string(got) != string(crl) {
		t.Fatalf("through proxy: %q %v", got, err)
	}
	if px.seen.Load() != 1 {
		t.Fatalf("proxy saw %d requests, want 1", px.seen.Load())
	}
	// Wrong proxy password: 407 each attempt, reported as unreachable.
	bad := proxy
	bad.Password = "wrong"
	_, err = Fetch(context.Background(), crlURL, Options{Proxy: bad, Timeout: time.Second, Retries: 1})
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Attempts != 2 || !strings.Contains(err.Error(), "407") {
		t.Fatalf("bad proxy password: %v", err)
	}
}

func TestFetchUnreachable(t *testing.T) {
	// A listener that is closed: connection refused on loopback.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := Fetch(context.Background(), "http://"+addr+"/x.crl", Options{Timeout: 500 * time.Millisecond, Retries: 1})
	if err == nil || !strings.HasPrefix(err.Error(), Unreachable) {
		t.Fatalf("got %v", err)
	}
	// A server that never answers: the timeout bounds the wait.
	hang, _ := net.Listen("tcp", "127.0.0.1:0")
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Fetch(context.Background(), "http://"+hang.Addr().String()+"/x.crl", Options{Timeout: 300 * time.Millisecond, Retries: 1})
	if el := time.Since(start); err == nil || el > 3*time.Second {
		t.Fatalf("hang: %v after %v", err, el)
	}
	if _, err := Fetch(context.Background(), "https://127.0.0.1/x.crl", Options{}); err == nil || !strings.Contains(err.Error(), "http://") {
		t.Fatalf("https accepted: %v", err)
	}
}
