package certs

import (
	"crypto"
	"crypto/x509"
	"net/netip"
)

// Severity ranks a Finding. An error blocks a bundle; a warning needs the
// engineer's explicit acceptance; info is shown only.
type Severity string

// Severities, in the words the CLI and JSON use.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one result of a check: a stable code people read out over the
// phone (TL-CERT-012), a severity, a one-line message and how to fix it.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint"`
}

// Source is a sensor's certificate material as the engineer hands it over:
// raw file contents, each in any format the reader detects by content (PEM or
// DER; a chain file may also hold the leaf). Either Cert+Key or PFX is given.
// Names maps the same fields ("cert", "key", "pfx", "chain", "crl", "anchors")
// to the file names messages should mention; it may be nil.
type Source struct {
	Cert, Key, PFX, Chain, Anchors []byte
	CRLs                           [][]byte
	Passphrase                     []byte
	Names                          map[string]string
}

// Target is the sensor a bundle is meant for.
type Target struct {
	Hostname      string     // the sensor's FQDN; CN and SAN must match it
	IP            netip.Addr // optional; when valid, the SAN must hold it
	CRLValidation bool       // the sensor's "Enable certificate validation"
	// CRLsFinal says the CRLs given are all there will be: the sensor's
	// check after it fetched what the bundle lacked. A certificate of the
	// path no CRL decides is then undetermined, not "fetched by the sensor".
	CRLsFinal bool
}

// Report is the outcome of CheckSensor: every finding, and what could be
// parsed (nil where it could not).
type Report struct {
	Findings          []Finding
	Leaf              *x509.Certificate
	Chain             []*x509.Certificate // leaf first, as built; nil when no path was found
	Key               crypto.Signer
	FingerprintSHA256 string // hex SHA-256 of the leaf's DER, lower case
	// FetchCRLs, with certificate validation on, are the certificates of
	// the path whose CRL the sensor fetches from their http:// distribution
	// points at apply, leaf first: those no CRL given is from the issuer of.
	FetchCRLs []*x509.Certificate
}

// HasErrors reports whether any finding is an error.
func (r *Report) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
