package certs_test

import (
	"crypto/rand"
	"os"
	"testing"
)

type randReader struct{}

func (randReader) Read(b []byte) (int, error) { return rand.Read(b) }

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
