package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
)

// Revoke adds serial to the revoked list at now with an RFC 5280 §5.3.1
// reason code (0 unspecified, 1 keyCompromise, 2 cACompromise, 4
// superseded, 5 cessationOfOperation). The intermediate's own serial goes on
// the root's list (its CRL is the root's); every other serial on the list of
// the CA that issues sensor certificates. Revoking twice is an error.
func (c *CA) Revoke(serial *big.Int, reason int, now time.Time) error {
	if serial == nil || serial.Sign() <= 0 {
		return errors.New("ca: revoke: a positive serial number is required")
	}
	if reason < 0 || reason > 10 || reason == 7 {
		return fmt.Errorf("ca: revoke: reason %d is not an RFC 5280 CRLReason", reason)
	}
	list := &c.State.Revoked
	if c.IsIntermediate(serial) {
		list = &c.State.RootRevoked
	}
	s := hex.EncodeToString(serial.Bytes())
	for _, r := range *list {
		if r.Serial == s {
			return fmt.Errorf("ca: serial %s is already revoked", s)
		}
	}
	*list = append(*list, Revocation{Serial: s, Time: now.UTC().Truncate(time.Second), Reason: reason})
	return nil
}

// IsIntermediate reports whether serial is the intermediate CA's.
func (c *CA) IsIntermediate(serial *big.Int) bool {
	return c.Intermediate != nil && serial != nil && c.Intermediate.SerialNumber.Cmp(serial) == 0
}

// ParseSerial reads a serial number as hex, with or without colons or 0x.
func ParseSerial(s string) (*big.Int, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", "")), "0x")
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("ca: %q is not a hex serial number", s)
	}
	return n, nil
}

// CRL signs a complete CRL (RFC 5280 §5) with the issuing CA: the next CRL
// number, thisUpdate = now, nextUpdate = now + validity (7 days when zero),
// every revoked serial with its reason. It returns the PEM and records the
// number in c.State. CRLs signs the CRL of every CA level.
func (c *CA) CRL(now time.Time, validity time.Duration, rnd io.Reader) ([]byte, error) {
	issuer, key := c.Issuer()
	return signCRL(issuer, key, &c.State.CRLNumber, c.State.Revoked, now, validity, rnd)
}

// CRLFile is one CA level's CRL.
type CRLFile struct {
	Issuer *x509.Certificate // the CA whose CRL it is
	Number int64
	PEM    []byte
}

// CRLs signs a complete CRL for every CA level, the issuing CA's first: with
// an intermediate, its CRL (the sensor certificates it revoked) and the
// root's (the intermediate, if revoked), so a verifier checking every
// certificate of the path (openssl verify -crl_check_all, certs verify
// --require-crl) finds a current CRL for each. Each CRL lives validity (7
// days when zero) from now.
func (c *CA) CRLs(now time.Time, validity time.Duration, rnd io.Reader) ([]CRLFile, error) {
	issuer, _ := c.Issuer()
	p, err := c.CRL(now, validity, rnd)
	if err != nil {
		return nil, err
	}
	out := []CRLFile{{Issuer: issuer, Number: c.State.CRLNumber, PEM: p}}
	if c.Intermediate == nil {
		return out, nil
	}
	p, err = signCRL(c.Root, c.RootKey, &c.State.RootCRLNumber, c.State.RootRevoked, now, validity, rnd)
	if err != nil {
		return nil, err
	}
	return append(out, CRLFile{Issuer: c.Root, Number: c.State.RootCRLNumber, PEM: p}), nil
}

// signCRL signs the CRL of issuer listing revoked, numbered *number+1.
func signCRL(issuer *x509.Certificate, key crypto.Signer, number *int64, revoked []Revocation, now time.Time, validity time.Duration, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if validity <= 0 {
		validity = 7 * 24 * time.Hour
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, r := range revoked {
		n, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("ca: state holds a bad serial %q", r.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: r.Time, ReasonCode: r.Reason})
	}
	der, err := x509.CreateRevocationList(rnd, &x509.RevocationList{
		Number:                    big.NewInt(*number + 1),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.Add(validity).UTC(),
		RevokedCertificateEntries: entries,
	}, issuer, key)
	if err != nil {
		return nil, fmt.Errorf("ca: signing the CRL of %s: %w", issuer.Subject.CommonName, err)
	}
	*number++
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
