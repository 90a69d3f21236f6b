package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/tapline/tapline/certs"
)

// IssueRequest asks for one sensor certificate.
type IssueRequest struct {
	Hostname string     // the sensor's FQDN: CN and SAN DNS name; required
	IP       netip.Addr // optional SAN IP address
	// CSR, when given (PEM or DER, RFC 2986), supplies the public key; no key
	// is generated. Otherwise Key is used, or a new key of KeyType.
	CSR      []byte
	Key      crypto.Signer
	KeyType  KeyType
	Validity time.Duration // default 1 year, capped at the issuer's end
	// Subject C, O, OU; empty takes the CA's.
	Country, Organization, OrgUnit string
	// Usage is what the certificate is for: a sensor's console (server,
	// the default), a client of the site's NATS servers (client: a sensor's
	// uplink, the app), or both (a NATS server of a cluster, which dials
	// the others as a client).
	Usage Usage
	// NoCRLURL leaves the CA's CRL distribution point out (a sensor
	// without certificate validation warns about one, TL-CERT-022).
	NoCRLURL bool
	Now      time.Time // required
	Rand     io.Reader // default crypto/rand
}

// Usage says which extended key usages a certificate gets.
type Usage int

// Usages.
const (
	UsageServer       Usage = iota // serverAuth
	UsageClient                    // clientAuth
	UsageServerClient              // serverAuth and clientAuth
)

// ParseUsage reads "server", "client" or "server,client".
func ParseUsage(s string) (Usage, error) {
	switch strings.ReplaceAll(strings.ToLower(s), " ", "") {
	case "", "server":
		return UsageServer, nil
	case "client":
		return UsageClient, nil
	case "server,client", "client,server":
		return UsageServerClient, nil
	}
	return 0, fmt.Errorf("ca: usage %q is not server, client or server,client", s)
}

func (u Usage) ekus() []x509.ExtKeyUsage {
	switch u {
	case UsageClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case UsageServerClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
}

// Issued is a sensor certificate with its key (nil when issued from a CSR)
// and the files' contents.
type Issued struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertPEM  []byte // the certificate
	KeyPEM   []byte // unencrypted PKCS#8; nil when issued from a CSR
	ChainPEM []byte // the CA certificates, issuer first, root last
	Chain    []*x509.Certificate
}

// Issue signs a sensor server certificate: CN = SAN = FQDN (+ IP), serverAuth,
// digitalSignature (+ keyEncipherment for RSA), the CRL distribution point
// when the CA has one, SHA-256, one year by default. It refuses wildcard and
// malformed host names. The issuance is recorded in c.State; Save to keep it.
func (c *CA) Issue(req IssueRequest) (*Issued, error) {
	if req.Now.IsZero() {
		return nil, errors.New("ca: Issue needs the current time")
	}
	rnd := req.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(req.Hostname)), ".")
	var pub crypto.PublicKey
	key := req.Key
	if len(req.CSR) > 0 {
		csr, err := parseCSR(req.CSR)
		if err != nil {
			return nil, err
		}
		if host == "" {
			host = strings.ToLower(csr.Subject.CommonName)
		}
		pub = csr.PublicKey
		key = nil
	}
	if err := checkHostname(host, req.Usage == UsageClient); err != nil {
		return nil, err
	}
	if pub == nil {
		if key == nil {
			var err error
			if key, err = NewKey(rnd, req.KeyType); err != nil {
				return nil, err
			}
		}
		pub = key.Public()
	}
	if err := checkKey(pub); err != nil {
		return nil, err
	}
	issuer, issuerKey := c.Issuer()
	validity := req.Validity
	if validity <= 0 {
		validity = year
	}
	notAfter := req.Now.Add(validity)
	if notAfter.After(issuer.NotAfter) {
		notAfter = issuer.NotAfter
	}
	subj := pkix.Name{CommonName: host}
	if v := first(req.Country, c.State.Country); v != "" {
		subj.Country = []string{v}
	}
	if v := first(req.Organization, c.State.Organization); v != "" {
		subj.Organization = []string{v}
	}
	if v := first(req.OrgUnit, c.State.OrgUnit); v != "" {
		subj.OrganizationalUnit = []string{v}
	}
	ku := x509.KeyUsageDigitalSignature
	if _, ok := pub.(*rsa.PublicKey); ok {
		ku |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		Subject:               subj,
		DNSNames:              []string{host},
		NotBefore:             req.Now.Add(-5 * time.Minute),
		NotAfter:              notAfter,
		KeyUsage:              ku,
		ExtKeyUsage:           req.Usage.ekus(),
		BasicConstraintsValid: true,
	}
	if req.IP.IsValid() {
		tmpl.IPAddresses = []net.IP{net.IP(req.IP.Unmap().AsSlice())}
	}
	if c.State.CRLURL != "" && !req.NoCRLURL {
		tmpl.CRLDistributionPoints = []string{c.State.CRLURL}
	}
	cert, err := sign(rnd, tmpl, issuer, pub, issuerKey)
	if err != nil {
		return nil, err
	}
	out := &Issued{Cert: cert, Key: key, Chain: c.Chain()}
	out.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	for _, x := range out.Chain {
		out.ChainPEM = append(out.ChainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: x.Raw})...)
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		out.KeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	c.State.Issued = append(c.State.Issued, Record{Serial: hex.EncodeToString(cert.SerialNumber.Bytes()), Hostname: host, NotAfter: cert.NotAfter})
	return out, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkHostname accepts a fully qualified DNS name without wildcards
// (RFC 1123 §2.1 labels; the sensor refuses wildcards); a client's name
// may be a single label (sensor-01).
func checkHostname(h string, client bool) error {
	if h == "" {
		return errors.New("ca: the sensor's hostname (FQDN) is required")
	}
	if strings.Contains(h, "*") {
		return fmt.Errorf("ca: %q: wildcard names are not supported by the sensor", h)
	}
	if len(h) > 253 || !client && !strings.Contains(h, ".") {
		return fmt.Errorf("ca: %q is not a fully qualified host name", h)
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("ca: %q: label %q is not a valid DNS label", h, l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("ca: %q: character %q is not allowed in a host name", h, r)
			}
		}
	}
	return nil
}

// checkKey refuses a sensor key the sensor check would call weak
// (certs TL-CERT-009): RSA below 2048 bits, curves other than P-256 and
// P-384, other algorithms.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 {
			return fmt.Errorf("ca: the key is RSA %d bits; the sensor needs RSA 2048 bits or more (or ECDSA P-256/P-384)", n)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ca: the key is ECDSA on %s; the sensor needs P-256 or P-384 (or RSA 2048 bits or more)", k.Curve.Params().Name)
		}
		return nil
	}
	return fmt.Errorf("ca: a %s key is not accepted by the sensor; use RSA 2048 bits or more, or ECDSA P-256/P-384", certs.KeyName(pub))
}

// parseCSR reads a PKCS#10 request, PEM or DER, and checks its signature.
func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	csr, err := certs.ParseCertificateRequest(data)
	if err != nil {
		switch kind := certs.Detect(data); kind {
		case certs.KindUnknown, certs.KindCSR:
			return nil, errors.New("ca: not a certificate request (PKCS#10, PEM or DER): it does not parse")
		default:
			return nil, fmt.Errorf("ca: not a certificate request: the file holds a %s", kind)
		}
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("ca: certificate request signature: %w", err)
	}
	return csr, nil
}
