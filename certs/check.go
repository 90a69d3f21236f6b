package certs

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// bundle is a parsed Source with its target and time: what every sensor rule
// reads. Rules never parse; loading has already turned unreadable input into
// findings.
type bundle struct {
	src    Source
	target Target
	now    time.Time

	leaf      *x509.Certificate
	key       crypto.Signer
	keyErr    error               // why the key did not open, when it did not
	extra     []*x509.Certificate // CA certificates from the chain file or the PKCS#12 file
	anchors   []*x509.Certificate
	crls      []*CRL
	crlNames  map[*CRL]string     // the file each CRL came from, for findings
	path      []*x509.Certificate // leaf first, up to a root; nil when none was found
	pathErr   error
	hasChain  bool // a chain file, anchors or a PKCS#12 chain was given
	loadFinds []Finding
}

// rule is one sensor check. Each lives in its own rule_*.go file with its
// citation and its own test.
type rule func(b *bundle) []Finding

// sensorRules lists every rule in the order findings are reported.
func sensorRules() []rule {
	return []rule{
		rulePassphrase,
		ruleKeyMatch,
		ruleValidity,
		ruleKeyStrength,
		ruleSignatureAlgorithm,
		ruleBasicConstraints,
		ruleCommonName,
		ruleSubjectAltName,
		ruleWildcard,
		ruleSubjectFields,
		ruleExtKeyUsage,
		ruleKeyUsage,
		ruleChainOfTrust,
		ruleCRLDistributionPoint,
		ruleCRL,
		rulePassphraseChars,
	}
}

// name returns the file name for field ("cert", "key", ...) for messages.
func (b *bundle) name(field string) string {
	if n := b.src.Names[field]; n != "" {
		return n
	}
	return field
}

// CheckSensor checks a sensor's certificate bundle the way the sensor would
// when the engineer imports it (docs/field-facts.md "Certificate requirements"),
// at time now, for target. It parses Source by content, runs every sensor
// rule and returns every finding with what could be parsed. It never panics
// and never fails: unreadable input is itself a finding.
func CheckSensor(src Source, t Target, now time.Time) *Report {
	b := loadBundle(src, t, now)
	r := &Report{Leaf: b.leaf, Key: b.key, Chain: b.path}
	if b.leaf != nil {
		sum := sha256.Sum256(b.leaf.Raw)
		r.FingerprintSHA256 = hex.EncodeToString(sum[:])
	}
	r.Findings = append(r.Findings, b.loadFinds...)
	if b.leaf == nil {
		return r
	}
	for _, rl := range sensorRules() {
		r.Findings = append(r.Findings, rl(b)...)
	}
	r.FetchCRLs = b.fetchLevels()
	return r
}

func loadBundle(src Source, t Target, now time.Time) *bundle {
	b := &bundle{src: src, target: t, now: now}
	if len(src.PFX) > 0 {
		p, err := ParsePKCS12(src.PFX, src.Passphrase)
		switch {
		case errors.Is(err, ErrIncorrectPassphrase):
			b.keyErr = err
			b.loadFinds = append(b.loadFinds, newFinding(CodePFXPassphrase, "%s does not open with the given passphrase", b.name("pfx")))
		case errors.Is(err, ErrPassphraseRequired):
			b.keyErr = err
			b.loadFinds = append(b.loadFinds, newFinding(CodePFXPassphrase, "%s is encrypted and no passphrase was given", b.name("pfx")))
		case err != nil:
			b.loadFinds = append(b.loadFinds, newFinding(CodePFXUnreadable, "%s: %s", b.name("pfx"), errText(err)))
		default:
			b.leaf, b.key, b.extra = p.Leaf, p.Key, p.Chain
			b.hasChain = b.hasChain || len(p.Chain) > 0
		}
	}
	if len(src.PFX) == 0 || len(src.Cert) > 0 {
		if len(src.Cert) == 0 && src.Names["cert"] == "" {
			b.loadFinds = append(b.loadFinds, newFinding(CodeCertUnreadable, "no certificate given"))
		} else if cs, err := b.readCerts("cert", src.Cert); err != nil {
			b.loadFinds = append(b.loadFinds, newFinding(CodeCertUnreadable, "%s: %s%s", b.name("cert"), errText(err), swapped(src, "cert")))
		} else {
			b.leaf = cs[0]
			b.extra = append(b.extra, cs[1:]...)
		}
	}
	if len(src.Key) == 0 && src.Names["key"] == "" && len(src.Cert) > 0 && isPEM(src.Cert) && Detect(src.Cert) != KindUnknown {
		// A combined PEM (certificate and key in one file) needs no --key.
		if _, err := ParsePrivateKey(src.Cert, src.Passphrase); !errors.Is(err, ErrNoKey) {
			src.Key = src.Cert
			b.src.Key = src.Cert
			b.src.Names = withName(src.Names, "key", b.name("cert"))
		}
	}
	if len(src.PFX) == 0 || len(src.Key) > 0 {
		if len(src.Key) == 0 && src.Names["key"] == "" {
			b.loadFinds = append(b.loadFinds, newFinding(CodeKeyUnreadable, "no private key given"))
		} else if k, err := ParsePrivateKey(src.Key, src.Passphrase); err != nil {
			b.keyErr = err
			if certIsKey, keyIsCert := LooksSwapped(src.Cert, src.Key); !errors.Is(err, ErrIncorrectPassphrase) && !errors.Is(err, ErrPassphraseRequired) && !(certIsKey && keyIsCert) {
				b.loadFinds = append(b.loadFinds, newFinding(CodeKeyUnreadable, "%s: %s%s", b.name("key"), errText(err), swapped(src, "key")))
			}
		} else {
			b.key = k
		}
	}
	if len(src.Chain) > 0 {
		b.hasChain = true
		if cs, err := b.readCerts("chain", src.Chain); err != nil {
			b.loadFinds = append(b.loadFinds, newFinding(CodeChainUnreadable, "%s: %s", b.name("chain"), errText(err)))
		} else {
			b.extra = append(b.extra, cs...)
		}
	}
	if len(src.Anchors) > 0 {
		b.hasChain = true
		if cs, err := b.readCerts("anchors", src.Anchors); err != nil {
			b.loadFinds = append(b.loadFinds, newFinding(CodeChainUnreadable, "%s: %s", b.name("anchors"), errText(err)))
		} else {
			b.anchors = cs
		}
	}
	for i, data := range src.CRLs {
		n := b.name("crl")
		if v := b.src.Names["crl"+strconv.Itoa(i+1)]; v != "" {
			n = v
		}
		rls, err := ParseCRLs(data)
		if err != nil {
			b.loadFinds = append(b.loadFinds, newFinding(CodeCRLUnreadable, "%s: %s", n, errText(err)))
			continue
		}
		if b.crlNames == nil {
			b.crlNames = map[*CRL]string{}
		}
		for j, rl := range rls {
			b.crlNames[rl] = n
			if len(rls) > 1 {
				b.crlNames[rl] = fmt.Sprintf("%s, CRL %d of %d", n, j+1, len(rls))
			}
		}
		b.crls = append(b.crls, rls...)
	}
	if b.leaf != nil {
		b.extra = withoutCert(b.extra, b.leaf)
		b.path, b.pathErr = b.buildPath()
	}
	return b
}

// readCerts reads the certificates of an input file: PEM or DER, with junk
// skipped and named in a warning, as OpenSSL skips it; or a
// certificate-only PKCS#12 file (a trust bundle), opened with the bundle's
// passphrase.
func (b *bundle) readCerts(field string, data []byte) ([]*x509.Certificate, error) {
	if Detect(data) == KindPKCS12 {
		cs, err := ParsePKCS12Certificates(data, b.src.Passphrase)
		if errors.Is(err, ErrPassphraseRequired) || errors.Is(err, ErrIncorrectPassphrase) {
			return nil, fmt.Errorf("a PKCS#12 file that does not open with the passphrase given")
		}
		return cs, err
	}
	cs, junk, err := ParseCertificatesTolerant(data)
	if err == nil && len(junk) > 0 {
		b.loadFinds = append(b.loadFinds, newFinding(CodeJunk, "%s: %s", b.name(field), strings.Join(junk, "; ")))
	}
	return cs, err
}

// LooksSwapped says whether a certificate file holds a private key and no
// certificate (certIsKey), and whether a key file holds a certificate and
// no key (keyIsCert): files given the wrong way round. A combined PEM
// (certificate and key in one file) is neither.
func LooksSwapped(cert, key []byte) (certIsKey, keyIsCert bool) {
	holds := func(b []byte) (c, k bool) {
		if len(b) == 0 {
			return false, false
		}
		_, cerr := ParseCertificates(b)
		_, kerr := ParsePrivateKey(b, nil)
		return cerr == nil, kerr == nil || errors.Is(kerr, ErrPassphraseRequired) || errors.Is(kerr, ErrIncorrectPassphrase)
	}
	cc, ck := holds(cert)
	kc, kk := holds(key)
	return ck && !cc, kc && !kk
}

// swapped adds to a read error of the certificate (field "cert") or key
// file what the file holds instead, and says when the two look swapped.
func swapped(src Source, field string) string {
	certIsKey, keyIsCert := LooksSwapped(src.Cert, src.Key)
	switch {
	case certIsKey && keyIsCert:
		return "; the certificate and key files look swapped: this one holds the private key, the other the certificate"
	case field == "cert" && certIsKey:
		return "; it holds a private key: give it as the key file"
	case field == "key" && keyIsCert:
		return "; it holds a certificate: give it as the certificate (or chain) file"
	}
	return ""
}

// withoutCert drops copies of c from list (a chain file often repeats the leaf).
func withoutCert(list []*x509.Certificate, c *x509.Certificate) []*x509.Certificate {
	out := list[:0:0]
	for _, x := range list {
		if !x.Equal(c) {
			out = append(out, x)
		}
	}
	return out
}

// buildPath finds a path from the leaf to a root: a self-signed certificate of
// the chain file or PKCS#12 file, or one of the anchors. It is the path
// validation of Verify (RFC 5280 §6.1, anchors as name and key), so `certs
// check` and `certs verify` agree; extended key usage and revocation are
// left to their own rules. Time is clamped into the leaf's validity so an
// expired leaf is reported once, by the validity rule, and not again as a
// broken chain.
func (b *bundle) buildPath() ([]*x509.Certificate, error) {
	anchors := slices.Clone(b.anchors)
	var inters []*x509.Certificate
	for _, c := range b.extra {
		if isSelfSigned(c) {
			anchors = append(anchors, c)
		} else {
			inters = append(inters, c)
		}
	}
	if isSelfSigned(b.leaf) {
		anchors = append(anchors, b.leaf)
	}
	pc := pathCheck{time: b.now}
	paths, err := validPaths(b.leaf, anchors, inters, pc)
	if err == nil {
		return paths[0], nil
	}
	if !b.now.Before(b.leaf.NotBefore) && !b.now.After(b.leaf.NotAfter) {
		return nil, err
	}
	// The leaf is outside its validity, which ruleValidity reports. The chain
	// question is then whether an issuer that verifies the leaf's signature
	// chains to a root now.
	for _, c := range append(slices.Clone(b.extra), b.anchors...) {
		if !nameEqual(c.RawSubject, b.leaf.RawIssuer) || b.leaf.CheckSignatureFrom(c) != nil {
			continue
		}
		if up, uerr := validPaths(c, anchors, inters, pc); uerr == nil {
			return append([]*x509.Certificate{b.leaf}, up[0]...), nil
		}
	}
	return nil, err
}

// isSelfSigned reports whether c's subject is its issuer and its signature
// verifies with its own key (RFC 5280 §6.1: a self-issued certificate).
func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawSubject) == string(c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

// issuerOf returns the certificate that issued the leaf: from the built path,
// else any given certificate whose subject is the leaf's issuer and whose key
// verifies the leaf's signature.
func (b *bundle) issuerOf(c *x509.Certificate) *x509.Certificate {
	for i, p := range b.path {
		if p == c && i+1 < len(b.path) {
			return b.path[i+1]
		}
	}
	cands := append(append([]*x509.Certificate{}, b.extra...), b.anchors...)
	for _, x := range cands {
		if nameEqual(x.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(x) == nil {
			return x
		}
	}
	if isSelfSigned(c) {
		return c
	}
	return nil
}

// errText is err's message without the package prefixes, for a finding's
// detail.
func errText(err error) string {
	return strings.ReplaceAll(err.Error(), "certs: ", "")
}

// withName returns a copy of names with key set to v.
func withName(names map[string]string, key, v string) map[string]string {
	out := make(map[string]string, len(names)+1)
	for k, x := range names {
		out[k] = x
	}
	out[key] = v
	return out
}
