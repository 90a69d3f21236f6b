package daemon

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// uplinkFiles are a sensor's uplink files: the kit's CA chain, a client
// certificate issued by issuer with the usage given, and an NKEY seed.
func uplinkFiles(t *testing.T, k *testkit.Kit, issuer *ca.CA, usage ca.Usage) map[bundle.Role][]byte {
	t.Helper()
	is, err := issuer.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", Usage: usage, KeyType: ca.P256, Now: k.Now})
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	// The servers' CA is always the kit's: a rogue issuer's certificate
	// does not chain to it.
	var caPEM []byte
	for _, c := range k.CA.Chain() {
		caPEM = append(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return map[bundle.Role][]byte{bundle.RoleUplinkCA: caPEM, bundle.RoleUplinkClientCert: is.CertPEM,
		bundle.RoleUplinkClientKey: is.KeyPEM, bundle.RoleUplinkCredential: append(seed, '\n')}
}

// TestApplyUplink: a bundle with an uplink is applied and its secrets
// kept 0600; one whose client certificate does not chain to the
// servers' CA, or is not a client certificate, or whose credential is
// no user's, is refused and changes nothing.
func TestApplyUplink(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	up := &netconf.Uplink{Site: "plant-a", Servers: []string{"tls://192.0.2.20:4222"}}
	rogue, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Rogue", KeyType: ca.P256, Now: now.AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := nkeys.CreateAccount()
	accSeed, _ := acc.Seed()
	for _, c := range []struct {
		name  string
		files func() map[bundle.Role][]byte
		code  string
	}{
		{"another CA", func() map[bundle.Role][]byte { return uplinkFiles(t, k, rogue, ca.UsageClient) }, site.CodeChain},
		{"a server certificate", func() map[bundle.Role][]byte { return uplinkFiles(t, k, k.CA, ca.UsageServer) }, site.CodeClientEKU},
		{"an account seed", func() map[bundle.Role][]byte {
			f := uplinkFiles(t, k, k.CA, ca.UsageClient)
			f[bundle.RoleUplinkCredential] = accSeed
			return f
		}, site.CodeCredential},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, k, &fakeClock{now})
			before, _ := testkit.TreeHash(e.Layout.Root)
			b := k.Bundle(t, e.Layout.Incoming(), testkit.Spec{Sensor: "sensor-01", Uplink: up, UplinkFiles: c.files()})
			res, err := e.Apply(context.Background(), ApplyOptions{Path: filepath.Base(b.Archive)})
			if err == nil || res.OK || res.Code != c.code {
				t.Fatalf("applied: %v %+v, want refused with %s", err, res, c.code)
			}
			os.RemoveAll(b.Dir)
			os.Remove(b.Archive)
			if after, _ := testkit.TreeHash(e.Layout.Root); after != before {
				t.Fatal("a refused uplink changed the sensor's files")
			}
		})
	}
	e := newEngine(t, k, &fakeClock{now})
	b := k.Bundle(t, e.Layout.Incoming(), testkit.Spec{Sensor: "sensor-01", Uplink: up, UplinkFiles: uplinkFiles(t, k, k.CA, ca.UsageClient)})
	res, err := e.Apply(context.Background(), ApplyOptions{Path: filepath.Base(b.Archive)})
	if err != nil || !res.OK {
		t.Fatalf("apply: %v %+v", err, res)
	}
	dir := e.Layout.Store().Path(res.Generation)
	for _, r := range []bundle.Role{bundle.RoleUplinkClientKey, bundle.RoleUplinkCredential} {
		fi, err := os.Stat(filepath.Join(dir, bundle.FileName(r)))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want 0600", bundle.FileName(r), err, fi)
		}
	}
}
