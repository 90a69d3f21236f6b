package certs

import (
	"bytes"
	"encoding/pem"
)

// Kind is what a file holds, detected by content (never by its name).
type Kind string

// Kinds Detect reports.
const (
	KindCertificate  Kind = "certificate"
	KindPrivateKey   Kind = "private key"
	KindEncryptedKey Kind = "encrypted private key"
	KindCRL          Kind = "CRL"
	KindPKCS12       Kind = "PKCS#12"
	KindCSR          Kind = "certificate request"
	KindUnknown      Kind = "unknown"
)

// isPEM reports whether data carries a PEM armour line.
func isPEM(data []byte) bool { return bytes.Contains(data, []byte("-----BEGIN ")) }

// pemBlocks decodes every PEM block in data. Text between blocks ("Bag
// Attributes" preambles written by openssl pkcs12) is skipped, as RFC 7468 §2
// allows. A BEGIN line without a decodable block is reported as truncation.
func pemBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if bytes.Contains(rest, []byte("-----BEGIN ")) {
		return blocks, ErrTruncated
	}
	return blocks, nil
}

// looksLike names common non-PKI content so error lines can say "looks like a
// JPEG image". It returns "" when it has no idea.
func looksLike(data []byte) string {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "nothing (the file is empty)"
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return "a JPEG image"
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return "a PNG image"
	case bytes.HasPrefix(data, []byte("%PDF")):
		return "a PDF document"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "a ZIP archive"
	case bytes.HasPrefix(data, []byte("ssh-")) || bytes.Contains(data, []byte("BEGIN OPENSSH PRIVATE KEY")):
		return "an OpenSSH key, not an X.509 one"
	case isPEM(data):
		return "PEM of another kind"
	case len(data) > 0 && data[0] == 0x30 && derEndsEarly(data):
		return derTruncatedLooks
	case len(data) > 0 && data[0] == 0x30:
		return "DER of another kind"
	case isText(data):
		return "text"
	}
	return ""
}

// derTruncatedLooks is what looksLike says of a DER file cut short.
const derTruncatedLooks = "DER that ends early (a truncated file?)"

// derEndsEarly reports whether the first DER element of b declares more
// contents than b holds (X.690 §8.1.3), as a file cut short does.
func derEndsEarly(b []byte) bool {
	if len(b) < 2 {
		return true
	}
	l, start := int(b[1]), 2
	if l >= 0x80 {
		n := l & 0x7f
		if n == 0 || n > 4 {
			return false // indefinite or absurd length: malformed, not short
		}
		if start+n > len(b) {
			return true
		}
		l = 0
		for _, x := range b[start : start+n] {
			l = l<<8 | int(x)
		}
		start += n
	}
	return start+l > len(b)
}

func isText(data []byte) bool {
	n := min(len(data), 512)
	for _, c := range data[:n] {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f {
			return false
		}
	}
	return n > 0
}

// Detect says what data holds, by content: PEM block types, or for DER the
// structure that parses. It never fails; KindUnknown means nothing matched.
func Detect(data []byte) Kind {
	if isPEM(data) {
		blocks, _ := pemBlocks(data)
		for _, b := range blocks {
			switch b.Type {
			case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
				return KindCertificate
			case "ENCRYPTED PRIVATE KEY":
				return KindEncryptedKey
			case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
				if _, ok := b.Headers["DEK-Info"]; ok {
					return KindEncryptedKey
				}
				return KindPrivateKey
			case "X509 CRL":
				return KindCRL
			case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
				return KindCSR
			case "PKCS12":
				return KindPKCS12
			}
		}
		return KindUnknown
	}
	if _, err := ParseCertificates(data); err == nil {
		return KindCertificate
	}
	if _, err := ParseCRL(data); err == nil {
		return KindCRL
	}
	if _, err := ParsePrivateKey(data, nil); err == nil {
		return KindPrivateKey
	} else if err == ErrPassphraseRequired {
		return KindEncryptedKey
	}
	if isPKCS12(data) {
		return KindPKCS12
	}
	return KindUnknown
}
