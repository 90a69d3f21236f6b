package testkit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"github.com/tapline/tapline/certs"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// Kit is a test authority and CA.
type Kit struct {
	Dir      string // holds test-activation-root.pub
	RootPub  ed25519.PublicKey
	RootFile string
	key      ed25519.PrivateKey
	signer   activation.SignedSignerCert
	CA       *ca.CA
	Now      time.Time
}

// New makes a test activation root and signing key and a CA (with
// intermediate). crlURL, when set, goes into issued certificates.
func New(t testing.TB, now time.Time, crlURL string) *Kit {
	t.Helper()
	dir := t.TempDir()
	rp, rk, _ := ed25519.GenerateKey(rand.Reader)
	sp, sk, _ := ed25519.GenerateKey(rand.Reader)
	sc, err := activation.CertifySigner(rk, sp, now.AddDate(-3, 0, 0), now.AddDate(2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	rf := filepath.Join(dir, "test-activation-root.pub")
	if err := os.WriteFile(rf, activation.MarshalPublicKey(rp), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Tapline Test Plant", Intermediate: true, CRLURL: crlURL,
		KeyType: ca.P256, Now: now.AddDate(-3, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return &Kit{Dir: dir, RootPub: rp, RootFile: rf, key: sk, signer: sc, CA: c, Now: now}
}

// Spec describes one bundle.
type Spec struct {
	Sensor         string // bundle and activation sensor name
	ActivationFor  string // activation sensor name when different
	Hostname       string // FQDN in settings and certificate
	Address        string // default 192.0.2.10 (documentation range; recorded, not configured)
	Gateway        string
	CertValidation bool
	CRL            []byte
	// CRLs are CRL files the bundle carries with CRL, in its crl or crls
	// role as the laptop puts them (bundle.CRLFile).
	CRLs [][]byte
	// Cert, Key and Chain, when Cert is set, are the certificate files the
	// bundle carries instead of ones the kit's CA issues (another PKI's).
	Cert, Key, Chain []byte
	CertNotAfter     time.Time // zero: one year; in the past: expired
	WrongKey         bool      // ship a key that does not match the certificate
	ActivationAt     time.Time // issue time; zero: Now
	Proxy            netconf.Proxy
	Interface        string // management interface; default eth0
	// Uplink and UplinkFiles go into settings.json and the bundle as given.
	Uplink      *netconf.Uplink
	UplinkFiles map[bundle.Role][]byte
	// PluginKey is the plugin-signing.pub the bundle carries, if any.
	PluginKey []byte
}

// Built is a written bundle.
type Built struct {
	Dir         string
	Archive     string
	Fingerprint string
	CertPEM     []byte
	Serial      *big.Int
}

// Bundle writes a bundle directory and its archive under dir.
func (k *Kit) Bundle(t testing.TB, dir string, s Spec) Built {
	t.Helper()
	if s.Hostname == "" {
		s.Hostname = s.Sensor + ".plant.example"
	}
	if s.Address == "" {
		s.Address = "192.0.2.10"
	}
	if s.Gateway == "" {
		s.Gateway = "192.0.2.1"
	}
	if s.Interface == "" {
		s.Interface = "eth0"
	}
	actName := s.Sensor
	if s.ActivationFor != "" {
		actName = s.ActivationFor
	}
	at := s.ActivationAt
	if at.IsZero() {
		at = k.Now
	}
	act, err := activation.Issue(activation.Request{SensorID: "ID-" + actName, SensorName: actName, Site: "Plant A", Zone: "Z1",
		PlanID: "OT-500", Mode: activation.ModeLocal, DeviceCount: 500, Expires: at.AddDate(1, 0, 0)}, k.key, k.signer, at)
	if err != nil {
		t.Fatal(err)
	}
	req := ca.IssueRequest{Hostname: s.Hostname, KeyType: ca.P256, Now: k.Now}
	if a, err := netip.ParseAddr(s.Address); err == nil {
		req.IP = a
	}
	if !s.CertNotAfter.IsZero() {
		req.Now = s.CertNotAfter.Add(-30 * 24 * time.Hour)
		req.Validity = 30 * 24 * time.Hour
	}
	is, err := k.CA.Issue(req)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := is.KeyPEM
	if s.WrongKey {
		other, err := k.CA.Issue(ca.IssueRequest{Hostname: s.Hostname, KeyType: ca.P256, Now: k.Now})
		if err != nil {
			t.Fatal(err)
		}
		keyPEM = other.KeyPEM
	}
	set := netconf.Settings{Network: netconf.Network{Interface: s.Interface, Address: s.Address, Mask: "24", Gateway: s.Gateway,
		DNS: []string{"192.0.2.53"}, Hostname: s.Hostname}, Console: netconf.Console{CertValidation: s.CertValidation}, Proxy: s.Proxy, Uplink: s.Uplink}
	files := map[bundle.Role][]byte{
		bundle.RoleActivation: act,
		bundle.RoleCert:       is.CertPEM,
		bundle.RoleKey:        keyPEM,
		bundle.RoleChain:      is.ChainPEM,
		bundle.RoleSettings:   set.Marshal(),
	}
	if s.Cert != nil {
		files[bundle.RoleCert], files[bundle.RoleKey], files[bundle.RoleChain] = s.Cert, s.Key, s.Chain
	}
	var crls [][]byte
	if len(s.CRL) > 0 {
		crls = append(crls, s.CRL)
	}
	if r, data, err := bundle.CRLFile(append(crls, s.CRLs...)); err != nil {
		t.Fatal(err)
	} else if r != "" {
		files[r] = data
	}
	for r, d := range s.UplinkFiles {
		files[r] = d
	}
	if s.PluginKey != nil {
		files[bundle.RolePluginKey] = s.PluginKey
	}
	bd := filepath.Join(dir, s.Sensor+"-bundle")
	m, err := bundle.Write(bd, bundle.Meta{Sensor: bundle.Sensor{Name: s.Sensor, ID: "ID-" + s.Sensor}, CreatedAt: k.Now, Creator: "testkit"}, files)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.Pack(bd, &buf); err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(dir, bundle.ArchiveName(s.Sensor, m.CreatedAt))
	if err := os.WriteFile(arch, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := Built{Dir: bd, Archive: arch, Fingerprint: fingerprint(is.Cert.Raw), CertPEM: is.CertPEM, Serial: is.Cert.SerialNumber}
	if s.Cert != nil {
		c, err := certs.ParseCertificate(s.Cert)
		if err != nil {
			t.Fatal(err)
		}
		out.Fingerprint, out.CertPEM, out.Serial = fingerprint(c.Raw), s.Cert, c.SerialNumber
	}
	return out
}

// RootCRL is the root's current CRL (PEM), listing the issuing CAs it
// revoked: what a check of every certificate of the path needs besides the
// issuing CA's.
func (k *Kit) RootCRL(t testing.TB) []byte {
	t.Helper()
	fs, err := k.CA.CRLs(k.Now, 0, nil)
	if err != nil || len(fs) < 2 {
		t.Fatalf("root CRL: %v", err)
	}
	return fs[1].PEM
}
