package sshd

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialFrom connects from a chosen loopback address (127.x.y.z).
func dialFrom(t *testing.T, src, addr string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

func (f *fixture) dialFrom(t *testing.T, src string, auth ssh.AuthMethod, user string) (*ssh.Client, error) {
	t.Helper()
	c, err := dialFrom(t, src, f.addr)
	if err != nil {
		return nil, err
	}
	sc, chans, reqs, err := ssh.NewClientConn(c, f.addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(f.hostKey), Timeout: 5 * time.Second})
	if err != nil {
		c.Close()
		return nil, err
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// closedAtOnce reports whether the server closes c without a word (the
// cap) rather than sending its version and waiting (a handshake).
func closedAtOnce(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, 64)
	n, err := c.Read(b)
	return n == 0 && err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Connections that never sign in: at most 8 per address are kept
// waiting; the rest are closed at once, and a client at another address
// still signs in.
func TestUnauthenticatedCap(t *testing.T) {
	f := start(t)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	closed := 0
	for range 20 {
		c, err := dialFrom(t, "127.0.0.2", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		if closedAtOnce(c) {
			closed++
		}
	}
	if closed != 20-DefaultMaxUnauthenticatedPerSource {
		t.Fatalf("%d of 20 silent connections from one address closed at once, want %d", closed, 20-DefaultMaxUnauthenticatedPerSource)
	}
	c, err := f.dialFrom(t, "127.0.0.3", ssh.PublicKeys(f.client), "provision")
	if err != nil {
		t.Fatalf("sign-in from another address during the flood: %v", err)
	}
	c.Close()
}

// A wrong password makes the next one from the same address wait; the
// attempt during the wait is refused unchecked, and another address is not
// slowed.
func TestPasswordThrottle(t *testing.T) {
	f := start(t)
	if _, err := f.dialFrom(t, "127.0.0.4", ssh.Password("wrong"), "provision"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := f.dialFrom(t, "127.0.0.4", ssh.Password("Prov-1234!"), "provision"); err == nil {
		t.Fatal("the right password from a throttled address was checked at once")
	}
	c, err := f.dialFrom(t, "127.0.0.5", ssh.Password("Prov-1234!"), "provision")
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	c.Close()
	// A key still signs in from the throttled address: keys are not guessed.
	c, err = f.dialFrom(t, "127.0.0.4", ssh.PublicKeys(f.client), "provision")
	if err != nil {
		t.Fatalf("key from the throttled address: %v", err)
	}
	c.Close()
	time.Sleep(300 * time.Millisecond)
	c, err = f.dialFrom(t, "127.0.0.4", ssh.Password("Prov-1234!"), "provision")
	if err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	c.Close()
}

// Sixteen password guesses at once from one address cost one check; the
// rest are refused or closed, and the right password at another address
// goes through.
func TestParallelGuesses(t *testing.T) {
	f := start(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]int{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.dialFrom(t, "127.0.0.6", ssh.Password("guess"), "provision")
			msg := "accepted"
			if err != nil {
				msg = "refused"
			}
			mu.Lock()
			errs[msg]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if errs["accepted"] != 0 {
		t.Fatalf("a guess was accepted: %v", errs)
	}
	c, err := f.dialFrom(t, "127.0.0.7", ssh.Password("Prov-1234!"), "provision")
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	c.Close()
}

// An unknown user is compared against a real hash (same cost, same time)
// and refused; a missing password file refuses every password.
func TestUnknownUserChecked(t *testing.T) {
	s := &Server{PasswordsPath: t.TempDir() + "/ssh_passwords"}
	if _, err := s.passwordCheck("provision"); err == nil || !strings.Contains(err.Error(), "not set up") {
		t.Fatalf("no file: %v", err)
	}
	f := start(t)
	if _, err := f.dialFrom(t, "127.0.0.8", ssh.Password("Prov-1234!"), "nobody"); err == nil {
		t.Fatal("unknown user accepted with another user's password")
	}
}

// The refusal of a throttled address says why and for how long in a
// banner ([retry-after-ms=N], at most the throttle's first delay); a
// wrong password gets no banner.
func TestThrottleBanner(t *testing.T) {
	f := start(t)
	dial := func(pw string) (string, error) {
		c, err := dialFrom(t, "127.0.0.9", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		var banner strings.Builder
		sc, chans, reqs, err := ssh.NewClientConn(c, f.addr, &ssh.ClientConfig{User: "provision", Auth: []ssh.AuthMethod{ssh.Password(pw)},
			HostKeyCallback: ssh.FixedHostKey(f.hostKey), Timeout: 5 * time.Second,
			BannerCallback: func(m string) error { banner.WriteString(m); return nil }})
		if err != nil {
			c.Close()
			return banner.String(), err
		}
		ssh.NewClient(sc, chans, reqs).Close()
		return banner.String(), nil
	}
	if b, err := dial("wrong"); err == nil || b != "" {
		t.Fatalf("wrong password: %v, banner %q (want a refusal and no banner)", err, b)
	}
	b, err := dial("Prov-1234!")
	if err == nil {
		t.Fatal("the right password from a throttled address was checked at once")
	}
	var ms int
	if i := strings.Index(b, "[retry-after-ms="); i < 0 || !strings.Contains(b, "too many failed sign-ins") {
		t.Fatalf("throttled refusal's banner %q", b)
	} else if _, err := fmt.Sscanf(b[i:], "[retry-after-ms=%d]", &ms); err != nil || ms <= 0 || ms > 250 {
		t.Fatalf("banner %q: retry after %d ms (%v), want 1..250", b, ms, err)
	}
	time.Sleep(time.Duration(ms) * time.Millisecond) // exactly what the sensor asked
	if b, err := dial("Prov-1234!"); err != nil || b != "" {
		t.Fatalf("after the announced wait: %v, banner %q", err, b)
	}
}
