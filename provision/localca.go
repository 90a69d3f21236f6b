package provision

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"time"

	"github.com/tapline/tapline/certs/ca"
)

// ErrNoLocalCA is why a local-ca row gets no bundle when the session has
// no local CA.
const ErrNoLocalCA = "cert_source local-ca: no local CA is given (the CLI's --ca DIR; in the app, choose the local CA folder)"

// LocalIssued is what the local CA issued for one row (cert_source
// local-ca), in memory only.
type LocalIssued struct {
	Cert  []byte   // the sensor certificate, PEM
	Key   []byte   // its private key, unencrypted PKCS#8 PEM; wiped once the bundle is built
	Chain []byte   // the CA certificates, issuer first, root last, PEM
	CRLs  [][]byte // with crl_validation: a current CRL of every CA level, PEM
	// Serial (lower-case hex) and Issuer (the signing CA's subject) say
	// which certificate it is: 'tapline ca revoke --serial' revokes it.
	Serial, Issuer string
}

// Note is what the push result says of the certificate.
func (li *LocalIssued) Note() string {
	return "issued by the local CA " + li.Issuer + ", serial " + li.Serial
}

// LocalCACRLValidity is how long the CRLs a session signs for rows with
// crl_validation stay current ('tapline ca crl' signs for the same time).
const LocalCACRLValidity = 7 * 24 * time.Hour

// IssueFromLocalCA is Session.IssueLocal for an offline CA folder opened
// once for the session (ca.OpenLocal). Per row it issues the sensor
// console's server certificate (a new RSA 2048 key, one year, serverAuth):
// CN and SAN DNS name new_hostname, SAN IP the address the sensor keeps
// after the push (new_ip, else address, when it is an IP address), the
// CA's CRL distribution point only for a row with crl_validation (a sensor
// without validation warns about one, TL-CERT-022). The
// chain goes up to the root, as the sensor's chain file holds it; for a
// row with crl_validation the CRLs of every CA level travel too (signed
// once per session, Local.CRLs). Every certificate is on the CA's issued
// list before it is used.
func IssueFromLocalCA(l *ca.Local) func(row Row, now time.Time) (*LocalIssued, error) {
	return func(row Row, now time.Time) (*LocalIssued, error) {
		if row.NewHostname == "" {
			return nil, errors.New("new_hostname is empty: the local CA issues the certificate for the sensor's FQDN (CN and SAN)")
		}
		req := ca.IssueRequest{Hostname: row.NewHostname, KeyType: ca.RSA2048, Usage: ca.UsageServer, Now: now,
			NoCRLURL: !row.CRLValidation}
		if a, err := netip.ParseAddr(row.FinalIP()); err == nil {
			req.IP = a
		}
		is, err := l.Issue(req)
		if err != nil {
			return nil, err
		}
		out := &LocalIssued{Cert: is.CertPEM, Key: is.KeyPEM, Chain: is.ChainPEM,
			Serial: hex.EncodeToString(is.Cert.SerialNumber.Bytes()), Issuer: is.Cert.Issuer.String()}
		if row.CRLValidation {
			files, err := l.CRLs(now, LocalCACRLValidity)
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				out.CRLs = append(out.CRLs, f.PEM)
			}
		}
		return out, nil
	}
}
