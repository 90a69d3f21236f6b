package certs

import (
	"crypto/dsa" //lint:ignore SA1019 DSA keys are named, never used
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// A key algorithm as OpenSSL names it, and whether Tapline (and the sensor)
// work with it; why not when not.
type keyAlgorithm struct {
	name        string // "RSA", "RSA-PSS", "ECDSA", "Ed25519", "Ed448", "DSA", "X25519", "X448"
	unsupported string // why not, "" when supported
}

// Key algorithm OIDs (RFC 8017, RFC 4055, RFC 5480, RFC 8410, RFC 3279).
var keyAlgorithms = []struct {
	oid asn1.ObjectIdentifier
	alg keyAlgorithm
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, keyAlgorithm{"RSA", ""}},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}, keyAlgorithm{"RSA-PSS", "an RSA key restricted to PSS signatures, which Go's crypto/x509 does not read and the sensor does not take: issue a plain RSA key"}},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, keyAlgorithm{"ECDSA", ""}},
	{asn1.ObjectIdentifier{1, 3, 101, 112}, keyAlgorithm{"Ed25519", ""}},
	{asn1.ObjectIdentifier{1, 3, 101, 113}, keyAlgorithm{"Ed448", "Go's crypto has no Ed448 and the sensor takes RSA or ECDSA keys"}},
	{asn1.ObjectIdentifier{1, 3, 101, 110}, keyAlgorithm{"X25519", "a key-agreement key: it cannot sign"}},
	{asn1.ObjectIdentifier{1, 3, 101, 111}, keyAlgorithm{"X448", "a key-agreement key: it cannot sign"}},
	{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}, keyAlgorithm{"DSA", "DSA is obsolete: Go's crypto/x509 verifies no DSA signature and the sensor takes RSA or ECDSA keys"}},
}

// Named curves (RFC 5480, RFC 5639, SEC 2) by OID, with OpenSSL's names.
var curveNames = []struct {
	oid       asn1.ObjectIdentifier
	name      string
	supported bool
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, "P-256", true},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, "P-384", true},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, "P-521", true},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, "P-192 (prime192v1)", false},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, "P-224 (secp224r1)", false},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, "secp256k1", false},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP256r1", false},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP384r1", false},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, "brainpoolP512r1", false},
	{asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}, "SM2", false},
}

// describeSPKIAlgorithm names the key of an AlgorithmIdentifier and its
// public key bits (from a SubjectPublicKeyInfo or a PKCS#8 PrivateKeyInfo,
// whose key field is then the private key): "RSA-PSS 2048", "ECDSA
// secp256k1", "Ed448", and why it is unsupported, if it is.
func describeSPKIAlgorithm(alg pkix.AlgorithmIdentifier, key []byte, private bool) (name, unsupported string) {
	for _, k := range keyAlgorithms {
		if !alg.Algorithm.Equal(k.oid) {
			continue
		}
		name, unsupported = k.alg.name, k.alg.unsupported
		switch k.alg.name {
		case "RSA", "RSA-PSS":
			if bits := rsaBits(key, private); bits > 0 {
				name += fmt.Sprintf(" %d", bits)
			}
		case "DSA":
			var p struct{ P, Q, G *big.Int }
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err == nil && p.P != nil {
				name += fmt.Sprintf(" %d", p.P.BitLen())
			}
		case "ECDSA":
			var curve asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &curve); err != nil {
				return "ECDSA (explicit curve parameters)", "a curve given by its parameters rather than named; Go's crypto reads named curves only"
			}
			for _, c := range curveNames {
				if curve.Equal(c.oid) {
					if !c.supported {
						return "ECDSA " + c.name, "a curve Go's crypto does not implement and the sensor does not take: use P-256 or P-384"
					}
					return "ECDSA " + c.name, ""
				}
			}
			return "ECDSA curve " + curve.String(), "an unknown curve: use P-256 or P-384"
		}
		return name, unsupported
	}
	return "unknown algorithm " + alg.Algorithm.String(), "an algorithm Tapline does not know"
}

// rsaBits is the modulus size of an RSAPublicKey, or of an RSAPrivateKey
// when private.
func rsaBits(key []byte, private bool) int {
	s := cryptobyte.String(key)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return 0
	}
	if private && !seq.SkipASN1(cbasn1.INTEGER) { // version
		return 0
	}
	n := new(big.Int)
	if !seq.ReadASN1Integer(n) {
		return 0
	}
	return n.BitLen()
}

// PublicKeyName names c's public key as engineers and OpenSSL say it
// ("RSA 2048", "ECDSA P-256", "Ed448", "RSA-PSS 2048", "DSA 2048"), adding
// "(not supported: why)" for a key Tapline and the sensor do not work with.
func PublicKeyName(c *x509.Certificate) string {
	return PublicKeyNameOf(c.RawSubjectPublicKeyInfo, c.PublicKey)
}

// PublicKeyNameOf is PublicKeyName for a public key given as its DER
// SubjectPublicKeyInfo and, when Go read it, the key (a request's, say).
func PublicKeyNameOf(spki []byte, pub any) string {
	if pub != nil {
		return KeyName(pub)
	}
	return describeSPKI(spki)
}

// describeSPKI names the key of a DER SubjectPublicKeyInfo.
func describeSPKI(spki []byte) string {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return "unreadable public key"
	}
	name, why := describeSPKIAlgorithm(info.Algorithm, info.PublicKey.RightAlign(), false)
	return withUnsupported(name, why)
}

func withUnsupported(name, why string) string {
	if why == "" {
		return name
	}
	return name + " (not supported: " + why + ")"
}

// describePKCS8 names the key of an unencrypted PKCS#8 PrivateKeyInfo that
// ParsePrivateKey could not open, or "" when der is not one.
func describePKCS8(der []byte) string {
	var info struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 || len(info.Algorithm.Algorithm) == 0 {
		return ""
	}
	name, why := describeSPKIAlgorithm(info.Algorithm, info.PrivateKey, true)
	return withUnsupported(name, why)
}

// Signature algorithms by OID, with OpenSSL's names (RFC 4055, RFC 5758,
// RFC 8410, RFC 3279).
var signatureNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, "md5WithRSAEncryption"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, "sha1WithRSAEncryption"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, "sha224WithRSAEncryption"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, "sha256WithRSAEncryption"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, "sha384WithRSAEncryption"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, "sha512WithRSAEncryption"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}, "rsassaPss"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, "ecdsa-with-SHA1"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, "ecdsa-with-SHA224"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, "ecdsa-with-SHA256"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, "ecdsa-with-SHA384"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, "ecdsa-with-SHA512"},
	{asn1.ObjectIdentifier{1, 3, 101, 112}, "ED25519"},
	{asn1.ObjectIdentifier{1, 3, 101, 113}, "ED448"},
	{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}, "dsaWithSHA1"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 1}, "dsa_with_SHA224"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}, "dsa_with_SHA256"},
}

// Hash algorithm names inside RSASSA-PSS parameters (RFC 4055 §3.1).
var pssHashes = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{oidDigestSHA1, "sha1"}, {oidDigestSHA256, "sha256"}, {oidDigestSHA384, "sha384"}, {oidDigestSHA512, "sha512"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, "sha224"},
}

// SignatureName names the signature algorithm of a signed DER structure
// (a certificate's Raw, a CRL's Raw, a request's Raw: SEQUENCE {tbs,
// signatureAlgorithm, signature}) as OpenSSL does: "sha256WithRSAEncryption",
// "ecdsa-with-SHA256", "ED448", "rsassaPss (sha256)"; an algorithm it does
// not know is named by its OID.
func SignatureName(signed []byte) string {
	s := cryptobyte.String(signed)
	var outer cryptobyte.String
	var algDER cryptobyte.String
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.SkipASN1(cbasn1.SEQUENCE) || !outer.ReadASN1Element(&algDER, cbasn1.SEQUENCE) {
		return "unreadable"
	}
	var alg pkix.AlgorithmIdentifier
	if _, err := asn1.Unmarshal(algDER, &alg); err != nil {
		return "unreadable"
	}
	for _, n := range signatureNames {
		if !alg.Algorithm.Equal(n.oid) {
			continue
		}
		if n.name != "rsassaPss" {
			return n.name
		}
		var params struct {
			Hash pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:0"`
		}
		hashName := "sha1" // RFC 4055 §3.1: the default
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err == nil && len(params.Hash.Algorithm) > 0 {
			hashName = params.Hash.Algorithm.String()
			for _, h := range pssHashes {
				if params.Hash.Algorithm.Equal(h.oid) {
					hashName = h.name
				}
			}
		}
		return "rsassaPss (" + hashName + ")"
	}
	return "unknown signature algorithm " + alg.Algorithm.String()
}

// dsaKeyName names a DSA public key Go did read.
func dsaKeyName(k *dsa.PublicKey) string {
	for _, a := range keyAlgorithms {
		if a.alg.name == "DSA" {
			return withUnsupported(fmt.Sprintf("DSA %d", k.P.BitLen()), a.alg.unsupported)
		}
	}
	return "DSA"
}
