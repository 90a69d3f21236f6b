package ca

import (
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
// reason code (0 unspecified, 1 keyCompromise, 4 superseded, 5
// cessationOfOperation). Revoking twice is an error.
func (c *CA) Revoke(serial *big.Int, reason int, now time.Time) error {
	if serial == nil || serial.Sign() <= 0 {
		return errors.New("ca: revoke: a positive serial number is required")
	}
	if reason < 0 || reason > 10 || reason == 7 {
		return fmt.Errorf("ca: revoke: reason %d is not an RFC 5280 CRLReason", reason)
	}
	s := hex.EncodeToString(serial.Bytes())
	for _, r := range c.State.Revoked {
		if r.Serial == s {
			return fmt.Errorf("ca: serial %s is already revoked", s)
		}
	}
	c.State.Revoked = append(c.State.Revoked, Revocation{Serial: s, Time: now.UTC().Truncate(time.Second), Reason: reason})
	return nil
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
// number in c.State.
func (c *CA) CRL(now time.Time, validity time.Duration, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if validity <= 0 {
		validity = 7 * 24 * time.Hour
	}
	entries := make([]x509.RevocationListEntry, 0, len(c.State.Revoked))
	for _, r := range c.State.Revoked {
		n, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("ca: state holds a bad serial %q", r.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: r.Time, ReasonCode: r.Reason})
	}
	issuer, key := c.Issuer()
	c.State.CRLNumber++
	der, err := x509.CreateRevocationList(rnd, &x509.RevocationList{
		Number:                    big.NewInt(c.State.CRLNumber),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.Add(validity).UTC(),
		RevokedCertificateEntries: entries,
	}, issuer, key)
	if err != nil {
		c.State.CRLNumber--
		return nil, fmt.Errorf("ca: signing the CRL: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
