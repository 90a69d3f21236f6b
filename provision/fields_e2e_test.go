package provision_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/bundle"
)

// TestPushRowFields: the fields the wizard and the CSV gained, through a
// real bundle and a real sensorcore: the sensor's self-signed certificate
// kept (verify pins what apply reports), then a CA certificate with a CRL
// file, certificate validation, a certificate name and a proxy password;
// a CRL revoking the certificate refuses the row before anything is sent.
func TestPushRowFields(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	ctx := context.Background()
	before := status(t, l)
	if !before.Certificate.SelfSigned || before.Certificate.FingerprintSHA256 == "" {
		t.Fatalf("a fresh sensor serves its self-signed certificate: %+v", before.Certificate)
	}
	l.kit.CRLDP = "http://crl.plant.example/ca.crl"
	f := l.kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	prepare := func(row provision.Row, sec provision.Secrets) (provision.Prepared, error) {
		s := &provision.Session{Secrets: sec, Check: provision.CheckOptions{ActivationRoots: mustRoots(t, l.kit.RootPub)}}
		pr, err := s.Prepare(ctx, row)
		pr.Target.Addr, pr.Target.NewAddr = l.sshAddr, ""
		return pr, err
	}

	// 1. cert_source self-signed, with a certificate name.
	row := provision.Row{Line: 2, Sensor: "sensor-01", Address: "127.0.0.1", User: "provision", Auth: provision.AuthKey,
		KeyFile: l.key, Interface: "eth0", NewIP: "198.18.0.10", NewMask: "24", NewHostname: "sensor-01.plant.example",
		Activation: f.Activation, CertSource: provision.CertSelfSigned, CertName: "lab self-signed", ConsolePort: l.console}
	p1, err := prepare(row, provision.Secrets{})
	if err != nil || !p1.Bundle.KeepCertificate || p1.Bundle.CertFingerprint != "" {
		t.Fatalf("self-signed row: %+v %v", p1.Bundle, err)
	}
	res := provision.Push(ctx, p1.Target, p1.Bundle, l.options(true, nil))
	if res.Outcome != provision.OutcomeDone || res.CertificateNote != "self-signed kept" || res.ServedFingerprint != before.Certificate.FingerprintSHA256 {
		t.Fatalf("self-signed kept: %+v\n%s", res, l.app.Log.String())
	}
	if st := status(t, l); st.Generation != 1 || !st.Certificate.SelfSigned || st.Certificate.Name != "lab self-signed" ||
		st.Certificate.FingerprintSHA256 != before.Certificate.FingerprintSHA256 {
		t.Fatalf("status after self-signed kept: %+v", st)
	}

	// 2. A CA certificate with a CRL file, validation on, a name and a proxy password.
	row.CertSource, row.Cert, row.Key, row.Chain = provision.CertFiles, f.Cert, f.Key, l.kit.ChainPEM
	row.CRL, row.CRLValidation, row.CertName = l.kit.CRL(t, "plant.crl"), true, "plant CA 2026"
	row.Proxy = "http://sensor@192.0.2.8:3128"
	const secret = "pr0xy-Secret!"
	p2, err := prepare(row, provision.Secrets{ProxyPassword: secret})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.ReadArchive(bytes.NewReader(p2.Bundle.Archive))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.File(bundle.RoleCRL)) == 0 || !b.Settings.Console.CertValidation || b.Settings.Proxy.Password != secret ||
		b.Manifest.CertName != "plant CA 2026" || b.Manifest.KeepCertificate {
		t.Fatalf("bundle: crl %d bytes, settings %+v, manifest %+v", len(b.File(bundle.RoleCRL)), b.Settings, b.Manifest)
	}
	var seen []string
	res = provision.Push(ctx, p2.Target, p2.Bundle, l.options(true, func(e provision.Event) { seen = append(seen, e.Message) }))
	if res.Outcome != provision.OutcomeDone || res.ServedFingerprint != p2.Bundle.CertFingerprint || res.CertificateNote != "" {
		t.Fatalf("CA certificate with CRL: %+v\n%s", res, l.app.Log.String())
	}
	if st := status(t, l); st.Generation != 2 || st.Certificate.SelfSigned || st.Certificate.Name != "plant CA 2026" {
		t.Fatalf("status after the CA certificate: %+v", st)
	}
	if strings.Contains(strings.Join(seen, "\n")+l.app.Log.String(), secret) {
		t.Fatal("the proxy password appeared in an event or the appliance's log")
	}

	// 3. A CRL that revokes the certificate: the row gets no bundle.
	row.CRL = l.kit.CRL(t, "revoked.crl", serialOf(t, f.Cert))
	if _, err := prepare(row, provision.Secrets{ProxyPassword: secret}); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked by the row's CRL: %v", err)
	}
}

func serialOf(t *testing.T, path string) int64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(raw)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.Int64()
}
