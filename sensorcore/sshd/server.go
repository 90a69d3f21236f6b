package sshd

import (
	"bufio"
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

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // connections and sessions still running
}

// LoadOrCreateHostKey reads an OpenSSH Ed25519 private key, creating it
// (0600, with a .pub beside it) on first start.
func LoadOrCreateHostKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
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
	return s, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}

func (s *Server) config() *ssh.ServerConfig {
	c := &ssh.ServerConfig{
		MaxAuthTries: 6,
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			b, err := os.ReadFile(s.AuthorizedKeysPath)
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
			f, err := os.Open(s.PasswordsPath)
			if err != nil {
				return nil, errors.New("password sign-in is not set up")
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				user, hash, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
				if ok && user == meta.User() {
					if bcrypt.CompareHashAndPassword([]byte(hash), pw) == nil {
						return &ssh.Permissions{}, nil
					}
					break
				}
			}
			return nil, errors.New("wrong user or password")
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
	cfg := s.config()
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

func (s *Server) handle(ctx context.Context, c net.Conn, cfg *ssh.ServerConfig) {
	if !s.track(c, true) {
		c.Close()
		return
	}
	defer s.track(c, false)
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		s.logf("ssh: handshake from %s: %v", c.RemoteAddr(), err)
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
			s.session(ctx, sc.User(), ch, creqs)
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

func (s *Server) session(ctx context.Context, user string, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
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
			code := s.Exec(ctx, args, ch, ch.Stderr())
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
