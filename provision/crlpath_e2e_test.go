package provision_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/bundle"
)

// TestPushCRLsOfEveryLevel: a plant PKI made by OpenSSL with two CA levels
// (certs/testdata/crlchain.sh), certificate validation on, through real
// bundles, real OpenSSH and a real sensorcore. The row's CRL column gives
// both levels' CRLs: they travel as crls.pem and the push is done. With
// the issuing CA revoked by the root, the laptop refuses the row
// (TL-CERT-025 naming that CA), and the same bundle built without the
// laptop's check is refused by the appliance with the same code, with
// nothing changed on it.
func TestPushCRLsOfEveryLevel(t *testing.T) {
	t.Parallel()
	needs.Tool(t, "openssl", "openssl")
	l := newLab(t, "sensor-01")
	ctx := context.Background()
	d := t.TempDir()
	script, _ := filepath.Abs(filepath.Join("..", "certs", "testdata", "crlchain.sh"))
	if out, err := exec.Command("bash", script, d).CombinedOutput(); err != nil {
		t.Fatalf("crlchain.sh: %v\n%s", err, out)
	}
	at := func(n string) string { return filepath.Join(d, n) }
	f := l.kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "192.0.2.10") // its activation file
	row := provision.Row{Line: 2, Sensor: "sensor-01", Address: "127.0.0.1", User: "provision", Auth: provision.AuthKey,
		KeyFile: l.key, Interface: "eth0", NewIP: "192.0.2.10", NewMask: "24", NewHostname: "sensor-01.plant.example",
		Activation: f.Activation, CertSource: provision.CertFiles, Cert: at("leaf.crt"), Key: at("leaf.key"), Chain: at("chain.pem"),
		CRLValidation: true, CRL: at("inter.crl") + ";" + at("root.crl"), ConsolePort: l.console}
	s := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, l.kit.RootPub)}}

	// Both levels: crls.pem with both CRLs, applied and served.
	pr, err := s.Prepare(ctx, row)
	if err != nil {
		t.Fatal(err)
	}
	pr.Target.Addr, pr.Target.NewAddr = l.sshAddr, ""
	b, err := bundle.ReadArchive(bytes.NewReader(pr.Bundle.Archive))
	if err != nil {
		t.Fatal(err)
	}
	if crl, name := b.CRLs(); name != "crls.pem" || bytes.Count(crl, []byte("BEGIN X509 CRL")) != 2 {
		t.Fatalf("the bundle carries %s with %d CRLs, want crls.pem with both levels", name, bytes.Count(crl, []byte("BEGIN X509 CRL")))
	}
	res := provision.Push(ctx, pr.Target, pr.Bundle, l.options(true, nil))
	if res.Outcome != provision.OutcomeDone || res.ServedFingerprint != pr.Bundle.CertFingerprint {
		t.Fatalf("both levels: %+v\n%s", res, l.app.Log.String())
	}

	// A revoked issuing CA: the laptop refuses the row.
	rv := row
	rv.Cert, rv.Key, rv.Chain, rv.CRL = at("leaf-rv.crt"), at("leaf-rv.key"), at("chain-rv.pem"), at("inter-rv.crl")+";"+at("root.crl")
	_, err = s.Prepare(ctx, rv)
	if err == nil || !strings.Contains(err.Error(), certs.CodeRevoked) || !strings.Contains(err.Error(), "Issuing CA 2") {
		t.Fatalf("the laptop on a revoked issuing CA: %v", err)
	}
	// The same files, bundled without the laptop's check: the appliance
	// refuses them with the same code.
	read := func(n string) []byte {
		data, err := os.ReadFile(at(n))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	files := map[bundle.Role][]byte{bundle.RoleCert: read("leaf-rv.crt"), bundle.RoleKey: read("leaf-rv.key"), bundle.RoleChain: read("chain-rv.pem"),
		bundle.RoleActivation: b.File(bundle.RoleActivation), bundle.RoleSettings: b.File(bundle.RoleSettings)}
	role, crls, err := bundle.CRLFile([][]byte{read("inter-rv.crl"), read("root.crl")})
	if err != nil {
		t.Fatal(err)
	}
	files[role] = crls
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := bundle.Write(dir, bundle.Meta{Sensor: b.Manifest.Sensor, CreatedAt: time.Now().UTC(), Creator: "test"}, files); err != nil {
		t.Fatal(err)
	}
	var arch bytes.Buffer
	if err := bundle.Pack(dir, &arch); err != nil {
		t.Fatal(err)
	}
	leaf, _ := certs.ParseCertificate(read("leaf-rv.crt"))
	sum := sha256.Sum256(leaf.Raw)
	before := status(t, l)
	res = provision.Push(ctx, pr.Target, provision.Bundle{Archive: arch.Bytes(), Sensor: "sensor-01", CertFingerprint: hex.EncodeToString(sum[:])}, l.options(true, nil))
	if res.Outcome != provision.OutcomeRefused || res.ApplianceCode != certs.CodeRevoked || !strings.Contains(res.Error, "Issuing CA 2") {
		t.Fatalf("the appliance on a revoked issuing CA: %+v", res)
	}
	if after := status(t, l); after.Generation != before.Generation || after.Certificate.FingerprintSHA256 != before.Certificate.FingerprintSHA256 {
		t.Fatalf("a refused bundle changed the sensor: %+v -> %+v", before, after)
	}
}
