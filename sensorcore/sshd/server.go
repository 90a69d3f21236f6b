package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/signin"
)

// Server is the embedded SSH provisioning listener.
type Server struct {
	HostKey            ssh.Signer
	AuthorizedKeysPath string // OpenSSH authorized_keys; any user name may use these keys
	PasswordsPath      string // lines "user:bcrypt-hash"
	IncomingDir        string
	// Exec runs one allowed provisioning command (args without the program
	// name) and returns its exit status.
	Exec func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	Log  func(format string, args ...any)
	// Guard throttles password sign-ins per source address (package
	// signin); nil: one with the default policy and its own worker pool.
	// The listener has no hard account lock.
	Guard *signin.Guard
	// MaxUnauthenticated bounds connections still in their handshake, in
	// all (default 64) and per source address (MaxUnauthenticatedPerSource,
	// default 8); beyond, a new connection is closed at once.
	MaxUnauthenticated          int
	MaxUnauthenticatedPerSource int

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // connections and sessions still running
	unauth *signin.Slots  // connections still signing in
}

// Defaults for the unauthenticated connection caps, and how long a
// connection may take to sign in.
const (
	DefaultMaxUnauthenticated          = 64
	DefaultMaxUnauthenticatedPerSource = 8
	HandshakeTimeout                   = 30 * time.Second
)

// LoadOrCreateHostKey reads an OpenSSH Ed25519 private key, creating it
// (0600, with a .pub beside it) on first start.
func LoadOrCreateHostKey(path string) (ssh.Signer, error) {
	b, err := safefile.ReadFile(path, maxPasswordsFile)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		blk, err := ssh.MarshalPrivateKey(priv, "sensorcore host key")
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		b = pem.EncodeToMemory(blk)
		if err := safefile.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
		s, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			return nil, err
		}
		safefile.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(s.PublicKey()), 0o644)
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("sshd: %s: %w", path, err)
	}
	// The console shows the fingerprint from the .pub: put it back if lost.
	old, err := safefile.ReadFile(path+".pub", 64<<10)
	if err == nil {
		var k ssh.PublicKey
		if k, _, _, _, err = ssh.ParseAuthorizedKey(old); err == nil && !bytes.Equal(k.Marshal(), s.PublicKey().Marshal()) {
			err = errors.New("another key")
		}
	}
	if err != nil {
		safefile.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(s.PublicKey()), 0o644)
	}
	return s, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}

// passwordCheck returns the comparison for user's password from the
// password file: bcrypt against the user's hash, or for a user not in the
// file against the first user's hash with the answer no, so an unknown user
// costs the same time as a known one.
func (s *Server) passwordCheck(user string) (func(pw []byte) bool, error) {
	b, err := safefile.ReadFile(s.PasswordsPath, maxPasswordsFile)
	if err != nil {
		return nil, errors.New("password sign-in is not set up")
	}
	var decoy []byte
	for _, line := range strings.Split(string(b), "\n") {
		u, hash, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || hash == "" {
			continue
		}
		if u == user {
			h := []byte(hash)
			return func(pw []byte) bool { return bcrypt.CompareHashAndPassword(h, pw) == nil }, nil
		}
		if decoy == nil {
			decoy = []byte(hash)
		}
	}
	if decoy == nil {
		return nil, errors.New("password sign-in is not set up")
	}
	return func(pw []byte) bool { bcrypt.CompareHashAndPassword(decoy, pw); return false }, nil
}

// maxPasswordsFile bounds what is read of the password file (and of
// authorized_keys and the host key).
const maxPasswordsFile = 1 << 20

func (s *Server) config(ctx context.Context) *ssh.ServerConfig {
	c := &ssh.ServerConfig{
		MaxAuthTries: 6,
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			b, err := safefile.ReadFile(s.AuthorizedKeysPath, maxPasswordsFile)
			if err != nil {
				return nil, errors.New("no authorized keys")
			}
			for len(b) > 0 {
				k, _, _, rest, err := ssh.ParseAuthorizedKey(b)
				if err != nil {
					break
				}
				b = rest
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return &ssh.Permissions{Extensions: map[string]string{"pubkey-fp": ssh.FingerprintSHA256(key)}}, nil
				}
			}
			return nil, fmt.Errorf("key %s not authorized", ssh.FingerprintSHA256(key))
		},
		PasswordCallback: func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			ctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
			defer cancel()
			src := signin.SourceOf(meta.RemoteAddr().String())
			check, err := s.passwordCheck(meta.User())
			if err != nil {
				return nil, err
			}
			err = s.Guard.Attempt(ctx, src, meta.User(), func() bool { return check(pw) })
			if err != nil {
				if errors.Is(err, signin.ErrBadCredentials) {
					err = errors.New("wrong user or password")
				}
				if b := RefusalBanner(err, time.Now()); b != "" {
					return nil, &ssh.BannerError{Err: err, Message: b}
				}
				return nil, err
			}
			return &ssh.Permissions{}, nil
		},
	}
	c.AddHostKey(s.HostKey)
	return c
}

// Serve accepts connections until ln closes or ctx ends. It returns only
// when every connection it accepted is closed and every session has ended,
// so nothing logs or writes after Serve returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		ln.Close()
		s.closeAll()
	}()
	defer func() {
		close(stop)
		s.closeAll()
		s.wg.Wait()
	}()
	if s.Guard == nil {
		s.Guard = &signin.Guard{Policy: signin.Policy{HardLockAfter: -1}}
	}
	s.unauth = s.newUnauthSlots()
	cfg := s.config(ctx)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(ctx, c, cfg)
		}()
	}
}

func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	if add {
		if s.closed {
			return false
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
}

// newUnauthSlots counts the connections still signing in.
func (s *Server) newUnauthSlots() *signin.Slots {
	total, per := s.MaxUnauthenticated, s.MaxUnauthenticatedPerSource
	if total <= 0 {
		total = DefaultMaxUnauthenticated
	}
	if per <= 0 {
		per = DefaultMaxUnauthenticatedPerSource
	}
	return &signin.Slots{Total: total, PerSource: per, Note: func(n int, last signin.Source) {
		s.logf("ssh: %d connection(s) closed at once: too many still signing in (at most %d, %d per address); the last from %s",
			n, total, per, last.Addr())
	}}
}

func (s *Server) handle(ctx context.Context, c net.Conn, cfg *ssh.ServerConfig) {
	if !s.track(c, true) {
		c.Close()
		return
	}
	defer s.track(c, false)
	defer c.Close()
	src := signin.SourceOf(c.RemoteAddr().String())
	if !s.unauth.Take(src) {
		return
	}
	c.SetDeadline(time.Now().Add(HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	s.unauth.Release(src)
	if err != nil {
		s.logf("ssh: handshake from %s: %v", src.Addr(), err)
		return
	}
	c.SetDeadline(time.Time{})
	s.logf("ssh: %s signed in from %s", sc.User(), c.RemoteAddr())
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.Prohibited, "only sessions are allowed")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(ctx, sc, ch, creqs)
		}()
	}
}

// keepOpen is a channel whose Close only signals EOF to the peer; the
// session closes the channel itself, after exit-status.
type keepOpen struct{ ssh.Channel }

func (k keepOpen) Close() error { return k.CloseWrite() }

func exitStatus(ch ssh.Channel, code int) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}

func (s *Server) session(ctx context.Context, sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	user := sc.User()
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			args, err := AllowedCommand(p.Command)
			if err != nil {
				req.Reply(true, nil)
				fmt.Fprintf(ch.Stderr(), "sensorcore: %v\n", err)
				s.logf("ssh: %s: refused command: %v", user, err)
				exitStatus(ch, 2)
				return
			}
			req.Reply(true, nil)
			s.logf("ssh: %s runs sensorcore %s", user, args[0])
			code := s.Exec(WithCaller(ctx, Caller{User: user, Addr: sc.RemoteAddr().String()}), args, ch, ch.Stderr())
			exitStatus(ch, code)
			return
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			if err := os.MkdirAll(s.IncomingDir, 0o700); err != nil {
				req.Reply(false, nil)
				continue
			}
			h, closer, err := Handlers(s.IncomingDir)
			if err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			// The SFTP server closes its connection when it stops; the
			// channel must stay open until exit-status is sent, or OpenSSH
			// clients (scp, sftp) see no exit status and fail (ssh exits
			// 255, scp reports an error after a complete transfer).
			srv := sftp.NewRequestServer(keepOpen{ch}, h)
			err = srv.Serve()
			exitStatus(ch, 0)
			srv.Close()
			closer.Close()
			if err != nil && err != io.EOF {
				s.logf("ssh: %s: sftp: %v", user, err)
			}
			return
		case "env":
			req.Reply(true, nil) // accepted and ignored
		default:
			req.Reply(false, nil) // no pty, no shell, no agent, no X11
		}
	}
}

// Caller is who runs a provisioning command over SSH: the account and the
// client's address (the account event log records them).
type Caller struct {
	User string
	Addr string // host:port
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller in ctx, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// RefusalBanner is the banner sent with a password sign-in the throttle or
// a lock refused ("" for any other refusal): the reason in words, then
// "[retry-after-ms=N]", the time until the address may try again, for
// clients that wait and sign in again (Tapline does, within its connect
// timeout). A plain wrong password gets no banner.
func RefusalBanner(err error, now time.Time) string {
	var te *signin.ThrottledError
	var le *signin.LockedError
	var wait time.Duration
	switch {
	case errors.As(err, &te):
		wait = te.Wait
	case errors.As(err, &le):
		wait = le.Until.Sub(now)
	default:
		return ""
	}
	wait = max(wait, time.Millisecond)
	msg := strings.TrimPrefix(err.Error(), "signin: ")
	return fmt.Sprintf("sensorcore: %s [retry-after-ms=%d]\r\n", msg, (wait+time.Millisecond-1)/time.Millisecond)
}
