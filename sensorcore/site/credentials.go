package site

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/tapline/tapline/certs"
)

// Stable codes of the uplink's checks, the same on the laptop (batch
// check, the wizard) and on the appliance (apply).
const (
	CodeCA         = "TL-SITE-001" // the servers' CA cannot be used
	CodeClientCert = "TL-SITE-002" // the client certificate or its key cannot be used
	CodeClientEKU  = "TL-SITE-003" // the client certificate is not for TLS clients
	CodeChain      = "TL-SITE-004" // the client certificate does not chain to the CA
	CodeCredential = "TL-SITE-005" // the credential is neither an NKEY user seed nor NATS user credentials
)

// Credential kinds.
const (
	CredentialNKey  = "nkey"  // an NKEY user seed (SU...), as nk -gen user writes it
	CredentialCreds = "creds" // a NATS user credentials file: a user JWT and its seed
)

// Credential is a parsed uplink credential. The seed never leaves it
// except to sign the server's nonce (Sign).
type Credential struct {
	Kind   string
	Public string // the user's public NKEY (U...)
	JWT    string // the user JWT, for Kind creds
	kp     nkeys.KeyPair
}

// Sign signs the server's nonce (NATS NKEY authentication).
func (c *Credential) Sign(nonce []byte) ([]byte, error) { return c.kp.Sign(nonce) }

// ParseCredential reads an NKEY user seed (a file holding one SU... line)
// or a NATS user credentials file (-----BEGIN NATS USER JWT----- and
// its seed). Anything else, an account or operator seed among them, is
// refused.
func ParseCredential(data []byte) (*Credential, error) {
	if bytes.Contains(data, []byte("BEGIN NATS USER JWT")) {
		jwt, err := nkeys.ParseDecoratedJWT(data)
		if err != nil || jwt == "" {
			return nil, errors.New("a NATS credentials file without a readable user JWT")
		}
		kp, err := nkeys.ParseDecoratedUserNKey(data)
		if err != nil {
			return nil, fmt.Errorf("a NATS credentials file without a user seed: %v", err)
		}
		pub, _ := kp.PublicKey()
		return &Credential{Kind: CredentialCreds, Public: pub, JWT: jwt, kp: kp}, nil
	}
	seed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(seed, []byte("SU")) || bytes.ContainsAny(seed, " \n\r\t") {
		return nil, errors.New("neither an NKEY user seed (one line SU...) nor a NATS user credentials file")
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("not a valid NKEY user seed: %v", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("not a valid NKEY user seed: %v", err)
	}
	return &Credential{Kind: CredentialNKey, Public: pub, kp: kp}, nil
}

// ParseCA reads the servers' CA file: one or more CA certificates (PEM or
// DER).
func ParseCA(data []byte) (*x509.CertPool, []*x509.Certificate, error) {
	cs, err := certs.ParseCertificates(data)
	if err != nil || len(cs) == 0 {
		return nil, nil, errors.New("holds no certificate (PEM or DER)")
	}
	pool := x509.NewCertPool()
	for _, c := range cs {
		if !c.IsCA {
			return nil, nil, fmt.Errorf("%q is not a CA certificate", c.Subject.String())
		}
		pool.AddCert(c)
	}
	return pool, cs, nil
}

// ClientFiles are the uplink's files as the engineer hands them over
// (raw contents) and the names messages use for them.
type ClientFiles struct {
	CA, Cert, Key, Credential           []byte
	CAName, CertName, KeyName, CredName string
	Passphrase                          []byte // for an encrypted key
}

// CheckClient checks the uplink's files the way the sensor uses them:
// the CA holds CA certificates; the client certificate parses, its key
// is its own, it is valid at now, its extended key usage allows TLS
// clients (clientAuth), and it chains to the CA; the credential is a
// user's. Every problem is an error finding: the servers would refuse
// the sensor, or the sensor the servers.
func CheckClient(f ClientFiles, now time.Time) []certs.Finding {
	var out []certs.Finding
	add := func(code, msg, hint string) {
		out = append(out, certs.Finding{Code: code, Severity: certs.SeverityError, Message: msg, Hint: hint})
	}
	pool, _, err := ParseCA(f.CA)
	if err != nil {
		add(CodeCA, f.CAName+": "+err.Error(), "give the CA certificate that signed the site's NATS servers (tapline site init writes it as ca.pem)")
	}
	if _, err := ParseCredential(f.Credential); err != nil {
		add(CodeCredential, f.CredName+": "+err.Error(), "give the sensor's NKEY seed or .creds file (tapline site init writes credentials/SENSOR.nk)")
	}
	cs, err := certs.ParseCertificates(f.Cert)
	if err != nil || len(cs) == 0 {
		add(CodeClientCert, f.CertName+": not a certificate (PEM or DER)", "give the sensor's client certificate for the site's servers")
		return out
	}
	c := cs[0]
	key, err := certs.ParsePrivateKey(f.Key, f.Passphrase)
	switch {
	case err != nil:
		add(CodeClientCert, f.KeyName+": the key cannot be read: "+err.Error(), "give the client certificate's private key as PEM, unencrypted or encrypted with the certificate passphrase")
	case !certs.KeyMatches(key, c):
		add(CodeClientCert, f.KeyName+" is not the key of "+f.CertName, "give the key the client certificate was issued for")
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		add(CodeClientCert, fmt.Sprintf("%s is valid from %s to %s, not now", f.CertName, c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02")),
			"issue a current client certificate (tapline ca issue --client)")
	}
	if !clientAuth(c) {
		add(CodeClientEKU, f.CertName+" is not for TLS clients: its extended key usage lacks clientAuth", "issue it as a client certificate (tapline ca issue --client)")
	}
	if pool != nil {
		inter := x509.NewCertPool()
		for _, x := range cs[1:] {
			inter.AddCert(x)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			add(CodeChain, fmt.Sprintf("%s does not chain to %s: %v", f.CertName, f.CAName, err), "issue the client certificate from the CA the site's servers trust, or give that CA")
		}
	}
	return out
}

// clientAuth reports whether c names TLS client authentication in its
// extended key usage (clientAuth, or anyExtendedKeyUsage). A certificate
// without the extension is refused: it would pass at a server, but it was
// not issued for this, and the site's servers are told apart from their
// clients by exactly this usage.
func clientAuth(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}
