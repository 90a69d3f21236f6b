package gui

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/app/preset"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
)

// newUserKey writes a new unencrypted ed25519 key at path and returns its
// public half.
func newUserKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s.PublicKey()
}

// oneSensorAndHome starts a demo fleet of one sensor and gives the test a
// home folder of its own (HOME, USERPROFILE on Windows) for ~/.ssh.
func oneSensorAndHome(t *testing.T) (*demo.Fleet, preset.Preset, preset.Sensor, string) {
	t.Helper()
	fleet := startDemoWith(t, demo.Options{Sensors: 1})
	f := fleet.Preset()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	return fleet, f, f.Sensors[0], home
}

// The Connect page's key file is optional, with the CLI's defaults: an
// empty field signs in with the first IdentityFile ~/.ssh/config gives for
// the address, else ~/.ssh/id_ed25519 (id_ecdsa, id_rsa), else the
// ssh-agent's keys; the field's hint says which, and the pushed row uses
// the same. With none of them, Connect says so under the key file.
func TestConnectDefaultKey(t *testing.T) {
	fleet, f, sn, home := oneSensorAndHome(t)
	defKey := filepath.Join(home, ".ssh", "id_ed25519")
	cfgKey := filepath.Join(home, ".ssh", "plant_key")
	agentKey := filepath.Join(t.TempDir(), "agent_key")
	var auth []byte
	for _, p := range []string{defKey, cfgKey, agentKey} {
		auth = append(auth, ssh.MarshalAuthorizedKey(newUserKey(t, p))...)
	}
	writeFile(t, filepath.Join(fleet.Sensors[0].Root, "etc", "sensorcore"), "authorized_keys", auth)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Host plant-alias\n  HostName "+sn.Address+"\n  Port "+sn.SSHPort+"\n  IdentityFile ~/.ssh/plant_key\n"), 0o600)

	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	agentSock := ""
	env.Getenv = func(k string) string {
		if k == "SSH_AUTH_SOCK" {
			return agentSock
		}
		return ""
	}
	w, win := wizardOn(t, env, 0)
	win.Resize(fyne.NewSize(1000, 720))
	w.prefill(sn)
	w.Wait()
	w.conn.password.SetText("")
	w.conn.auth.SetSelected(authKey)
	hint := func() string { return w.conn.keyUse.Text }
	connect := func(what string) {
		t.Helper()
		test.Tap(w.conn.connectBtn)
		w.Wait()
		if w.conn.unknown != nil {
			test.Tap(w.conn.trustBtn)
			w.Wait()
		}
		if w.conn.connected == "" {
			t.Fatalf("%s: not signed in: %q %s", what, w.conn.state.Text, codes(w.conn.notes.all()))
		}
	}

	// ~/.ssh/id_ed25519.
	if want := "Empty: signs in with " + filepath.Join("~", ".ssh", "id_ed25519"); hint() != want {
		t.Fatalf("hint %q, want %q", hint(), want)
	}
	if !strings.Contains(texts(win.Canvas()), hint()) {
		t.Fatalf("the default key is not shown on the page:\n%s", texts(win.Canvas()))
	}
	connect("default key")
	if r := w.row(); r.Auth != provision.AuthKey || r.KeyFile != defKey {
		t.Errorf("pushed row: auth %s key %q", r.Auth, r.KeyFile)
	}

	// ~/.ssh/config's IdentityFile, HostName and Port for an alias (the
	// port field left empty).
	w.conn.address.SetText("plant-alias")
	w.conn.sshPort.SetText("")
	if want := "Empty: signs in with " + filepath.Join("~", ".ssh", "plant_key"); hint() != want {
		t.Fatalf("hint %q, want %q", hint(), want)
	}
	connect("config's IdentityFile")
	if r := w.row(); r.KeyFile != cfgKey || r.SSHAddr() != fmt.Sprintf("%s:%s", sn.Address, sn.SSHPort) {
		t.Errorf("pushed row: key %q at %s", r.KeyFile, r.SSHAddr())
	}

	// No key file anywhere: the agent's keys.
	os.Remove(defKey)
	os.Remove(filepath.Join(home, ".ssh", "config"))
	w.conn.address.SetText(sn.Address)
	w.conn.sshPort.SetText(sn.SSHPort)
	if !strings.HasPrefix(hint(), "Empty: no key file given and none of id_ed25519") || !strings.Contains(hint(), "no ssh-agent") {
		t.Fatalf("no key, no agent: hint %q", hint())
	}
	test.Tap(w.conn.connectBtn)
	w.Wait()
	if !hasCode(w.conn.notes.of("Key file"), codeField) || w.conn.connected != "" {
		t.Fatalf("no key, no agent: %s", codes(w.conn.notes.all()))
	}
	if _, err := os.Stat("/usr/bin/ssh-agent"); err != nil {
		needs.Missing(t, "this test needs OpenSSH's ssh-agent; install openssh-client (tools/ensure-deps.sh test)")
	}
	agentSock = needs.SSHAgent(t, agentKey)
	w.conn.address.SetText("")
	w.conn.address.SetText(sn.Address) // the agent is looked at again
	if hint() != "Empty: signs in with the agent: 1 key" {
		t.Fatalf("hint %q", hint())
	}
	connect("agent")
	if r := w.row(); r.Auth != provision.AuthAgent || r.KeyFile != "" {
		t.Errorf("pushed row: auth %s key %q", r.Auth, r.KeyFile)
	}
}

// The Connect page trusts host keys as the Fleet and the CLI do: where
// ~/.ssh/config names UserKnownHostsFile for the address, those files and
// not Tapline's own. A key confirmed there is appended to the config's
// first file and the pushed row carries the files; a sensor whose key the
// config's file pins differently is refused as a changed key, although
// Tapline's own file trusts it.
func TestConnectUserKnownHostsFile(t *testing.T) {
	_, f, sn, home := oneSensorAndHome(t)
	plantKH := filepath.Join(home, ".ssh", "plant_known_hosts")
	os.MkdirAll(filepath.Dir(plantKH), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Host plant-alias\n  HostName "+sn.Address+"\n  Port "+sn.SSHPort+
		"\n  UserKnownHostsFile ~/.ssh/plant_known_hosts\n"), 0o600)

	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	w, win := wizardOn(t, env, 0)
	win.Resize(fyne.NewSize(1000, 720))
	connect := func(what string) {
		t.Helper()
		test.Tap(w.conn.connectBtn)
		w.Wait()
		if w.conn.unknown == nil {
			t.Fatalf("%s: no first-contact prompt: %q %s", what, w.conn.state.Text, codes(w.conn.notes.all()))
		}
		test.Tap(w.conn.trustBtn)
		w.Wait()
		if w.conn.connected == "" {
			t.Fatalf("%s: not signed in: %q %s", what, w.conn.state.Text, codes(w.conn.notes.all()))
		}
	}
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return string(b)
	}

	// By its address: Tapline's own file.
	w.prefill(sn)
	w.Wait()
	connect("address")
	if read(env.KnownHosts) == "" || read(plantKH) != "" {
		t.Fatalf("by address: Tapline's known_hosts %q, the config's %q", read(env.KnownHosts), read(plantKH))
	}
	if r := w.row(); len(r.KnownHostsFiles) != 0 {
		t.Errorf("by address: pushed row's known_hosts files %q", r.KnownHostsFiles)
	}

	// By the config's alias: the config's file, asked afresh although
	// Tapline's file knows the key; the row pushes with the same file.
	w.conn.address.SetText("plant-alias")
	w.conn.sshPort.SetText("")
	connect("alias")
	hostLine := read(plantKH)
	if !strings.Contains(hostLine, "["+sn.Address+"]:"+sn.SSHPort+" ") {
		t.Fatalf("the confirmed key was not appended to the config's known_hosts:\n%s", hostLine)
	}
	if r := w.row(); len(r.KnownHostsFiles) != 1 || r.KnownHostsFiles[0] != plantKH {
		t.Errorf("by alias: pushed row's known_hosts files %q, want %s", r.KnownHostsFiles, plantKH)
	}

	// The config's file pins another key for the sensor: refused as a
	// changed key, never taken from Tapline's own file.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	pinned, _ := ssh.NewSignerFromKey(other)
	os.WriteFile(plantKH, []byte("["+sn.Address+"]:"+sn.SSHPort+" "+string(ssh.MarshalAuthorizedKey(pinned.PublicKey()))), 0o600)
	w.conn.address.SetText("")
	w.conn.address.SetText("plant-alias")
	test.Tap(w.conn.connectBtn)
	w.Wait()
	if w.conn.connected != "" || w.conn.unknown != nil || !hasCode(w.conn.notes.all(), codeChanged) {
		t.Fatalf("a key the config's known_hosts pins differently: connected %q, notes %s", w.conn.connected, codes(w.conn.notes.all()))
	}
}
