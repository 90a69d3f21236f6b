package sshconn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

func keyAuth(s *sshdtest.Server) sshconn.Endpoint {
	return sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: s.ClientKey}}
}

func run(t *testing.T, c *sshconn.Client, cmd string) string {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	defer sess.Close()
	out, err := sess.Output(cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return string(out)
}

func fp(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }

func TestTrustUnknownAcceptKnownChanged(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	kh := filepath.Join(t.TempDir(), "sub", "known_hosts")
	ctx := context.Background()

	// Unknown and no Accept: refused with the fingerprint.
	_, err := sshconn.Dial(ctx, keyAuth(s), &sshconn.KnownHosts{File: kh}, sshconn.Options{})
	var ue *sshconn.UnknownHostError
	if !errors.As(err, &ue) {
		t.Fatalf("want UnknownHostError, got %v", err)
	}
	if ue.Fingerprint != fp(s.HostKeys[0]) && ue.Fingerprint != fp(s.HostKeys[1]) {
		t.Fatalf("fingerprint %s is not one of the server's keys", ue.Fingerprint)
	}
	if !strings.Contains(ue.Error(), "SHA256:") || sshconn.IsTransient(err) {
		t.Fatalf("bad unknown-host error: %v", err)
	}
	if st, err := os.Stat(kh); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("known_hosts not created 0600: %v %v", st, err)
	}

	// Accepted: the key is appended, and a second dial does not ask.
	asked := 0
	trust := &sshconn.KnownHosts{File: kh, Accept: func(*sshconn.UnknownHostError) bool { asked++; return true }}
	c, err := sshconn.Dial(ctx, keyAuth(s), trust, sshconn.Options{})
	if err != nil {
		t.Fatalf("dial after accept: %v", err)
	}
	if out := run(t, c, "echo hello"); out != "hello\n" {
		t.Fatalf("exec: %q", out)
	}
	c.Close()
	c, err = sshconn.Dial(ctx, keyAuth(s), trust, sshconn.Options{})
	if err != nil {
		t.Fatalf("second dial: %v", err)
	}
	c.Close()
	if asked != 1 {
		t.Fatalf("Accept asked %d times, want 1", asked)
	}
	data, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(data), "[127.0.0.1]:") {
		t.Fatalf("known_hosts line: %q", data)
	}

	// Changed: known_hosts holds another key for the address. Accept is never asked.
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewPublicKey(pub)
	kh2 := filepath.Join(t.TempDir(), "known_hosts")
	line := "[127.0.0.1]:" + strings.TrimPrefix(s.Addr, "127.0.0.1:") + " " + string(ssh.MarshalAuthorizedKey(other))
	os.WriteFile(kh2, []byte(line), 0o600)
	asked = 0
	_, err = sshconn.Dial(ctx, keyAuth(s), &sshconn.KnownHosts{File: kh2, Accept: func(*sshconn.UnknownHostError) bool { asked++; return true }}, sshconn.Options{})
	var ce *sshconn.HostKeyChangedError
	if !errors.As(err, &ce) || asked != 0 || ce.Line != 1 || sshconn.IsTransient(err) {
		t.Fatalf("want HostKeyChangedError at line 1 without asking, got %v (asked %d)", err, asked)
	}
}

// A host known only by its RSA key must not look changed although it also
// offers ed25519 (golang/go#29286): HostKeyAlgorithms comes from known_hosts.
func TestTrustHostKeyAlgorithmsFromKnownHosts(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519", "rsa"}})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := "[127.0.0.1]:" + strings.TrimPrefix(s.Addr, "127.0.0.1:") + " " + string(ssh.MarshalAuthorizedKey(s.HostKeys[1]))
	os.WriteFile(kh, []byte(line), 0o600)
	c, err := sshconn.Dial(context.Background(), keyAuth(s), &sshconn.KnownHosts{File: kh}, sshconn.Options{})
	if err != nil {
		t.Fatalf("host known by RSA only: %v", err)
	}
	defer c.Close()
	if c.HostKey.Type() != ssh.KeyAlgoRSA {
		t.Fatalf("proved key type %s, want ssh-rsa", c.HostKey.Type())
	}
}

func TestPinned(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	ctx := context.Background()
	for _, k := range s.HostKeys {
		c, err := sshconn.Dial(ctx, keyAuth(s), sshconn.Pinned{Key: k}, sshconn.Options{})
		if err != nil {
			t.Fatalf("pinned %s: %v", k.Type(), err)
		}
		if fp(c.HostKey) != fp(k) {
			t.Fatalf("proved %s, pinned %s", fp(c.HostKey), fp(k))
		}
		c.Close()
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewPublicKey(pub)
	_, err := sshconn.Dial(ctx, keyAuth(s), sshconn.Pinned{Key: other}, sshconn.Options{})
	var pe *sshconn.PinnedKeyMismatchError
	if !errors.As(err, &pe) || sshconn.IsTransient(err) {
		t.Fatalf("want PinnedKeyMismatchError, got %v", err)
	}
}

func TestAuthMethods(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	dir := t.TempDir()
	trust := sshconn.Pinned{Key: s.HostKeys[0]}
	ctx := context.Background()

	// Encrypted key: the passphrase callback is asked.
	enc := filepath.Join(dir, "id_enc")
	sshdtest.Keygen(t, enc, "ed25519", "correct horse")
	pubRaw, _ := os.ReadFile(enc + ".pub")
	pub, _, _, _, _ := ssh.ParseAuthorizedKey(pubRaw)
	s.Authorize(t, pub)
	asked := ""
	ep := sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: enc, Passphrase: func(f string) ([]byte, error) {
		asked = f
		return []byte("correct horse"), nil
	}}}
	c, err := sshconn.Dial(ctx, ep, trust, sshconn.Options{})
	if err != nil || asked != enc {
		t.Fatalf("encrypted key: %v (asked %q)", err, asked)
	}
	c.Close()
	ep.Auth.Passphrase = func(string) ([]byte, error) { return []byte("wrong"), nil }
	if _, err := sshconn.Dial(ctx, ep, trust, sshconn.Options{}); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}

	// A key the server does not know: AuthError, not transient.
	stranger := filepath.Join(dir, "id_stranger")
	sshdtest.Keygen(t, stranger, "ed25519", "")
	_, err = sshconn.Dial(ctx, sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: stranger}}, trust, sshconn.Options{})
	var ae *sshconn.AuthError
	if !errors.As(err, &ae) || sshconn.IsTransient(err) {
		t.Fatalf("want AuthError, got %v", err)
	}
	if _, err := sshconn.Dial(ctx, sshconn.Endpoint{Addr: s.Addr, User: s.User}, trust, sshconn.Options{}); !errors.Is(err, sshconn.ErrNoAuth) {
		t.Fatalf("no auth: %v", err)
	}

	// ssh-agent holding the server's authorised client key.
	sock := needs.SSHAgent(t, s.ClientKey)
	c, err = sshconn.Dial(ctx, sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{AgentSocket: sock}}, trust, sshconn.Options{})
	if err != nil {
		t.Fatalf("agent auth: %v", err)
	}
	c.Close()
}

func TestProxyJump(t *testing.T) {
	t.Parallel()
	target := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	jump := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(target.KnownHostsLine()+jump.KnownHostsLine()), 0o600)
	jep := keyAuth(jump)
	c, err := sshconn.Dial(context.Background(), keyAuth(target), &sshconn.KnownHosts{File: kh}, sshconn.Options{Jump: &jep})
	if err != nil {
		t.Fatalf("through jump host: %v", err)
	}
	defer c.Close()
	// The target sees the connection coming from the jump host's sshd.
	if out := run(t, c, "echo $SSH_CONNECTION"); !strings.HasPrefix(out, "127.0.0.1 ") {
		t.Fatalf("SSH_CONNECTION %q", out)
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accept and stay silent
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := ssh.NewPublicKey(pub)
	start := time.Now()
	_, err = sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: l.Addr().String(), User: "x", Auth: sshconn.Auth{Password: "x"}},
		sshconn.Pinned{Key: k}, sshconn.Options{Timeout: 300 * time.Millisecond})
	if err == nil || time.Since(start) > 5*time.Second || !sshconn.IsTransient(err) {
		t.Fatalf("silent server: err %v after %v (transient %v)", err, time.Since(start), sshconn.IsTransient(err))
	}
	// A cancelled context ends the dial too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := sshconn.Dial(ctx, sshconn.Endpoint{Addr: l.Addr().String(), User: "x", Auth: sshconn.Auth{Password: "x"}},
		sshconn.Pinned{Key: k}, sshconn.Options{Timeout: time.Minute}); err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled dial: %v", err)
	}
}

// TestMoreKeyFiles: as ssh offers every IdentityFile until the server
// accepts one, the further key files are offered after the first, each by
// its public key; an encrypted one's passphrase is asked only when the
// server accepts its public key, and a file that cannot be read is
// skipped.
func TestMoreKeyFiles(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	dir := t.TempDir()
	trust := sshconn.Pinned{Key: s.HostKeys[0]}
	ctx := context.Background()
	key := func(name, typ, pass string, authorize bool) string {
		p := filepath.Join(dir, name)
		sshdtest.Keygen(t, p, typ, pass)
		if authorize {
			raw, _ := os.ReadFile(p + ".pub")
			pub, _, _, _, _ := ssh.ParseAuthorizedKey(raw)
			s.Authorize(t, pub)
		}
		return p
	}
	stranger := key("id_ed25519", "ed25519", "", false)
	encrypted := key("id_ecdsa", "ed25519", "plant passphrase", true)
	rsaKey := key("id_rsa", "rsa", "", true)
	os.Remove(encrypted + ".pub") // OpenSSH's format keeps the public key in clear
	damaged := filepath.Join(dir, "damaged")
	os.WriteFile(damaged, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600)

	var asked []string
	pass := func(p string) func(string) ([]byte, error) {
		return func(f string) ([]byte, error) {
			asked = append(asked, f)
			return []byte(p), nil
		}
	}
	dial := func(more []string, passphrase func(string) ([]byte, error)) error {
		asked = nil
		c, err := sshconn.Dial(ctx, sshconn.Endpoint{Addr: s.Addr, User: s.User,
			Auth: sshconn.Auth{KeyFile: stranger, MoreKeyFiles: more, Passphrase: passphrase}}, trust, sshconn.Options{})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(nil, pass("")); err == nil {
		t.Fatal("signed in with a key the server does not know")
	}
	if err := dial([]string{damaged, encrypted}, pass("plant passphrase")); err != nil || len(asked) != 1 || asked[0] != encrypted {
		t.Fatalf("the encrypted further key: %v (passphrase asked for %q)", err, asked)
	}
	// The RSA key is accepted first: the encrypted key after it is never
	// opened, so its passphrase is not asked.
	if err := dial([]string{rsaKey, encrypted}, pass("plant passphrase")); err != nil || len(asked) != 0 {
		t.Fatalf("the RSA further key: %v (passphrase asked for %q)", err, asked)
	}
	if err := dial([]string{encrypted}, pass("wrong")); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("a wrong passphrase for the further key: %v", err)
	}
}
