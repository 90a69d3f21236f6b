package sshd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// TestUploadCap: an authenticated client tries to make a sparse file of
// 8 TiB in the incoming directory, by setstat (truncate) and by a write at
// a far offset, to exhaust whatever reads it. Both are refused and the
// file keeps its size; a file up to MaxUploadSize is still accepted.
func TestUploadCap(t *testing.T) {
	f := start(t)
	sc := f.sftpClient(t)
	w, err := sc.Create("/big.core")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write([]byte("0123456789"))
	size := func() int64 {
		fi, err := os.Stat(filepath.Join(f.incoming, "big.core"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	const tib8 = 8 << 40
	if err := sc.Truncate("/big.core", tib8); err == nil {
		t.Error("setstat to 8 TiB accepted")
	}
	if err := w.Truncate(tib8); err == nil {
		t.Error("fsetstat to 8 TiB accepted")
	}
	if _, err := w.WriteAt([]byte("x"), tib8); err == nil {
		t.Error("a write at 8 TiB accepted")
	}
	if _, err := w.WriteAt([]byte("xy"), MaxUploadSize-1); err == nil {
		t.Error("a write crossing MaxUploadSize accepted")
	}
	if n := size(); n != 10 {
		t.Fatalf("the upload is now %d bytes", n)
	}
	if _, err := w.WriteAt([]byte("x"), MaxUploadSize-1); err != nil {
		t.Fatalf("a write ending at MaxUploadSize: %v", err)
	}
	if err := sc.Truncate("/big.core", 4); err != nil {
		t.Fatalf("truncate to 4: %v", err)
	}
	if n := size(); n != 4 {
		t.Fatalf("after truncate to 4: %d bytes", n)
	}
}

// sftpClient signs in with the client key and opens SFTP; both close when
// the test ends.
func (f *fixture) sftpClient(t *testing.T) *sftp.Client {
	t.Helper()
	c, err := f.dial(t, ssh.PublicKeys(f.client), "provision")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}
