package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/tapline/tapline/internal/safefile"
)

// EnsureSelfSigned creates the first-start self-signed certificate for
// hostname at certPath/keyPath unless it exists (test setups only; a
// provisioned certificate replaces it).
func EnsureSelfSigned(certPath, keyPath, hostname string, now time.Time) error {
	if _, err := os.Stat(certPath); err == nil {
		if _, err := os.Stat(keyPath); err == nil {
			return nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hostname, Organization: []string{"sensorcore self-signed"}},
		DNSNames:              []string{hostname},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return err
	}
	if err := safefile.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		return err
	}
	return safefile.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// LoadKeyPair loads a certificate (with its chain appended when given) and
// key for serving.
func LoadKeyPair(certPEM, chainPEM, keyPEM []byte) (*tls.Certificate, error) {
	all := append(append([]byte{}, certPEM...), '\n')
	all = append(all, chainPEM...)
	c, err := tls.X509KeyPair(all, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("console: certificate and key: %w", err)
	}
	if len(c.Certificate) == 0 {
		return nil, errors.New("console: no certificate")
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return nil, err
	}
	// Drop chain copies of the leaf and self-signed roots: browsers have them.
	kept := [][]byte{c.Certificate[0]}
	for _, d := range c.Certificate[1:] {
		x, err := x509.ParseCertificate(d)
		if err != nil || x.Equal(leaf) || string(x.RawSubject) == string(x.RawIssuer) {
			continue
		}
		kept = append(kept, d)
	}
	c.Certificate, c.Leaf = kept, leaf
	return &c, nil
}

// Fingerprint is the hex SHA-256 of a certificate's DER.
func Fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}
