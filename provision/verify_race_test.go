package provision

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A console that still serves its previous certificate when verify starts
// and switches a moment later (the daemon's next reload): verify retries
// until the pinned one is served, and on failure names the last served.
func TestVerifyConsoleRetriesUntilSwitch(t *testing.T) {
	t.Parallel()
	oldCert := selfSigned(t, "old.console.test")
	newCert := selfSigned(t, "new.console.test")
	var cur atomic.Pointer[tls.Certificate]
	cur.Store(oldCert)
	var fp atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"status":"ok","sensor_name":"s1","activated":true,"generation":2,"certificate_fingerprint_sha256":%q}`, fp.Load())
	}))
	srv.TLS = &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cur.Load(), nil }}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	srv.TLS.Certificates = nil // httptest's own; the listener shares this config
	fpOf := func(c *tls.Certificate) string { s := sha256.Sum256(c.Certificate[0]); return hex.EncodeToString(s[:]) }
	fp.Store(fpOf(oldCert))
	addr := strings.TrimPrefix(srv.URL, "https://")
	go func() {
		time.Sleep(300 * time.Millisecond)
		fp.Store(fpOf(newCert))
		cur.Store(newCert)
	}()
	served, err := VerifyConsole(context.Background(), addr, fpOf(newCert), 5*time.Second, 20*time.Millisecond)
	if err != nil || served != fpOf(newCert) {
		t.Fatalf("switch after 300ms: served %s, err %v", served, err)
	}
	// Never switches: a VerifyError after the wait naming the served one.
	cur.Store(oldCert)
	start := time.Now()
	served, err = VerifyConsole(context.Background(), addr, fpOf(newCert), 300*time.Millisecond, 20*time.Millisecond)
	var ve *VerifyError
	if !errors.As(err, &ve) || served != fpOf(oldCert) || !strings.Contains(err.Error(), fpOf(oldCert)) || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("never switches: served %s after %v, err %v", served, time.Since(start), err)
	}
}

func selfSigned(t testing.TB, name string) *tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}
