package provision_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// proxyClient writes a client certificate valid from notBefore to notAfter
// and its key (PEM) into dir and returns their paths.
func proxyClient(t *testing.T, dir, name string, notBefore, notAfter time.Time) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sensor proxy client"},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, &x509.Certificate{SerialNumber: big.NewInt(7),
		Subject: pkix.Name{CommonName: "sensor proxy client"}}, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	c, key := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	os.WriteFile(c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return c, key
}

// TestProxyClientCertificate: the client certificate a sensor shows a
// proxy that inspects TLS comes from the proxy_cert and proxy_key columns
// (with a proxy, both or neither), is checked offline (readable, its own
// key, valid now), and travels in the bundle as proxy-client.crt and an
// unencrypted proxy-client.key, with settings.json's client_cert set.
func TestProxyClientCertificate(t *testing.T) {
	t.Parallel()
	ex, _ := filepath.Abs("../examples/site-a")
	dir := t.TempDir()
	now := exampleNow(t) // the committed example activation is checked too
	crt, key := proxyClient(t, dir, "proxy-client", now.Add(-time.Hour), now.AddDate(1, 0, 0))
	_, otherKey := proxyClient(t, dir, "other", now.Add(-time.Hour), now.AddDate(1, 0, 0))
	oldCrt, oldKey := proxyClient(t, dir, "old", now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0))
	csv := "sensor,address,ssh_user,auth,key_file,activation,cert,key,chain,new_ip,new_mask,new_hostname,proxy,proxy_cert,proxy_key\n" +
		fmt.Sprintf("sensor-01,198.18.0.1,root,key,/nonexistent/key,%[1]s/activation/sensor-01.tapact,%[1]s/certs/sensor-01.crt,%[1]s/certs/sensor-01.key,%[1]s/certs/chain.pem,192.0.2.111,24,sensor-01.plant.example,http://192.0.2.8:3128,proxy-client.crt,proxy-client.key\n", ex)
	p := filepath.Join(dir, "site.csv")
	os.WriteFile(p, []byte(csv), 0o600)
	inv, err := provision.ReadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	row := inv.Rows[0]
	if row.ProxyCert != crt || row.ProxyKey != key {
		t.Fatalf("columns: %q %q", row.ProxyCert, row.ProxyKey)
	}
	s, err := row.Settings()
	if err != nil || !s.Proxy.ClientCert {
		t.Fatalf("settings: %v %+v", err, s.Proxy)
	}
	for name, r := range map[string]provision.Row{
		"certificate without its key": func() provision.Row { r := row; r.ProxyKey = ""; return r }(),
		"no proxy":                    func() provision.Row { r := row; r.Proxy = ""; return r }(),
	} {
		var fe *netconf.FieldError
		if _, err := r.Settings(); !errors.As(err, &fe) || fe.Field != "proxy.client_cert" {
			t.Errorf("%s: %v", name, err)
		}
	}

	check := provision.CheckOptions{Now: now, ActivationRoots: mustRoots(t, exampleRootPub)}
	codesOf := func(r provision.Row) map[string]bool {
		out := map[string]bool{}
		for _, f := range provision.Check(&provision.Inventory{Path: p, Rows: []provision.Row{r}}, check).Rows[0].Findings {
			out[f.Code] = true
		}
		return out
	}
	if c := codesOf(row); c[provision.CodeProxyClient] || c[provision.CodeUnreadable] {
		t.Fatalf("a good client certificate: %v", c)
	}
	for name, c := range map[string]struct {
		crt, key, code string
	}{
		"another key":  {crt, otherKey, provision.CodeProxyClient},
		"expired":      {oldCrt, oldKey, provision.CodeProxyClient},
		"missing file": {filepath.Join(dir, "nope.crt"), key, provision.CodeUnreadable},
		"not a cert":   {key, key, provision.CodeProxyClient},
	} {
		r := row
		r.ProxyCert, r.ProxyKey = c.crt, c.key
		if got := codesOf(r); !got[c.code] {
			t.Errorf("%s: %v, want %s", name, got, c.code)
		}
		if _, err := (&provision.Session{Check: check}).Prepare(context.Background(), r); err == nil {
			t.Errorf("%s: a bundle was built", name)
		}
	}

	pr, err := (&provision.Session{Check: check}).Prepare(context.Background(), row)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.ReadArchive(bytes.NewReader(pr.Bundle.Archive))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Settings.Proxy.ClientCert {
		t.Error("settings.json: client_cert not set")
	}
	cs, err := certs.ParseCertificates(b.File(bundle.RoleProxyClientCert))
	if err != nil || len(cs) != 1 {
		t.Fatalf("proxy-client.crt: %v", err)
	}
	k, err := certs.ParsePrivateKey(b.File(bundle.RoleProxyClientKey), nil)
	if err != nil || !certs.KeyMatches(k, cs[0]) {
		t.Fatalf("proxy-client.key: %v", err)
	}
}
