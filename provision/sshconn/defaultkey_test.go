package sshconn_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/userpath"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// TestDefaultKeyFile: with no key named, the key is the first of
// id_ed25519, id_ecdsa and id_rsa in the home folder's .ssh; with none
// there the error names the folder and how to make a key.
func TestDefaultKeyFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv(userpath.HomeEnv(), home)
	dir := filepath.Join(home, ".ssh")
	if _, err := sshconn.DefaultKeyFile(); err == nil || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "ssh-keygen -t ed25519") || !strings.Contains(err.Error(), "id_ed25519, id_ecdsa, id_rsa") {
		t.Fatalf("no .ssh folder: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "id_ed25519"), 0o700) // a folder is not a key
	for _, c := range []struct{ add, want string }{
		{"id_rsa", "id_rsa"}, {"id_ecdsa", "id_ecdsa"}, {"id_ed25519.pub", "id_ecdsa"},
	} {
		os.WriteFile(filepath.Join(dir, c.add), []byte("key"), 0o600)
		if got, err := sshconn.DefaultKeyFile(); err != nil || got != filepath.Join(dir, c.want) {
			t.Fatalf("with %s added: %q %v, want %s", c.add, got, err, c.want)
		}
	}
	os.Remove(filepath.Join(dir, "id_ed25519"))
	os.WriteFile(filepath.Join(dir, "id_ed25519"), []byte("key"), 0o600)
	if got, err := sshconn.DefaultKeyFile(); err != nil || got != filepath.Join(dir, "id_ed25519") {
		t.Fatalf("all three: %q %v, want id_ed25519", got, err)
	}
}

// TestDefaultKeyLogsIn: a key made by ssh-keygen in the home folder's
// .ssh, and authorised on a real OpenSSH server, signs in with no key
// file named, as ssh does; and, as ssh offers every default key, it signs
// in when it is the second, after an id_ed25519 the server does not know.
func TestDefaultKeyLogsIn(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	home := t.TempDir()
	t.Setenv(userpath.HomeEnv(), home)
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	key := filepath.Join(home, ".ssh", "id_ecdsa")
	sshdtest.Keygen(t, key, "ecdsa", "")
	pubRaw, _ := os.ReadFile(key + ".pub")
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubRaw)
	if err != nil {
		t.Fatal(err)
	}
	s.Authorize(t, pub)
	got, err := sshconn.DefaultKeyFile()
	if err != nil || got != key {
		t.Fatalf("DefaultKeyFile = %q %v, want %s", got, err, key)
	}
	c, err := sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: sshconn.Auth{KeyFile: got}},
		sshconn.Pinned{Key: s.HostKeys[0]}, sshconn.Options{})
	if err != nil {
		t.Fatalf("sign-in with the default key: %v", err)
	}
	c.Close()

	first := filepath.Join(home, ".ssh", "id_ed25519")
	sshdtest.Keygen(t, first, "ed25519", "")
	keys, err := sshconn.KeysFor(sshconn.HostSettings{})
	if err != nil || strings.Join(keys, ",") != first+","+key {
		t.Fatalf("KeysFor = %q %v, want id_ed25519 then id_ecdsa", keys, err)
	}
	auth := sshconn.Auth{KeyFile: keys[0], MoreKeyFiles: keys[1:]}
	c, err = sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: s.Addr, User: s.User, Auth: auth},
		sshconn.Pinned{Key: s.HostKeys[0]}, sshconn.Options{})
	if err != nil {
		t.Fatalf("sign-in with the second default key: %v", err)
	}
	c.Close()
}
