package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"unicode/utf16"
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

// TextMark names what a PEM file starts with that is not PEM: "UTF-8
// byte-order mark" (Windows Notepad's "UTF-8 with BOM"), "UTF-16 little
// endian" or "UTF-16 big endian" (Notepad's "Unicode"); "" for none.
// Every Parse function reads such files as OpenSSL reads the first kind.
func TextMark(data []byte) string {
	_, mark := plainText(data)
	return mark
}

// plainText returns data without a leading UTF-8 byte-order mark, or a
// UTF-16 text (with its byte-order mark) as UTF-8, when what remains is PEM;
// otherwise data itself. mark names what was removed.
func plainText(data []byte) (out []byte, mark string) {
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}) && isPEM(data[3:]):
		return data[3:], "UTF-8 byte-order mark"
	case len(data) >= 2 && len(data)%2 == 0 && (data[0] == 0xff && data[1] == 0xfe || data[0] == 0xfe && data[1] == 0xff):
		le := data[0] == 0xff
		u := make([]uint16, 0, len(data)/2-1)
		for i := 2; i+1 < len(data); i += 2 {
			if le {
				u = append(u, uint16(data[i])|uint16(data[i+1])<<8)
			} else {
				u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
			}
		}
		text := []byte(string(utf16.Decode(u)))
		if !isPEM(text) {
			return data, ""
		}
		if le {
			return text, "UTF-16 little endian"
		}
		return text, "UTF-16 big endian"
	}
	return data, ""
}

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
		switch k := Detect(data); k {
		case KindUnknown:
			return "PEM of another kind"
		case KindEncryptedKey:
			return "an encrypted private key (PEM)"
		default:
			return "a " + string(k) + " (PEM)"
		}
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
	data, _ = plainText(data)
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
	if _, err := x509.ParseCertificateRequest(data); err == nil {
		return KindCSR
	}
	return KindUnknown
}

// PEMJunk describes, one line each, what a PEM file holds besides its PEM
// blocks and the text OpenSSL writes around them ("Bag Attributes"
// preambles, subject= and issuer= lines): a note pasted in, a block cut
// short, a block whose base64 does not decode. It says on which line each
// starts. Parsers skip such text, as RFC 7468 §2 and OpenSSL do; this says
// what was skipped. It is nil for DER and for clean PEM.
func PEMJunk(data []byte) []string {
	data, _ = plainText(data)
	if !isPEM(data) {
		return nil
	}
	var out []string
	lineOf := func(off int) int { return bytes.Count(data[:off], []byte("\n")) + 1 }
	off := 0
	rest := data
	for {
		b, r := pem.Decode(rest)
		if b == nil {
			break
		}
		consumed := len(rest) - len(r)
		begin := bytes.LastIndex(rest[:consumed], []byte("-----BEGIN "+b.Type))
		if begin < 0 {
			begin = 0
		}
		out = append(out, textJunk(rest[:begin], off, lineOf)...)
		off += consumed
		rest = r
	}
	return append(out, textJunk(rest, off, lineOf)...)
}

// textJunk describes the junk in text found between PEM blocks at offset
// off of the file.
func textJunk(text []byte, off int, lineOf func(int) int) []string {
	var out []string
	pos := 0
	for _, line := range bytes.SplitAfter(text, []byte("\n")) {
		at := off + pos
		pos += len(line)
		l := bytes.TrimSpace(line)
		switch {
		case len(l) == 0:
		case bytes.HasPrefix(l, []byte("-----BEGIN ")):
			kind := bytes.TrimSuffix(bytes.TrimPrefix(l, []byte("-----BEGIN ")), []byte("-----"))
			return append(out, fmt.Sprintf("line %d: a %s block that does not end or does not decode (cut short?)", lineOf(at), kind))
		case bytes.HasPrefix(l, []byte("-----END ")):
			out = append(out, fmt.Sprintf("line %d: an END line without its BEGIN", lineOf(at)))
		case isPreamble(line):
		default:
			if len(l) > 40 {
				l = append(l[:37:37], "..."...)
			}
			out = append(out, fmt.Sprintf("line %d: %q is not PEM", lineOf(at), l))
		}
	}
	return out
}

// isPreamble reports whether line is of the text openssl pkcs12 and
// openssl x509 -text write before a block.
func isPreamble(line []byte) bool {
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return true // an attribute of a preamble, or openssl x509 -text output
	}
	for _, p := range []string{"Bag Attributes", "Key Attributes", "subject=", "issuer=", "<No Attributes>", "Certificate:", "Data:"} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}
