package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
)

// KeyType names a key the CA generates.
type KeyType string

// Key types: RSA 2048 is the sensor's default; larger RSA and P-256 on request.
const (
	RSA2048 KeyType = "rsa2048"
	RSA3072 KeyType = "rsa3072"
	RSA4096 KeyType = "rsa4096"
	P256    KeyType = "p256"
)

// ParseKeyType reads "rsa2048", "rsa3072", "rsa4096" or "p256" (also
// "2048", "3072", "4096", "ec", "ecdsa", "p-256").
func ParseKeyType(s string) (KeyType, error) {
	switch strings.ToLower(s) {
	case "", "rsa", "rsa2048", "2048":
		return RSA2048, nil
	case "rsa3072", "3072":
		return RSA3072, nil
	case "rsa4096", "4096":
		return RSA4096, nil
	case "p256", "p-256", "ec", "ecdsa":
		return P256, nil
	}
	return "", fmt.Errorf("ca: unknown key type %q; use rsa2048, rsa3072, rsa4096 or p256", s)
}

// NewKey generates a key of type t from rnd (crypto/rand when nil).
func NewKey(rnd io.Reader, t KeyType) (crypto.Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch t {
	case "", RSA2048:
		return rsa.GenerateKey(rnd, 2048)
	case RSA3072:
		return rsa.GenerateKey(rnd, 3072)
	case RSA4096:
		return rsa.GenerateKey(rnd, 4096)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	}
	return nil, fmt.Errorf("ca: unknown key type %q", t)
}

// InitOptions configure a new CA. Zero values take the defaults noted.
type InitOptions struct {
	Name         string // root CN; default "Tapline Offline Root CA"
	Country      string // subject C of the CA and, by default, of what it issues
	Organization string // subject O
	OrgUnit      string // subject OU of issued certificates; default "OT Sensors"
	Intermediate bool   // also make an intermediate CA that signs sensor certificates
	KeyType      KeyType
	// RootKey and IntermediateKey, when set, are used instead of new keys.
	RootKey, IntermediateKey crypto.Signer
	RootValidity             time.Duration // default 10 years
	IntermediateValidity     time.Duration // default 5 years
	CRLURL                   string        // http:// URL put in issued certificates; empty for none
	// RootCRLURL is the http:// URL of the root's CRL (root-crl.pem) put
	// in the intermediate, so a sensor checking every level of the path
	// can fetch it; empty for none (the bundle must then carry it).
	RootCRLURL string
	// KDFIterations is the PBKDF2 count for the stored keys (default
	// certs.PBKDF2Iterations); tests lower it.
	KDFIterations int
	Now           time.Time // required
	Rand          io.Reader // default crypto/rand
}

// CA is an offline certificate authority held in memory. Save and Load put it
// on disk.
type CA struct {
	Root            *x509.Certificate
	RootKey         crypto.Signer
	Intermediate    *x509.Certificate // nil when the root signs directly
	IntermediateKey crypto.Signer
	State           State
}

// State is the CA's bookkeeping, saved as state.json beside the keys.
type State struct {
	Country      string `json:"country,omitempty"`
	Organization string `json:"organization,omitempty"`
	OrgUnit      string `json:"org_unit,omitempty"`
	CRLURL       string `json:"crl_url,omitempty"`
	// KDFIterations is the PBKDF2 iteration count for keys the CA stores.
	KDFIterations int          `json:"kdf_iterations,omitempty"`
	CRLNumber     int64        `json:"crl_number"`
	Issued        []Record     `json:"issued"`
	Revoked       []Revocation `json:"revoked"`
	// RootCRLNumber and RootRevoked are the root's own CRL when an
	// intermediate issues the sensor certificates: the CA certificates the
	// root revoked (the intermediate, when compromised).
	RootCRLNumber int64        `json:"root_crl_number,omitempty"`
	RootRevoked   []Revocation `json:"root_revoked,omitempty"`
}

// Record is one issued certificate.
type Record struct {
	Serial   string    `json:"serial"` // lower-case hex
	Hostname string    `json:"hostname"`
	NotAfter time.Time `json:"not_after"`
}

// Revocation is one revoked serial (RFC 5280 §5.1.2.6).
type Revocation struct {
	Serial string    `json:"serial"`
	Time   time.Time `json:"time"`
	Reason int       `json:"reason"` // CRLReason, RFC 5280 §5.3.1; 0 unspecified
}

const year = 365 * 24 * time.Hour

// Init makes a new CA: a self-signed root and, when asked, an intermediate
// with pathlen 0, both SHA-256 signed with keyCertSign and cRLSign usages
// (RFC 5280 §4.2.1.3, §4.2.1.9).
func Init(o InitOptions) (*CA, error) {
	if o.Now.IsZero() {
		return nil, errors.New("ca: Init needs the current time")
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	if o.Name == "" {
		o.Name = "Tapline Offline Root CA"
	}
	if o.OrgUnit == "" {
		o.OrgUnit = "OT Sensors"
	}
	if o.RootValidity == 0 {
		o.RootValidity = 10 * year
	}
	if o.IntermediateValidity == 0 {
		o.IntermediateValidity = 5 * year
	}
	for _, u := range []string{o.CRLURL, o.RootCRLURL} {
		if u != "" && !strings.HasPrefix(strings.ToLower(u), "http://") {
			return nil, fmt.Errorf("ca: CRL URL %q must start with http:// (sensors fetch CRLs over plain HTTP)", u)
		}
	}
	if o.RootCRLURL != "" && !o.Intermediate {
		return nil, errors.New("ca: a root CRL URL goes in the intermediate; without one, the root's CRL is the issuing CA's (CRLURL)")
	}
	var err error
	c := &CA{State: State{Country: o.Country, Organization: o.Organization, OrgUnit: o.OrgUnit, CRLURL: o.CRLURL, KDFIterations: o.KDFIterations}}
	c.RootKey = o.RootKey
	if c.RootKey == nil {
		if c.RootKey, err = NewKey(rnd, o.KeyType); err != nil {
			return nil, err
		}
	}
	rootName := pkix.Name{CommonName: o.Name}
	if o.Country != "" {
		rootName.Country = []string{o.Country}
	}
	if o.Organization != "" {
		rootName.Organization = []string{o.Organization}
	}
	tmpl := &x509.Certificate{
		Subject:               rootName,
		NotBefore:             o.Now.Add(-time.Hour),
		NotAfter:              o.Now.Add(o.RootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if c.Root, err = sign(rnd, tmpl, nil, c.RootKey.Public(), c.RootKey); err != nil {
		return nil, err
	}
	if !o.Intermediate {
		return c, nil
	}
	c.IntermediateKey = o.IntermediateKey
	if c.IntermediateKey == nil {
		if c.IntermediateKey, err = NewKey(rnd, o.KeyType); err != nil {
			return nil, err
		}
	}
	in := rootName
	in.CommonName = strings.TrimSuffix(o.Name, " Root CA") + " Issuing CA"
	if in.CommonName == o.Name {
		in.CommonName = o.Name + " Issuing CA"
	}
	itmpl := &x509.Certificate{
		Subject:               in,
		NotBefore:             o.Now.Add(-time.Hour),
		NotAfter:              o.Now.Add(o.IntermediateValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	if o.RootCRLURL != "" {
		itmpl.CRLDistributionPoints = []string{o.RootCRLURL}
	}
	if itmpl.NotAfter.After(c.Root.NotAfter) {
		itmpl.NotAfter = c.Root.NotAfter
	}
	if c.Intermediate, err = sign(rnd, itmpl, c.Root, c.IntermediateKey.Public(), c.RootKey); err != nil {
		return nil, err
	}
	return c, nil
}

// sign fills serial, SKI and signature algorithm, and signs tmpl with
// parentKey (self-signed when parent is nil).
func sign(rnd io.Reader, tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := newSerial(rnd)
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if tmpl.SubjectKeyId, err = keyID(pub); err != nil {
		return nil, err
	}
	if parent == nil {
		parent = tmpl
	}
	if _, ok := parentKey.Public().(*rsa.PublicKey); ok {
		tmpl.SignatureAlgorithm = x509.SHA256WithRSA
	} else {
		tmpl.SignatureAlgorithm = x509.ECDSAWithSHA256
	}
	der, err := x509.CreateCertificate(rnd, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("ca: signing %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// newSerial returns a positive random 127-bit serial (RFC 5280 §4.1.2.2: at
// most 20 octets, positive; CA/B BR §7.1: 64 bits of entropy at least).
func newSerial(rnd io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x40
	return new(big.Int).SetBytes(b), nil
}

// keyID is the subject key identifier: the leftmost 160 bits of the SHA-256
// of subjectPublicKey (RFC 7093 §2 method 1).
func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

// Issuer returns the certificate and key that sign sensor certificates and
// CRLs: the intermediate when there is one, else the root.
func (c *CA) Issuer() (*x509.Certificate, crypto.Signer) {
	if c.Intermediate != nil {
		return c.Intermediate, c.IntermediateKey
	}
	return c.Root, c.RootKey
}

// Chain returns the CA certificates a sensor's chain file holds, issuer
// first, root last.
func (c *CA) Chain() []*x509.Certificate {
	if c.Intermediate != nil {
		return []*x509.Certificate{c.Intermediate, c.Root}
	}
	return []*x509.Certificate{c.Root}
}
