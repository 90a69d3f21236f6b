package certs_test

import (
	"testing"

	"github.com/tapline/tapline/certs"
)

// TestCheckSensorOpenSSLBundle checks the OpenSSL-made bundle in every form
// the sensor takes, with certificate validation on and the root's CRL
// (root-crl.pem) for the intermediate: no errors, no warnings.
func TestCheckSensorOpenSSLBundle(t *testing.T) {
	cases := map[string]certs.Source{
		"pem":          {Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "chain.pem")},
		"der":          {Cert: fixture(t, "leaf.der"), Key: fixture(t, "leaf-pkcs1.der"), Chain: fixture(t, "chain.der")},
		"bag chain":    {Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf-enc-aes256.pem"), Chain: fixture(t, "chain-bag.pem"), Passphrase: []byte(fixturePass)},
		"legacy key":   {Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf-legacy-des3.pem"), Chain: fixture(t, "chain.pem"), Passphrase: []byte(fixturePass)},
		"modern pfx":   {PFX: fixture(t, "modern.pfx"), Passphrase: []byte(fixturePass)},
		"legacy pfx":   {PFX: fixture(t, "legacy.pfx"), Passphrase: []byte(fixturePass)},
		"with crl":     {Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "chain.pem"), CRLs: [][]byte{fixture(t, "crl.der")}},
		"crls in one":  {Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "chain.pem"), CRLs: [][]byte{append(fixture(t, "crl.pem"), fixture(t, "root-crl.pem")...)}},
		"combined pem": {Cert: append(fixture(t, "leaf.crt"), fixture(t, "leaf-enc-des3.pem")...), Chain: fixture(t, "chain.pem"), Passphrase: []byte(fixturePass)},
		"root anchors": {Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "inter.crt"), Anchors: fixture(t, "root.crt")},
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			leafCRL := len(src.CRLs) > 0
			if name != "crls in one" {
				src.CRLs = append(src.CRLs, fixture(t, "root-crl.pem"))
			}
			r := certs.CheckSensor(src, certs.Target{Hostname: host, CRLValidation: true}, now)
			for _, f := range r.Findings {
				// without the issuing CA's CRL, only the note that the sensor fetches it may appear
				if f.Code != certs.CodeCRLNotGiven || leafCRL {
					t.Errorf("%s %s: %s", f.Code, f.Severity, f.Message)
				}
			}
			if len(r.Chain) != 3 || r.FingerprintSHA256 == "" || r.Key == nil {
				t.Errorf("chain %d, fingerprint %q, key %v", len(r.Chain), r.FingerprintSHA256, r.Key != nil)
			}
		})
	}
}

// TestCheckSensorBadInput: unreadable input is a finding naming the file,
// never a panic.
func TestCheckSensorBadInput(t *testing.T) {
	names := map[string]string{"cert": "x.crt", "key": "x.key", "chain": "c.pem", "crl": "r.crl", "pfx": "p.pfx"}
	cases := []struct {
		name string
		src  certs.Source
		want string
	}{
		{"jpeg cert", certs.Source{Cert: fixture(t, "jpeg.crt"), Key: fixture(t, "leaf.key")}, certs.CodeCertUnreadable},
		{"empty cert", certs.Source{Cert: fixture(t, "empty.crt"), Key: fixture(t, "leaf.key")}, certs.CodeCertUnreadable},
		{"truncated", certs.Source{Cert: fixture(t, "truncated.crt"), Key: fixture(t, "leaf.key")}, certs.CodeCertUnreadable},
		{"no key", certs.Source{Cert: fixture(t, "leaf.crt")}, certs.CodeKeyUnreadable},
		{"cert as key", certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.crt")}, certs.CodeKeyUnreadable},
		{"jpeg chain", certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), Chain: fixture(t, "jpeg.crt")}, certs.CodeChainUnreadable},
		{"jpeg crl", certs.Source{Cert: fixture(t, "leaf.crt"), Key: fixture(t, "leaf.key"), CRLs: [][]byte{fixture(t, "jpeg.crt")}}, certs.CodeCRLUnreadable},
		{"pfx wrong pass", certs.Source{PFX: fixture(t, "modern.pfx"), Passphrase: []byte("nope")}, certs.CodePFXPassphrase},
		{"pfx is jpeg", certs.Source{PFX: fixture(t, "jpeg.crt")}, certs.CodePFXUnreadable},
		{"nothing", certs.Source{}, certs.CodeCertUnreadable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.src.Names = names
			r := certs.CheckSensor(c.src, certs.Target{Hostname: host}, now)
			found := false
			for _, f := range r.Findings {
				if f.Code == c.want {
					found = true
				}
			}
			if !found || !r.HasErrors() {
				t.Errorf("want %s, got %+v", c.want, r.Findings)
			}
		})
	}
}

// TestCodesCatalogue: codes are unique, well formed, each with a message and a hint.
func TestCodesCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range certs.Codes() {
		want := "TL-CERT-" + string(rune('0'+(i+1)/100)) + string(rune('0'+(i+1)/10%10)) + string(rune('0'+(i+1)%10))
		if c.Code != want {
			t.Errorf("entry %d is %s, want %s (codes are dense and in order)", i, c.Code, want)
		}
		if seen[c.Code] || c.Message == "" || c.Hint == "" {
			t.Errorf("%s: duplicate or empty", c.Code)
		}
		seen[c.Code] = true
		switch c.Severity {
		case certs.SeverityError, certs.SeverityWarning, certs.SeverityInfo:
		default:
			t.Errorf("%s: severity %q", c.Code, c.Severity)
		}
	}
}
