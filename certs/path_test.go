package certs_test

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tapline/tapline/certs"
)

// caTmpl is a CA template with name cn and the given path length (-1: none).
func caTmpl(cn string, pathLen int) *x509.Certificate {
	t := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Plant"}}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLen: pathLen}
	if pathLen == 0 {
		t.MaxPathLenZero = true
	}
	return t
}

// dnConstraint is a critical name constraints extension permitting subjects
// under name (RFC 5280 §4.2.1.10 directoryName).
func dnConstraint(t testing.TB, name pkix.Name) pkix.Extension {
	rdn, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(rdn) })
			})
		})
	})
	v, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 30}, Critical: true, Value: v}
}

// TestVerifyOwnPathProcessing covers what Verify does itself where
// crypto/x509 is stricter than RFC 5280: self-issued intermediates do not
// count against path length (§6.1.4 (l)) nor meet name constraints (§6.1.3
// (b)), and directoryName constraints apply; everything else still fails.
func TestVerifyOwnPathProcessing(t *testing.T) {
	root := rsaKeys()[0]
	k1, k2, k3, kl := ecKey(t), ecKey(t), ecKey(t), ecKey(t)
	var rootSigner crypto.Signer = root

	type link struct {
		tmpl *x509.Certificate
		key  crypto.Signer
	}
	// chain builds root -> links... -> leaf; each link is signed by the previous key.
	chain := func(rootTmpl *x509.Certificate, links []link, leafTmpl *x509.Certificate) (*x509.Certificate, []*x509.Certificate, *x509.Certificate) {
		r := mustCert(t, rootTmpl, nil, rootSigner, rootSigner.Public())
		parent, parentKey := r, rootSigner
		var inters []*x509.Certificate
		for _, l := range links {
			c := mustCert(t, l.tmpl, parent, parentKey, l.key.Public())
			inters = append(inters, c)
			parent, parentKey = c, l.key
		}
		return r, inters, mustCert(t, leafTmpl, parent, parentKey, kl.Public())
	}
	leaf := func(host string) *x509.Certificate {
		l := leafTemplate(host)
		l.KeyUsage = x509.KeyUsageDigitalSignature
		return l
	}
	withNC := func(c *x509.Certificate, dns []string, ips []string) *x509.Certificate {
		c.PermittedDNSDomainsCritical = true
		c.PermittedDNSDomains = dns
		for _, s := range ips {
			_, n, _ := net.ParseCIDR(s)
			c.PermittedIPRanges = append(c.PermittedIPRanges, n)
		}
		return c
	}
	withSAN := func(c *x509.Certificate, dns ...string) *x509.Certificate { c.DNSNames = dns; return c }
	withExt := func(c *x509.Certificate, e pkix.Extension) *x509.Certificate {
		c.ExtraExtensions = append(c.ExtraExtensions, e)
		return c
	}
	plant := pkix.Name{Country: []string{"DE"}, Organization: []string{"Plant"}}
	// requireExplicitPolicy 0 (RFC 5280 §4.2.1.11): from here on, every
	// certificate must assert a policy the path accepts.
	requirePolicy := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}
	withPolicy := func(c *x509.Certificate) *x509.Certificate {
		oid, err := x509.OIDFromInts([]uint64{1, 3, 6, 1, 4, 1, 99999, 1})
		if err != nil {
			t.Fatal(err)
		}
		c.Policies = []x509.OID{oid}
		return c
	}

	cases := []struct {
		name  string
		root  *x509.Certificate
		links []link
		leaf  *x509.Certificate
		want  string // "" valid, else a substring of the error
	}{
		{"self-issued does not count against pathlen", caTmpl("Root", -1),
			[]link{{caTmpl("A", 1), k1}, {caTmpl("A", 1), k2}, {caTmpl("B", 0), k3}}, leaf(host), ""},
		// Policy processing: crypto/x509 does it on the paths it builds; on
		// a path Verify must build itself a policy constraint is refused.
		{"policy required, none asserted", caTmpl("Root", -1),
			[]link{{withExt(caTmpl("A", -1), requirePolicy), k1}}, leaf(host), "polic"},
		{"policy required and asserted", caTmpl("Root", -1),
			[]link{{withPolicy(withExt(caTmpl("A", -1), requirePolicy)), k1}}, withPolicy(leaf(host)), ""},
		{"policy constraint on a path built here", caTmpl("Root", -1),
			[]link{{caTmpl("A", 1), k1}, {withPolicy(withExt(caTmpl("A", 1), requirePolicy)), k2}, {withPolicy(caTmpl("B", 0)), k3}}, withPolicy(leaf(host)),
			"policy constraints or mappings, which are not processed"},
		{"pathlen exceeded", caTmpl("Root", -1),
			[]link{{caTmpl("A", 0), k1}, {caTmpl("B", 0), k2}}, leaf(host), "path length"},
		{"name constraints skip self-issued", withNC(caTmpl("Root", -1), []string{"plant.example"}, nil),
			[]link{{withSAN(caTmpl("A", -1), "plant.example"), k1}, {withSAN(caTmpl("A", -1), "other.example"), k2}}, leaf(host), ""},
		{"name constraints bind other intermediates", withNC(caTmpl("Root", -1), []string{"plant.example"}, nil),
			[]link{{withSAN(caTmpl("A", -1), "other.example"), k1}}, leaf(host), "not"},
		{"leaf outside permitted dns", withNC(caTmpl("Root", -1), []string{"plant.example"}, nil),
			[]link{{caTmpl("A", -1), k1}, {caTmpl("A", -1), k2}}, leaf("sensor-01.other.example"), "not"},
		{"leaf ip outside permitted range", withNC(caTmpl("Root", -1), []string{"plant.example"}, []string{"198.51.100.0/24"}),
			[]link{{caTmpl("A", -1), k1}, {caTmpl("A", -1), k2}}, leaf(host), "192.0.2.10"},
		{"directoryName permits the subject", withExt(caTmpl("Root", -1), dnConstraint(t, plant)),
			[]link{{caTmpl("A", -1), k1}}, func() *x509.Certificate {
				l := leaf(host)
				l.Subject = pkix.Name{Country: []string{"DE"}, Organization: []string{"Plant"}, CommonName: host}
				return l
			}(), ""},
		{"directoryName refuses another subject", withExt(caTmpl("Root", -1), dnConstraint(t, plant)),
			[]link{{caTmpl("A", -1), k1}}, func() *x509.Certificate {
				l := leaf(host)
				l.Subject = pkix.Name{Country: []string{"FR"}, Organization: []string{"Plant"}, CommonName: host}
				return l
			}(), "subject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// the CA subjects must carry the directoryName prefix when constrained by one
			for _, l := range c.links {
				if strings.HasPrefix(c.name, "directoryName") {
					l.tmpl.Subject.Country = []string{"DE"}
				}
			}
			r, inters, lf := chain(c.root, c.links, c.leaf)
			_, err := certs.Verify(lf, certs.VerifyOptions{Anchors: []*x509.Certificate{r}, Intermediates: inters, Time: now, DNSName: host})
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

// TestVerifyNameChaining: names chain per RFC 5280 §7.1 (case, spaces,
// PrintableString against UTF8String), where crypto/x509 compares bytes,
// and the CRL of an issuer whose name is written another way still covers
// its certificates (NIST PKITS §4.3).
func TestVerifyNameChaining(t *testing.T) {
	ca := mustCA(t)
	k := ecKey(t)
	// The intermediate names the root in lower case and as UTF8String.
	utf8Name := func(n pkix.Name) []byte {
		var rdn pkix.RDNSequence
		for _, atv := range n.ToRDNSequence() {
			v := strings.ToLower(atv[0].Value.(string))
			if atv[0].Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 6}) {
				v = atv[0].Value.(string)
			}
			rdn = append(rdn, []pkix.AttributeTypeAndValue{{Type: atv[0].Type, Value: asn1.RawValue{Tag: 12, Bytes: []byte("  " + v)}}})
		}
		der, err := asn1.Marshal(rdn)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	issuerAs := func(raw []byte) *x509.Certificate { c := *ca.root; c.RawSubject = raw; return &c }
	respelt := issuerAs(utf8Name(ca.root.Subject))
	inter := mustCert(t, caTmpl("Respelt Issuing CA", 0), respelt, ca.rootKey, ca.interKey.Public())
	if string(inter.RawIssuer) == string(ca.root.RawSubject) {
		t.Fatal("the test needs the issuer written another way")
	}
	tmpl := leafTemplate(host)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	leaf := mustCert(t, tmpl, inter, ca.interKey, k.Public())
	rootCRL := makeCRL(t, ca.root, ca.rootKey, crlSpec{})
	interCRL := makeCRL(t, inter, ca.interKey, crlSpec{})
	o := certs.VerifyOptions{Anchors: []*x509.Certificate{ca.root}, Intermediates: []*x509.Certificate{inter}, Time: now,
		CRLs: []*certs.CRL{rootCRL, interCRL}, RequireCRL: true}
	if chain, err := certs.Verify(leaf, o); err != nil || len(chain) != 3 {
		t.Fatalf("valid path refused: %v", err)
	}
	o.CRLs = []*certs.CRL{makeCRL(t, ca.root, ca.rootKey, crlSpec{entries: []revoke{{serial: inter.SerialNumber, reason: 1}}}), interCRL}
	if _, err := certs.Verify(leaf, o); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("the root's CRL must cover the intermediate: %v", err)
	}
	other := issuerAs(utf8Name(pkix.Name{Country: []string{"DE"}, Organization: []string{"Plant"}, CommonName: "Test Root CB"}))
	stray := mustCert(t, caTmpl("Stray Issuing CA", 0), other, ca.rootKey, ca.interKey.Public())
	strayLeaf := mustCert(t, leafTemplate(host), stray, ca.interKey, k.Public())
	if _, err := certs.Verify(strayLeaf, certs.VerifyOptions{Anchors: []*x509.Certificate{ca.root}, Intermediates: []*x509.Certificate{stray}, Time: now}); err == nil {
		t.Fatal("a name that differs in more than case and spaces chained")
	}
}
