package certs

import "fmt"

// Code is one entry of the finding catalogue: a stable code people read out
// over the phone, its severity, the one-line message (the sensor's own words
// where it has them, docs/field-facts.md) and how to fix it. Codes are never
// reused or renumbered; docs/certs.md lists the same table.
type Code struct {
	Code     string
	Severity Severity
	Message  string
	Hint     string
}

// Finding codes. The human wording lives only in Codes.
const (
	CodeCertUnreadable     = "TL-CERT-001"
	CodeKeyUnreadable      = "TL-CERT-002"
	CodePassphrase         = "TL-CERT-003"
	CodeKeyMismatch        = "TL-CERT-004"
	CodePFXUnreadable      = "TL-CERT-005"
	CodeNotYetValid        = "TL-CERT-006"
	CodeExpired            = "TL-CERT-007"
	CodeExpiresSoon        = "TL-CERT-008"
	CodeWeakKey            = "TL-CERT-009"
	CodeWeakSignature      = "TL-CERT-010"
	CodeCNMismatch         = "TL-CERT-011"
	CodeSANMissingName     = "TL-CERT-012"
	CodeSANMissingIP       = "TL-CERT-013"
	CodeWildcard           = "TL-CERT-014"
	CodeSubjectC           = "TL-CERT-015"
	CodeSubjectO           = "TL-CERT-016"
	CodeSubjectOU          = "TL-CERT-017"
	CodeEKU                = "TL-CERT-018"
	CodeKeyUsage           = "TL-CERT-019"
	CodeChainOfTrust       = "TL-CERT-020"
	CodeCRLDPMissing       = "TL-CERT-021"
	CodeCRLDPUnneeded      = "TL-CERT-022"
	CodeCRLSignature       = "TL-CERT-023"
	CodeCRLNotCurrent      = "TL-CERT-024"
	CodeRevoked            = "TL-CERT-025"
	CodePassphraseChars    = "TL-CERT-026"
	CodeFleetDuplicateCN   = "TL-CERT-027"
	CodeFleetDuplicateCert = "TL-CERT-028"
	CodeChainUnreadable    = "TL-CERT-029"
	CodeCRLUnreadable      = "TL-CERT-030"
	CodeNoChain            = "TL-CERT-031"
	CodeNoHostname         = "TL-CERT-032"
	CodeLargeKey           = "TL-CERT-033"
	CodeCRLNoneForIssuer   = "TL-CERT-034"
	CodeIsCA               = "TL-CERT-035"
	CodeCRLNotGiven        = "TL-CERT-036"
	CodeCRLUnverifiable    = "TL-CERT-037"
	CodeCRLUndetermined    = "TL-CERT-038"
	CodeCRLUndecided       = "TL-CERT-039"
	CodeCAExpired          = "TL-CERT-040"
	CodePFXPassphrase      = "TL-CERT-041"
	CodeJunk               = "TL-CERT-042"
)

// Codes returns the finding catalogue in code order. It builds a fresh slice
// on each call, so callers may keep or change it.
func Codes() []Code {
	return []Code{
		{CodeCertUnreadable, SeverityError, "The certificate file cannot be read",
			"Give the sensor certificate as PEM or DER (.crt); export it again from the CA if the file is damaged."},
		{CodeKeyUnreadable, SeverityError, "The private key file cannot be read",
			"Give the private key as PEM (PKCS#1, SEC1 or PKCS#8, optionally encrypted)."},
		{CodePassphrase, SeverityError, "Passphrase does not match to the key",
			"Enter the passphrase the key was encrypted with; check it with 'openssl pkey -in KEY -noout'."},
		{CodeKeyMismatch, SeverityError, "The private key does not belong to the certificate",
			"Use the key the certificate request was made with; compare 'openssl x509 -noout -pubkey' and 'openssl pkey -pubout'."},
		{CodePFXUnreadable, SeverityError, "The PKCS#12 file cannot be read",
			"Export the .pfx/.p12 again, or give key and certificate as separate files."},
		{CodeNotYetValid, SeverityError, "The certificate is not valid yet",
			"Check the laptop's and the sensor's clocks, or wait until the certificate's start date."},
		{CodeExpired, SeverityError, "This SSL certificate has expired and isn't considered valid.",
			"Issue a new certificate for the sensor ('tapline ca issue') and import it."},
		{CodeExpiresSoon, SeverityWarning, "The certificate expires within 30 days",
			"Plan a renewal: issue the replacement now and import it before the expiry date."},
		{CodeWeakKey, SeverityError, "The key is too weak: RSA must have at least 2048 bits (or use ECDSA P-256/P-384)",
			"Issue a new certificate with an RSA 2048-bit (or larger) key."},
		{CodeWeakSignature, SeverityError, "The certificate is signed with a weak algorithm (SHA-1 or MD5)",
			"Have the CA sign with SHA-256 (sha256WithRSAEncryption)."},
		{CodeCNMismatch, SeverityError, "Subject CN is not the sensor's FQDN (browsers show NET::ERR_CERT_COMMON_NAME_INVALID)",
			"Issue the certificate with CN set to the sensor's fully qualified host name."},
		{CodeSANMissingName, SeverityError, "The Subject Alternative Name does not hold the sensor's FQDN",
			"Add DNS:<sensor FQDN> to subjectAltName when issuing."},
		{CodeSANMissingIP, SeverityError, "The Subject Alternative Name does not hold the sensor's IP address",
			"Add IP:<sensor address> to subjectAltName, or leave the IP out of the target if users never browse by address."},
		{CodeWildcard, SeverityError, "Wildcard certificates are not supported by the sensor",
			"Issue one certificate per sensor with its exact FQDN."},
		{CodeSubjectC, SeverityWarning, "The subject has no country (C)",
			"Add C=<two-letter country> to the subject."},
		{CodeSubjectO, SeverityWarning, "The subject has no organisation (O)",
			"Add O=<organisation> to the subject."},
		{CodeSubjectOU, SeverityWarning, "The subject has no organisational unit (OU)",
			"Add OU=<unit> to the subject."},
		{CodeEKU, SeverityError, "Extended Key Usage is present but lacks serverAuth",
			"Issue with extendedKeyUsage = serverAuth."},
		{CodeKeyUsage, SeverityError, "Key Usage is present but lacks digitalSignature or keyEncipherment",
			"Issue with keyUsage = digitalSignature, keyEncipherment."},
		{CodeChainOfTrust, SeverityError, "Cannot validate chain of trust. The provided Certificate and Root CA don't match.",
			"Give a chain file holding every CA certificate from the issuer up to the root, in PEM."},
		{CodeCRLDPMissing, SeverityError, "Certificate validation is on but the certificate has no http:// CRL distribution point",
			"Issue with crlDistributionPoints = URI:http://<crl host>/<file>.crl (http, port 80), or turn certificate validation off."},
		{CodeCRLDPUnneeded, SeverityWarning, "The certificate names a CRL distribution point but certificate validation is off",
			"Either enable certificate validation on the sensor, or issue without a CRL distribution point."},
		{CodeCRLSignature, SeverityError, "The CRL is not signed by the certificate's issuer",
			"Give the CRL published by the CA that issued the sensor certificate."},
		{CodeCRLNotCurrent, SeverityError, "The CRL is not current (outside thisUpdate..nextUpdate)",
			"Publish a fresh CRL from the CA ('tapline ca crl') and check the clocks."},
		{CodeRevoked, SeverityError, "This certificate has been revoked by the CRL and can't be trusted for a secure connection",
			"Issue a new certificate for the sensor; a revoked one cannot be used again."},
		{CodePassphraseChars, SeverityError, "The passphrase holds characters the sensor does not accept",
			"Use only a-z A-Z 0-9 and ! # % ( ) + , - . / : = ? @ [ \\ ] ^ _ { } ~; re-encrypt with 'openssl pkey -aes256'."},
		{CodeFleetDuplicateCN, SeverityError, "Two sensors use the same subject CN",
			"Give every sensor its own FQDN and its own certificate."},
		{CodeFleetDuplicateCert, SeverityError, "Two sensors use the same certificate",
			"Issue one certificate per sensor."},
		{CodeChainUnreadable, SeverityError, "The chain file cannot be read",
			"Give the CA certificates as PEM (Bag Attributes lines are fine) or DER."},
		{CodeCRLUnreadable, SeverityError, "A CRL file cannot be read",
			"Give the CRL as PEM (X509 CRL) or DER."},
		{CodeNoChain, SeverityWarning, "No chain file: the chain of trust cannot be checked",
			"Give the chain file with every CA certificate up to the root."},
		{CodeNoHostname, SeverityWarning, "No sensor hostname given: CN and SAN were not checked",
			"Pass the sensor's FQDN (--hostname)."},
		{CodeLargeKey, SeverityInfo, "RSA keys above 2048 bits work but make TLS handshakes slower on the sensor",
			"Nothing to do unless the console feels slow; 2048 bits is enough."},
		{CodeCRLNoneForIssuer, SeverityWarning, "CRLs were given but none is from the certificate's issuer",
			"Give the CRL of the CA that issued the sensor certificate."},
		{CodeIsCA, SeverityError, "The certificate is a CA certificate, not a server certificate",
			"Issue an end-entity certificate (basicConstraints CA:FALSE) for the sensor."},
		{CodeCRLNotGiven, SeverityInfo, "Certificate validation is on but no CRL was given: revocation was not checked here",
			"Download the CRL from the distribution point and pass it (--crl) to check what the sensor will fetch."},
		{CodeCRLUnverifiable, SeverityWarning, "The CRL cannot be checked without the issuing CA certificate",
			"Give the chain file (--chain) so the CRL's signature can be verified and its entries trusted."},
		{CodeCRLUndetermined, SeverityError, "Certificate validation is on but no usable CRL given covers the certificate: its revocation status is undetermined and the sensor refuses it",
			"Give the current CRL published at the certificate's CRL distribution point by its issuing CA (with its base CRL when it is a delta CRL)."},
		{CodeCRLUndecided, SeverityWarning, "The CRLs given are the issuer's but do not decide the certificate's revocation status",
			"Give the CRL of the certificate's own distribution point covering every reason (and the base of a delta CRL); with certificate validation on the sensor would refuse this."},
		{CodeCAExpired, SeverityError, "A CA certificate of the chain has expired",
			"Renew the CA certificate named here (re-certify it with the same name and key), put the renewed one in the chain file and check again; the sensor certificate need not be re-issued."},
		{CodePFXPassphrase, SeverityError, "The passphrase does not open the PKCS#12 file",
			"Enter the passphrase the .pfx/.p12 file was exported with; check it with 'openssl pkcs12 -in FILE -noout' (add -legacy for files from older Windows or Java tools)."},
		{CodeJunk, SeverityWarning, "A file holds something besides certificates and keys: it was skipped",
			"Remove what is named (text pasted in, a block cut short) and make sure the file is complete; the sensor reads only whole PEM blocks."},
	}
}

// lookupCode returns the catalogue entry for code; it panics on an unknown
// code, which is a programming error caught by the tests.
func lookupCode(code string) Code {
	for _, c := range Codes() {
		if c.Code == code {
			return c
		}
	}
	panic("certs: unknown finding code " + code)
}

// newFinding builds the Finding for code. detail, when not empty, is added to
// the message after the catalogue wording so the sensor's words stay
// searchable.
func newFinding(code, detail string, args ...any) Finding {
	c := lookupCode(code)
	msg := c.Message
	if detail != "" {
		if len(args) > 0 {
			detail = fmt.Sprintf(detail, args...)
		}
		msg += " (" + detail + ")"
	}
	return Finding{Code: c.Code, Severity: c.Severity, Message: msg, Hint: c.Hint}
}
