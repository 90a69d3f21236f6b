package sshd

import (
	"bytes"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/needs"
)

// scpTo copies local to the fixture's SFTP server with OpenSSH's scp (SFTP
// mode, the default since OpenSSH 9.0), with extra scp flags.
func (f *fixture) scpTo(t *testing.T, local, remote string, extra ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	blk, err := ssh.MarshalPrivateKey(f.clientKey, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(key, pem.EncodeToMemory(blk), 0o600)
	host, port, _ := net.SplitHostPort(f.addr)
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, []byte(fmt.Sprintf("[%s]:%s %s", host, port, ssh.MarshalAuthorizedKey(f.hostKey))), 0o600)
	args := append([]string{"-s", "-i", key, "-o", "UserKnownHostsFile=" + kh, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-P", port}, extra...)
	out, err := exec.Command("scp", append(args, local, "provision@"+host+":"+remote)...).CombinedOutput()
	return string(out), err
}

// TestOpenSSHScp: OpenSSH's scp (SFTP mode) uploads into the incoming
// directory: its size setstat (truncate) and, with -p, its times and
// permissions are accepted within the confinement; execute and
// setuid/setgid bits never reach a file; nothing leaves the directory.
func TestOpenSSHScp(t *testing.T) {
	needs.Tool(t, "scp", "openssh-client")
	f := start(t)
	local := filepath.Join(t.TempDir(), "bundle.bin")
	data := make([]byte, 3<<20+123)
	rand.Read(data)
	os.WriteFile(local, data, 0o6755) // setuid, setgid, executable: none may arrive
	// A longer file already there: scp truncates it to the new size.
	os.WriteFile(filepath.Join(f.incoming, "b.tapbundle"), make([]byte, 5<<20), 0o600)
	if out, err := f.scpTo(t, local, "/b.tapbundle"); err != nil {
		t.Fatalf("scp: %v %s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(f.incoming, "b.tapbundle"))
	if !bytes.Equal(got, data) {
		t.Fatalf("scp'd file differs: %d bytes, want %d", len(got), len(data))
	}
	if out, err := f.scpTo(t, local, "p.tapbundle", "-p"); err != nil {
		t.Fatalf("scp -p: %v %s", err, out)
	}
	fi, err := os.Stat(filepath.Join(f.incoming, "p.tapbundle"))
	if err != nil {
		t.Fatal(err)
	}
	lfi, _ := os.Stat(local)
	if fi.Mode()&(os.ModeSetuid|os.ModeSetgid|0o111) != 0 || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("scp -p made the upload %v", fi.Mode())
	}
	if !fi.ModTime().Equal(lfi.ModTime().Truncate(1e9)) {
		t.Fatalf("scp -p times: %v, want %v", fi.ModTime(), lfi.ModTime())
	}
	// Confinement holds for scp too.
	if out, err := f.scpTo(t, local, "../outside.bin"); err == nil {
		if _, serr := os.Stat(filepath.Join(filepath.Dir(f.incoming), "outside.bin")); serr == nil {
			t.Fatalf("scp wrote outside the incoming directory: %s", out)
		}
	}
	if out, err := f.scpTo(t, local, "escape"); err == nil || strings.Contains(readOr(f.outside), "\x00") {
		t.Fatalf("scp through the escaping symlink: %v %s", err, out)
	}
	if readOr(f.outside) != "secret" {
		t.Fatal("the file outside was changed through the symlink")
	}
}

func readOr(p string) string { b, _ := os.ReadFile(p); return string(b) }

// Setstat through pkg/sftp: permissions are masked to owner read/write on
// files and refused on directories (the incoming directory stays usable).
func TestSetstatConfined(t *testing.T) {
	f := start(t)
	sc := f.sftpClient(t)
	w, _ := sc.Create("/x.bin")
	w.Write([]byte("0123456789"))
	if err := w.Truncate(4); err != nil {
		t.Fatalf("truncate: %v", err)
	}
	w.Close()
	if err := sc.Chmod("/x.bin", 0o6777); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	fi, _ := os.Stat(filepath.Join(f.incoming, "x.bin"))
	if fi.Size() != 4 || fi.Mode() != 0o600 {
		t.Fatalf("after truncate and chmod 6777: size %d mode %v", fi.Size(), fi.Mode())
	}
	if err := sc.Chmod("/", 0o777); err == nil {
		t.Fatal("chmod of the incoming directory accepted")
	}
	if fi, _ := os.Stat(f.incoming); fi.Mode().Perm() != 0o700 {
		t.Fatalf("incoming is now %v", fi.Mode())
	}
}
