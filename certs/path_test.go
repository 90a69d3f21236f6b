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

	cases := []struct {
		name  string
		root  *x509.Certificate
		links []link
		leaf  *x509.Certificate
		want  string // "" valid, else a substring of the error
	}{
		{"self-issued does not count against pathlen", caTmpl("Root", -1),
			[]link{{caTmpl("A", 1), k1}, {caTmpl("A", 1), k2}, {caTmpl("B", 0), k3}}, leaf(host), ""},
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
