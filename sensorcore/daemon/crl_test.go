package daemon

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// crlServer serves the CA's current CRL over plain HTTP on loopback.
type crlServer struct {
	mu  sync.Mutex
	crl []byte
}

func (c *crlServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.Write(c.crl)
}

// proxy is a real forwarding HTTP proxy on loopback.
type proxy struct{ seen atomic.Int32 }

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !r.URL.IsAbs() {
		http.Error(w, "not a proxy request", http.StatusBadRequest)
		return
	}
	p.seen.Add(1)
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
	resp, err := (&http.Transport{}).RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func listen(t *testing.T, h http.Handler) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln
}

func TestApplyFetchesCRLThroughProxy(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	cs := &crlServer{}
	cln := listen(t, cs)
	k := testkit.New(t, now, "http://"+cln.Addr().String()+"/ca.crl")
	crl, err := k.CA.CRL(now, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs.crl = crl
	px := &proxy{}
	pln := listen(t, px)
	pp := pln.Addr().(*net.TCPAddr).Port
	viaProxy := netconf.Proxy{Enabled: true, Host: "127.0.0.1", Port: pp}
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	ctx := context.Background()

	// The bundle carries the root's CRL, for the issuing CA (which names no
	// distribution point); the sensor certificate's is fetched.
	root := k.RootCRL(t)
	b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", CertValidation: true, Proxy: viaProxy, CRL: root})
	res, err := e.Apply(ctx, ApplyOptions{Path: b.Archive})
	if err != nil || !res.OK {
		t.Fatalf("apply: %v %+v", err, res.Findings)
	}
	if px.seen.Load() != 1 {
		t.Fatalf("the proxy forwarded %d requests, want 1", px.seen.Load())
	}
	if got, _ := os.ReadFile(filepath.Join(e.Layout.Store().Path(res.Generation), "crls-fetched.pem")); string(got) != string(crl) {
		t.Fatal("the fetched CRL was not kept with the generation")
	}

	// Revoked: the fetched CRL lists the certificate.
	rev := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", CertValidation: true, Proxy: viaProxy, CRL: root})
	if err := k.CA.Revoke(rev.Serial, 1, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	crl2, _ := k.CA.CRL(now, 0, nil)
	cs.mu.Lock()
	cs.crl = crl2
	cs.mu.Unlock()
	var r *Refusal
	if _, err := e.Apply(ctx, ApplyOptions{Path: rev.Archive}); !errors.As(err, &r) || r.Code != "TL-CERT-025" {
		t.Fatalf("revoked certificate: %v", err)
	}

	// Unreachable: the CRL server is gone.
	cln.Close()
	b3 := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", CertValidation: true, Proxy: viaProxy, CRL: root})
	before, _ := testkit.TreeHash(e.Layout.Root)
	_, err = e.Apply(ctx, ApplyOptions{Path: b3.Archive})
	if !errors.As(err, &r) || r.Code != CodeCRLUnreachable ||
		!strings.Contains(err.Error(), "The CRL (Certificate Revocation List) location is not reachable. Verify the URL can be accessed from this appliance") {
		t.Fatalf("unreachable: %v", err)
	}
	if after, _ := testkit.TreeHash(e.Layout.Root); after != before {
		t.Fatal("a refused bundle changed the tree")
	}
}
