package gui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/internal/keyscan"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
)

// Fleet pushes rows with auth agent through the engineer's ssh-agent (a
// real OpenSSH ssh-agent holding the key the sensors authorise), with no
// password typed; and nothing under the app's files folder holds an
// unencrypted private key afterwards, not even the bundle folder an older
// version left there.
func TestFleetAgentRowsAndNoKeysOnDisk(t *testing.T) {
	fleet, err := demo.Start(context.Background(), demo.Options{Dir: filepath.Join(t.TempDir(), "demo"), Sensorcore: sensorcoreBin, Sensors: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Stop() })
	f := fleet.Preset()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, _ := ssh.MarshalPrivateKey(priv, "")
	keyFile := writeFile(t, t.TempDir(), "id_ed25519", pem.EncodeToMemory(blk))
	signer, _ := ssh.NewSignerFromKey(priv)
	for _, s := range fleet.Sensors {
		writeFile(t, filepath.Join(s.Root, "etc", "sensorcore"), "authorized_keys", ssh.MarshalAuthorizedKey(signer.PublicKey()))
	}
	sock := needs.SSHAgent(t, keyFile)
	inv, _ := os.ReadFile(f.Inventory)
	agentInv := writeFile(t, filepath.Dir(f.Inventory), "agent.csv", []byte(strings.ReplaceAll(string(inv), ",password,", ",agent,")))

	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	env.Getenv = func(k string) string {
		if k == "SSH_AUTH_SOCK" {
			return sock
		}
		return ""
	}
	// What an older version left in the files folder: a bundle with a key.
	_, _, certDir := mustCA(t, "sensor-01.plant.example")
	oldKey, _ := os.ReadFile(filepath.Join(certDir, "sensor-01.plant.example.key"))
	old := filepath.Join(env.FilesDir, "bundles", "sensor-01-20261101T100000Z")
	os.MkdirAll(old, 0o700)
	writeFile(t, old, "sensor.key", oldKey)
	if left, _ := keyscan.Unencrypted([]string{env.FilesDir}); len(left) != 1 {
		t.Fatalf("the old bundle's key is not seen: %v", left)
	}

	s := newFleetScreen(env)
	test.NewTempWindow(t, s.build())
	s.open(agentInv)
	test.Tap(s.acceptNew)
	test.Tap(s.runBtn)
	s.tasks.Wait()
	for i := 0; i < 2; i++ {
		if r, _ := s.model.get(i); r.outcome != provision.OutcomeDone {
			t.Fatalf("agent row %d: %+v\n%s", i, r, strings.Join(s.model.logOf(i), "\n"))
		}
	}
	test.Tap(s.exportBtn)
	s.tasks.Wait()
	left, err := keyscan.Unencrypted([]string{env.FilesDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Fatalf("unencrypted private keys under the files folder: %v", left)
	}
}

// The connect timeout has one default: the CLI's --connect-timeout and the
// app's Settings.
func TestConnectTimeoutDefaultIsTheCLIs(t *testing.T) {
	if DefaultSettings().ConnectTimeout != provision.DefaultConnectTimeout {
		t.Fatalf("Settings connect timeout %v, CLI default %v", DefaultSettings().ConnectTimeout, provision.DefaultConnectTimeout)
	}
	a := test.NewTempApp(t)
	if got := LoadSettings(a.Preferences()).ConnectTimeout; got != provision.DefaultConnectTimeout {
		t.Fatalf("fresh Settings: %v", got)
	}
}
