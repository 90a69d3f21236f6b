package sshconn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/signin"
	"github.com/tapline/tapline/sensorcore/sshd"
)

// sensorSSH runs sensorcore's embedded SSH listener on loopback with the
// password "Prov-1234!" for user provision, its throttle on clock now (the
// real one when nil); it returns the endpoint and a known_hosts trust.
func sensorSSH(t *testing.T, now func() time.Time) (string, sshconn.Trust) {
	t.Helper()
	dir := t.TempDir()
	hk, err := sshd.LoadOrCreateHostKey(filepath.Join(dir, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("Prov-1234!"), bcrypt.MinCost)
	pw := filepath.Join(dir, "ssh_passwords")
	os.WriteFile(pw, []byte("provision:"+string(h)+"\n"), 0o600)
	_, ck, _ := ed25519.GenerateKey(rand.Reader)
	cs, _ := ssh.NewSignerFromKey(ck)
	ak := filepath.Join(dir, "authorized_keys")
	os.WriteFile(ak, ssh.MarshalAuthorizedKey(cs.PublicKey()), 0o600)
	s := &sshd.Server{HostKey: hk, PasswordsPath: pw, AuthorizedKeysPath: ak, IncomingDir: t.TempDir(), Log: t.Logf,
		Guard: &signin.Guard{Policy: signin.Policy{FirstDelay: 200 * time.Millisecond, HardLockAfter: -1}, Now: now},
		Exec:  func(context.Context, []string, io.Writer, io.Writer) int { return 0 }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(served) }()
	t.Cleanup(func() { cancel(); <-served })
	addr := ln.Addr().String()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	host, port, _ := net.SplitHostPort(addr)
	os.WriteFile(kh, []byte("["+host+"]:"+port+" "+string(ssh.MarshalAuthorizedKey(hk.PublicKey()))), 0o600)
	return addr, &sshconn.KnownHosts{File: kh}
}

func passwordDial(addr string, trust sshconn.Trust, pw string) (*sshconn.Client, error) {
	return sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: addr, User: "provision", Auth: sshconn.Auth{Password: pw}},
		trust, sshconn.Options{Timeout: 5 * time.Second, KeepAlive: -1})
}

// After a wrong password the engineer types the right one at once: the
// sensor refuses it unchecked for a moment and says how long; Dial waits
// that long and signs in, instead of calling the right password wrong.
func TestThrottledSignInWaitsAndSucceeds(t *testing.T) {
	t.Parallel()
	addr, trust := sensorSSH(t, nil)
	_, err := passwordDial(addr, trust, "wrong")
	var ae *sshconn.AuthError
	if !errors.As(err, &ae) || ae.RetryAfter != 0 || ae.Banner != "" {
		t.Fatalf("wrong password: %v (want an AuthError with no wait and no banner)", err)
	}
	c, err := passwordDial(addr, trust, "Prov-1234!")
	if err != nil {
		t.Fatalf("the right password just after a wrong one: %v", err)
	}
	c.Close()
}

// On the sensor's clock, held still, the throttle never ends: Dial waits
// the announced time once, signs in once more, and reports the refusal
// with the sensor's reason and wait, without trying again and again.
func TestThrottledSignInRetriedOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	addr, trust := sensorSSH(t, now)
	if _, err := passwordDial(addr, trust, "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	start := time.Now()
	_, err := passwordDial(addr, trust, "Prov-1234!")
	took := time.Since(start)
	var ae *sshconn.AuthError
	if !errors.As(err, &ae) || ae.RetryAfter != 200*time.Millisecond || !strings.Contains(ae.Banner, "too many failed sign-ins") {
		t.Fatalf("throttled on a still clock: %v (want the sensor's reason and a 200 ms wait)", err)
	}
	if took < 200*time.Millisecond {
		t.Fatalf("gave up after %v, before the announced 200 ms", took)
	}
	if !strings.Contains(err.Error(), "the server says: sensorcore: too many failed sign-ins") {
		t.Errorf("the error does not carry the sensor's reason: %v", err)
	}
	// The sensor's clock moves past the wait: the right password signs in.
	mu.Lock()
	clock = clock.Add(200 * time.Millisecond)
	mu.Unlock()
	c, err := passwordDial(addr, trust, "Prov-1234!")
	if err != nil {
		t.Fatalf("after the wait on the sensor's clock: %v", err)
	}
	c.Close()
}
