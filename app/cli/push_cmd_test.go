package cli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision/sshconn"
)

// An encrypted SSH key with TAPLINE_KEY_PASSPHRASE unset: from a terminal
// the passphrase is asked once per key on stderr, read without echo (the
// terminal never shows it) and not printed; without a terminal the error
// says what to do.
func TestKeyPassphrasePrompt(t *testing.T) {
	const secret = "Corr3ct-Horse!"
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(k, "", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	os.WriteFile(keyFile, pem.EncodeToMemory(blk), 0o600)

	master, slave := openPTY(t)
	var errb bytes.Buffer
	env := &Env{Stdin: slave, Stdout: &bytes.Buffer{}, Stderr: &errb, Now: time.Now, Getenv: func(string) string { return "" }}
	// What the terminal shows, read off the master side.
	shown := make(chan string, 1)
	go func() {
		var all []byte
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil || bytes.Contains(all, []byte("\n")) || len(all) > 4096 {
				break
			}
		}
		shown <- string(all)
	}()
	pp := keyPassphrase(env)
	type read struct {
		s   ssh.Signer
		err error
	}
	done := make(chan read, 1)
	go func() { s, err := sshconn.ReadKeyFile(keyFile, pp); done <- read{s, err} }()
	// Type the passphrase once the prompt has turned echo off.
	for i := 0; ; i++ {
		if !echoOn(t, slave) {
			break
		}
		if i > 500 {
			t.Fatal("echo was never turned off for the passphrase")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := master.Write([]byte(secret + "\n")); err != nil {
		t.Fatal(err)
	}
	r := <-done
	signer, err := r.s, r.err
	if err != nil {
		t.Fatalf("reading the encrypted key with the prompted passphrase: %v (stderr %q)", err, errb.String())
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), mustSigner(t, k).PublicKey().Marshal()) {
		t.Fatal("wrong key")
	}
	if !strings.Contains(errb.String(), "Passphrase for SSH key "+keyFile) || strings.Contains(errb.String(), secret) {
		t.Fatalf("prompt on stderr: %q", errb.String())
	}
	// The same key again: no second prompt.
	if p, err := pp(keyFile); err != nil || string(p) != secret || strings.Count(errb.String(), "Passphrase for") != 1 {
		t.Fatalf("second use: %v, %d prompts", err, strings.Count(errb.String(), "Passphrase for"))
	}
	// The echo was off: the typed passphrase never appeared on the terminal.
	master.Write([]byte("\n")) // unblocks the reader if nothing was echoed
	select {
	case s := <-shown:
		if strings.Contains(s, secret) {
			t.Fatalf("the terminal echoed the passphrase: %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no terminal output at all")
	}

	// Not a terminal: a clear error, nothing read.
	env = &Env{Stdin: strings.NewReader(secret + "\n"), Stderr: &errb, Now: time.Now, Getenv: func(string) string { return "" }}
	if _, err := sshconn.ReadKeyFile(keyFile, keyPassphrase(env)); err == nil || !strings.Contains(err.Error(), "TAPLINE_KEY_PASSPHRASE") {
		t.Fatalf("no terminal: %v", err)
	}
	// The variable wins over the terminal.
	env = &Env{Stdin: slave, Stderr: &errb, Now: time.Now, Getenv: func(k string) string {
		if k == "TAPLINE_KEY_PASSPHRASE" {
			return secret
		}
		return ""
	}}
	if _, err := sshconn.ReadKeyFile(keyFile, keyPassphrase(env)); err != nil {
		t.Fatalf("TAPLINE_KEY_PASSPHRASE: %v", err)
	}
}

func mustSigner(t *testing.T, k ed25519.PrivateKey) ssh.Signer {
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
