package ca_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
)

// The cost of issuing a site's 20 sensor certificates: one session (the CA
// opened once, as batch run --ca does) against the loop a user has
// without it, one 'tapline ca issue' per sensor (each loads the CA, whose
// keys are PBKDF2-protected, issues and saves the state). The CA keys use
// the stored default iteration count.
func benchCA(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "ca")
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Example Plant", Intermediate: true, KeyType: ca.P256, Now: now,
		KDFIterations: certs.PBKDF2Iterations})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Save(dir, []byte("pw"), nil); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkIssue20Session(b *testing.B) {
	dir := benchCA(b)
	b.ResetTimer()
	for range b.N {
		l, err := ca.OpenLocal(dir, []byte("pw"))
		if err != nil {
			b.Fatal(err)
		}
		for i := range 20 {
			if _, err := l.Issue(ca.IssueRequest{Hostname: fmt.Sprintf("sensor-%02d.plant.example", i), KeyType: ca.RSA2048, Now: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkIssue20LoadEach(b *testing.B) {
	dir := benchCA(b)
	b.ResetTimer()
	for range b.N {
		for i := range 20 {
			c, err := ca.Load(dir, []byte("pw"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Issue(ca.IssueRequest{Hostname: fmt.Sprintf("sensor-%02d.plant.example", i), KeyType: ca.RSA2048, Now: now}); err != nil {
				b.Fatal(err)
			}
			if err := c.SaveState(dir); err != nil {
				b.Fatal(err)
			}
		}
	}
}
