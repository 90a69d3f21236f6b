package keyscan

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestUnencrypted(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	plain := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	enc := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
	legacy := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: der})
	sshPlain, _ := ssh.MarshalPrivateKey(k, "")
	sshEnc, _ := ssh.MarshalPrivateKeyWithPassphrase(k, "", []byte("secret"))
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "sensor.key", Mode: 0o600, Size: int64(len(plain))})
	tw.Write(plain)
	tw.Close()

	dir := t.TempDir()
	files := map[string][]byte{
		"plain.key": plain, "bundle.tapbundle": tb.Bytes(), "id_plain": pem.EncodeToMemory(sshPlain),
		"enc.key": enc, "legacy.key": legacy, "id_enc": pem.EncodeToMemory(sshEnc), "cert.txt": []byte("-----BEGIN CERTIFICATE-----\nnot\n"),
		"sub/allowed.key": plain,
	}
	for n, d := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o700)
		os.WriteFile(filepath.Join(dir, n), d, 0o600)
	}
	got, err := Unencrypted([]string{dir, filepath.Join(dir, "missing")}, filepath.Join(dir, "sub/allowed.key"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"plain.key": true, "bundle.tapbundle": true, "id_plain": true}
	if len(got) != len(want) {
		t.Fatalf("found %v", got)
	}
	for _, p := range got {
		if !want[filepath.Base(p)] {
			t.Errorf("%s reported", p)
		}
	}
}
