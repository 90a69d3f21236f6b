package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

func TestAllowedCommand(t *testing.T) {
	for line, ok := range map[string]bool{
		"sensorcore apply --json x.tapbundle":     true,
		"/usr/local/bin/sensorcore status --json": true,
		"sudo sensorcore confirm --json":          true,
		"sensorcore apply --json 'a b.tapbundle'": true,
		"status --json":                  true,
		"apply --root /tmp x":            false,
		"serve":                          false,
		"sensorcore serve":               false,
		"sh -c id":                       false,
		"sensorcore status; id":          false,
		"sensorcore apply --root /tmp x": false,
		"sensorcore apply --trust-root=/tmp/k.pub x": false,
		"sensorcore status $(id)":                    false,
		"sensorcore apply -root /tmp x":              false,
		"sensorcore apply -root=/tmp x":              false,
		"install-core --service --json x":            false,
		"install-core -target /bin/sh x":             false,
		"install-core --release-root /tmp/k.pub x":   false,
		"sensorcore apply --json root.tapbundle":     true,
		"":                                           false,
		"console reset --user admin --json":          true,
		"sensorcore console reset --user support":    true,
		"console unlock admin":                       false,
		"console log":                                false,
		"console":                                    false,
		"console reset --root /tmp --user admin":     false,
		"console reset --user admin; id":             false,
		"plugin install --json kilnnet.yaml":         true,
		"sensorcore plugin remove kilnnet":           true,
		"plugin":                                     false,
		"plugin list":                                false,
		"plugin install --root /tmp kilnnet.yaml":    false,
	} {
		_, err := AllowedCommand(line)
		if (err == nil) != ok {
			t.Errorf("%q: %v", line, err)
		}
	}
	if a, err := AllowedCommand("apply --json x.tapbundle"); err != nil || len(a) != 3 || a[0] != "apply" {
		t.Errorf("bare apply: %q %v", a, err)
	}
	a, _ := AllowedCommand(`sensorcore apply --json "a b.tapbundle"`)
	if len(a) != 3 || a[2] != "a b.tapbundle" {
		t.Errorf("quoted: %q", a)
	}
}

type fixture struct {
	addr     string
	hostKey  ssh.PublicKey
	incoming string
	client   ssh.Signer
	outside  string
	// clientKey is client's private key (for OpenSSH's scp).
	clientKey ed25519.PrivateKey
}

func start(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	hk, err := LoadOrCreateHostKey(filepath.Join(etc, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateHostKey(filepath.Join(etc, "ssh_host_ed25519_key"))
	if err != nil || !bytes.Equal(again.PublicKey().Marshal(), hk.PublicKey().Marshal()) {
		t.Fatal("host key did not persist")
	}
	_, ck, _ := ed25519.GenerateKey(rand.Reader)
	cs, _ := ssh.NewSignerFromKey(ck)
	os.WriteFile(filepath.Join(etc, "authorized_keys"), ssh.MarshalAuthorizedKey(cs.PublicKey()), 0o600)
	h, _ := bcrypt.GenerateFromPassword([]byte("Prov-1234!"), bcrypt.MinCost)
	os.WriteFile(filepath.Join(etc, "ssh_passwords"), []byte("provision:"+string(h)+"\n"), 0o600)
	in := filepath.Join(dir, "incoming")
	os.MkdirAll(in, 0o700)
	outside := filepath.Join(dir, "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o600)
	os.Symlink(outside, filepath.Join(in, "escape"))
	s := &Server{HostKey: hk, AuthorizedKeysPath: filepath.Join(etc, "authorized_keys"), PasswordsPath: filepath.Join(etc, "ssh_passwords"),
		IncomingDir: in, Log: t.Logf,
		Exec: func(_ context.Context, args []string, out, errw io.Writer) int {
			fmt.Fprintf(out, "ran %s", strings.Join(args, " "))
			if args[0] == "rollback" {
				return 1
			}
			return 0
		}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(served) }()
	// Serve returns once every connection and session has ended, so the
	// server's log (t.Logf) is never written after the test is over.
	t.Cleanup(func() { cancel(); <-served })
	return &fixture{addr: ln.Addr().String(), hostKey: hk.PublicKey(), incoming: in, client: cs, outside: outside, clientKey: ck}
}

func (f *fixture) dial(t *testing.T, auth ssh.AuthMethod, user string) (*ssh.Client, error) {
	return ssh.Dial("tcp", f.addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{auth}, HostKeyCallback: ssh.FixedHostKey(f.hostKey)})
}

func TestExecAndSFTP(t *testing.T) {
	f := start(t)
	c, err := f.dial(t, ssh.PublicKeys(f.client), "provision")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run := func(cmd string) (string, int) {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out, errb bytes.Buffer
		s.Stdout, s.Stderr = &out, &errb
		err = s.Run(cmd)
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			return out.String() + errb.String(), ee.ExitStatus()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	if out, code := run("sensorcore status --json"); code != 0 || out != "ran status --json" {
		t.Fatalf("status: %q %d", out, code)
	}
	if _, code := run("sensorcore rollback --json"); code != 1 {
		t.Fatalf("exit status not passed: %d", code)
	}
	if out, code := run("cat /etc/passwd"); code != 2 || !strings.Contains(out, "not allowed") {
		t.Fatalf("other command: %q %d", out, code)
	}
	if s, _ := c.NewSession(); s.Shell() == nil {
		t.Fatal("a shell was granted")
	}

	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	w, err := sc.OpenFile("/b.tapbundle.part", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("bundle-bytes"))
	w.Close()
	if err := sc.PosixRename("/b.tapbundle.part", "/b.tapbundle"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(f.incoming, "b.tapbundle"))
	if err != nil || string(got) != "bundle-bytes" {
		t.Fatalf("uploaded: %q %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(f.incoming, "b.tapbundle")); fi.Mode().Perm() != 0o600 {
		t.Errorf("upload mode %v", fi.Mode())
	}
	// Nothing outside the incoming directory is reachable.
	for _, p := range []string{"../secret.txt", "/../secret.txt", "escape", f.outside} {
		if r, err := sc.Open(p); err == nil {
			b, _ := io.ReadAll(r)
			if string(b) == "secret" {
				t.Errorf("read outside the incoming directory through %q", p)
			}
		}
	}
	if w, err := sc.Create("../evil"); err == nil {
		w.Close()
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.incoming), "evil")); err == nil {
		t.Error("wrote outside the incoming directory")
	}
	if err := sc.Symlink("/etc/passwd", "/link"); err == nil {
		t.Error("symlink created")
	}
}

func TestAuth(t *testing.T) {
	f := start(t)
	if c, err := f.dial(t, ssh.Password("Prov-1234!"), "provision"); err != nil {
		t.Fatalf("password: %v", err)
	} else {
		c.Close()
	}
	if _, err := f.dial(t, ssh.Password("wrong"), "provision"); err == nil {
		t.Fatal("wrong password accepted")
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	os, _ := ssh.NewSignerFromKey(other)
	if _, err := f.dial(t, ssh.PublicKeys(os), "provision"); err == nil {
		t.Fatal("unknown key accepted")
	}
}
