package sshconn_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

const ppkPassphrase = "Field.Engineer-7" // testdata/ppk/passphrase.txt

func fixedPassphrase(p string) func(string) ([]byte, error) {
	return func(string) ([]byte, error) { return []byte(p), nil }
}

func readPub(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

// checkSigner: the key read is the one puttygen exported as OpenSSH, and
// it signs (a signature its public half verifies).
func checkSigner(t *testing.T, s ssh.Signer, want ssh.PublicKey) {
	t.Helper()
	if !bytes.Equal(s.PublicKey().Marshal(), want.Marshal()) {
		t.Fatalf("read %s, want puttygen's %s", ssh.FingerprintSHA256(s.PublicKey()), ssh.FingerprintSHA256(want))
	}
	data := []byte("tapline")
	sig, err := s.Sign(rand.Reader, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := want.Verify(data, sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}

// TestPPKFixtures reads the committed files puttygen made
// (testdata/ppk/generate.sh): every key type, versions 2 and 3, plain and
// encrypted; a wrong passphrase is refused as for an OpenSSH key.
func TestPPKFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "ppk")
	opensshWrong := openSSHWrongPassphrase(t)
	for _, name := range []string{"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa2048"} {
		want := readPub(t, filepath.Join(dir, name+".pub"))
		for _, v := range []string{"v2", "v3"} {
			t.Run(name+"-"+v, func(t *testing.T) {
				plain := filepath.Join(dir, name+"-"+v+".ppk")
				s, err := sshconn.ReadKeyFile(plain, func(string) ([]byte, error) {
					t.Error("asked a passphrase for an unencrypted key")
					return nil, errors.New("no")
				})
				if err != nil {
					t.Fatal(err)
				}
				checkSigner(t, s, want)

				enc := filepath.Join(dir, name+"-"+v+"-enc.ppk")
				asked := ""
				s, err = sshconn.ReadKeyFile(enc, func(f string) ([]byte, error) { asked = f; return []byte(ppkPassphrase), nil })
				if err != nil || asked != enc {
					t.Fatalf("encrypted: %v (asked for %q)", err, asked)
				}
				checkSigner(t, s, want)
				wrongPassphraseLikeOpenSSH(t, enc, opensshWrong)
				if _, err := sshconn.ReadKeyFile(enc, nil); err == nil || !strings.Contains(err.Error(), "is encrypted and no passphrase prompt") {
					t.Fatalf("no prompt: %v", err)
				}
			})
		}
	}
}

// openSSHWrongPassphrase is what reading an encrypted OpenSSH key with a
// wrong passphrase says, its file name replaced by KEY.
func openSSHWrongPassphrase(t *testing.T) string {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(k, "", []byte(ppkPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	openssh := filepath.Join(t.TempDir(), "id_ed25519")
	os.WriteFile(openssh, pem.EncodeToMemory(blk), 0o600)
	_, err = sshconn.ReadKeyFile(openssh, fixedPassphrase("not it"))
	if !errors.Is(err, sshconn.ErrWrongPassphrase) {
		t.Fatalf("OpenSSH key, wrong passphrase: %v", err)
	}
	return strings.ReplaceAll(err.Error(), openssh, "KEY")
}

// wrongPassphraseLikeOpenSSH: a wrong passphrase for the PuTTY key fails
// with ErrWrongPassphrase and, but for the file name, the very message an
// OpenSSH key gives (openssh).
func wrongPassphraseLikeOpenSSH(t *testing.T, ppk, openssh string) {
	t.Helper()
	_, err := sshconn.ReadKeyFile(ppk, fixedPassphrase("not it"))
	if !errors.Is(err, sshconn.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if got := strings.ReplaceAll(err.Error(), ppk, "KEY"); got != openssh {
		t.Fatalf("PuTTY says %q, OpenSSH %q", got, openssh)
	}
}

func puttygen(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("puttygen", args...)
	cmd.Stdin = nil // never a prompt
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("puttygen %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func needPuttygen(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("puttygen"); err != nil {
		needs.Missing(t, "this test makes keys with puttygen from Debian's putty-tools; install it with tools/ensure-deps.sh test")
	}
}

// TestPPKFromPuttygen makes fresh keys with the installed puttygen, in every
// format variant it writes (including Argon2i and non-default Argon2
// costs), and reads each.
func TestPPKFromPuttygen(t *testing.T) {
	needPuttygen(t)
	t.Parallel()
	dir := t.TempDir()
	pp, none := filepath.Join(dir, "pp"), filepath.Join(dir, "none")
	os.WriteFile(pp, []byte(ppkPassphrase), 0o600)
	os.WriteFile(none, nil, 0o600)
	for _, c := range []struct{ typ, bits string }{{"ed25519", ""}, {"ecdsa", "384"}, {"rsa", "3072"}} {
		base := filepath.Join(dir, c.typ)
		args := []string{"-q", "-t", c.typ, "--new-passphrase", none, "-o", base + ".ppk"}
		if c.bits != "" {
			args = append(args, "-b", c.bits)
		}
		puttygen(t, args...)
		puttygen(t, base+".ppk", "-O", "public-openssh", "-o", base+".pub")
		want := readPub(t, base+".pub")
		for i, params := range []string{"version=2", "version=3", "version=3,kdf=argon2i,memory=16384,passes=2,parallelism=2", "version=3,kdf=argon2id,memory=1024,passes=3"} {
			out := fmt.Sprintf("%s-%d.ppk", base, i)
			puttygen(t, base+".ppk", "-O", "private", "-P", "--ppk-param", params, "--new-passphrase", pp, "-o", out)
			s, err := sshconn.ReadKeyFile(out, fixedPassphrase(ppkPassphrase))
			if err != nil {
				t.Fatalf("%s %s: %v", c.typ, params, err)
			}
			checkSigner(t, s, want)
			if _, err := sshconn.ReadKeyFile(out, fixedPassphrase(ppkPassphrase+"x")); !errors.Is(err, sshconn.ErrWrongPassphrase) {
				t.Fatalf("%s %s, wrong passphrase: %v", c.typ, params, err)
			}
		}
	}
	// Argon2d (puttygen writes it on request): refused with the command
	// that converts the file.
	out := filepath.Join(dir, "argon2d.ppk")
	puttygen(t, filepath.Join(dir, "ed25519.ppk"), "-O", "private", "-P", "--ppk-param", "kdf=argon2d", "--new-passphrase", pp, "-o", out)
	if _, err := sshconn.ReadKeyFile(out, fixedPassphrase(ppkPassphrase)); err == nil || !strings.Contains(err.Error(), "kdf=argon2id") {
		t.Fatalf("argon2d: %v", err)
	}
}

// TestPPKLogsIn: a PuTTY key (an encrypted version 3 ed25519 key and a
// version 2 RSA key) signs in to a real OpenSSH server.
func TestPPKLogsIn(t *testing.T) {
	sshdtest.Require(t)
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	trust := &sshconn.KnownHosts{File: filepath.Join(t.TempDir(), "known_hosts"), Accept: func(*sshconn.UnknownHostError) bool { return true }}
	for _, f := range []string{"ed25519-v3-enc.ppk", "rsa2048-v2.ppk"} {
		name, _, _ := strings.Cut(f, "-")
		s.Authorize(t, readPub(t, filepath.Join("testdata", "ppk", name+".pub")))
		ep := sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: filepath.Join("testdata", "ppk", f), Passphrase: fixedPassphrase(ppkPassphrase)}}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := sshconn.Dial(ctx, ep, trust, sshconn.Options{})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if out := run(t, c, "echo ppk"); out != "ppk\n" {
			t.Fatalf("%s: %q", f, out)
		}
		c.Close()
	}
}

// TestPPKRefusals: damaged, hostile and unsupported files are refused with
// a sentence naming the file, quickly, and nothing is asked that need not be.
func TestPPKRefusals(t *testing.T) {
	dir := t.TempDir()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "ppk", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain, enc := read("ed25519-v3.ppk"), read("ed25519-v3-enc.ppk")
	flipLast := func(s, field string) string { // change one base64 character of a field's last line
		i := strings.Index(s, field)
		j := strings.Index(s[i:], "\n") + i
		k := strings.Index(s[j+1:], "\n") + j + 1
		line := []byte(s[j+1 : k])
		if line[2] == 'A' {
			line[2] = 'B'
		} else {
			line[2] = 'A'
		}
		return s[:j+1] + string(line) + s[k:]
	}
	cases := []struct{ name, content, want string }{
		{"an edited private key", flipLast(plain, "Private-Lines:"), "damaged or edited"},
		{"an edited comment", strings.Replace(plain, "Comment: tapline-ed25519", "Comment: someone-else", 1), "damaged or edited"},
		{"a swapped public key", strings.Replace(plain, "PuTTY-User-Key-File-3: ssh-ed25519", "PuTTY-User-Key-File-3: ssh-rsa", 1), "damaged or edited"},
		{"Argon2 memory of 4 TiB", strings.Replace(enc, "Argon2-Memory: 8192", "Argon2-Memory: 4294967295", 1), "Argon2 parameters out of range"},
		{"a million Argon2 passes", strings.Replace(enc, "Argon2-Passes: ", "Argon2-Passes: 100000", 1), "Argon2 parameters out of range"},
		{"version 1", strings.Replace(plain, "PuTTY-User-Key-File-3", "PuTTY-User-Key-File-1", 1), "too old"},
		{"version 4", strings.Replace(plain, "PuTTY-User-Key-File-3", "PuTTY-User-Key-File-4", 1), "versions 2 and 3"},
		{"cut short", plain[:len(plain)/2], "ends"},
		{"no MAC", plain[:strings.Index(plain, "Private-MAC")], "ends"},
		{"a huge line count", strings.Replace(plain, "Private-Lines: 1", "Private-Lines: 99999999", 1), "line count"},
		{"an unknown cipher", strings.Replace(enc, "aes256-cbc", "rot13", 1), "unknown encryption"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".ppk")
			os.WriteFile(p, []byte(c.content), 0o600)
			start := time.Now()
			_, err := sshconn.ReadKeyFile(p, fixedPassphrase(ppkPassphrase))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want an error naming the file and saying %q", err, c.want)
			}
			if errors.Is(err, sshconn.ErrWrongPassphrase) {
				t.Fatalf("a damaged file is not a wrong passphrase: %v", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %s", d)
			}
		})
	}
	// A DSA key from PuTTY: refused with what to do instead.
	if _, err := exec.LookPath("puttygen"); err == nil {
		none := filepath.Join(dir, "none")
		os.WriteFile(none, nil, 0o600)
		puttygen(t, "-q", "-t", "dsa", "--new-passphrase", none, "-o", filepath.Join(dir, "dsa.ppk"))
		if _, err := sshconn.ReadKeyFile(filepath.Join(dir, "dsa.ppk"), nil); err == nil || !strings.Contains(err.Error(), "DSA keys are obsolete") {
			t.Fatalf("dsa: %v", err)
		}
	}
}
