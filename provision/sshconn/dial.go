package sshconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// Endpoint is one SSH server and how to log in to it.
type Endpoint struct {
	Addr string // host:port
	User string
	Auth Auth
}

// Options shape a dial. Zero values take the defaults noted.
type Options struct {
	// Timeout bounds TCP connect plus SSH handshake (default 15 s).
	Timeout time.Duration
	// KeepAlive is the interval of keepalive@openssh.com requests; three
	// unanswered in a row close the connection (default 15 s; <0 disables).
	KeepAlive time.Duration
	// Jump is an optional jump host (ProxyJump); it is trusted with the same
	// Trust as the target, except that a Pinned target trust does not apply
	// to it: JumpTrust does (default: the target's trust).
	Jump      *Endpoint
	JumpTrust Trust
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 15 * time.Second
	}
	return o.Timeout
}

// Client is an authenticated, trusted SSH connection.
type Client struct {
	*ssh.Client
	// HostKey is the key the server proved; pin it to reconnect elsewhere.
	HostKey ssh.PublicKey
	Addr    string

	jump   *Client
	stop   chan struct{}
	closed sync.Once
}

// Close ends the connection, its keepalives and any jump connection.
func (c *Client) Close() error {
	var err error
	c.closed.Do(func() {
		close(c.stop)
		err = c.Client.Close()
		if c.jump != nil {
			c.jump.Close()
		}
	})
	return err
}

// Dial connects to ep through the optional jump host, checks its host key
// with trust and logs in. ctx cancels the dial; it does not bound the life
// of the returned Client.
func Dial(ctx context.Context, ep Endpoint, trust Trust, o Options) (*Client, error) {
	if trust == nil {
		return nil, errors.New("sshconn: no host trust given")
	}
	var jump *Client
	dialTCP := func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: o.timeout()}
		return d.DialContext(ctx, "tcp", addr)
	}
	if o.Jump != nil {
		jt := o.JumpTrust
		if jt == nil {
			jt = trust
		}
		jo := o
		jo.Jump = nil
		var err error
		if jump, err = Dial(ctx, *o.Jump, jt, jo); err != nil {
			return nil, fmt.Errorf("sshconn: jump host %s: %w", o.Jump.Addr, err)
		}
		dialTCP = func(ctx context.Context, addr string) (net.Conn, error) {
			return jump.DialContext(ctx, "tcp", addr)
		}
	}
	c, err := dialVia(ctx, ep, trust, o, dialTCP)
	// A sensor that throttles password sign-ins after a failure refuses
	// the next one unchecked and says how long to wait: wait that long (if
	// it is within the connect timeout) and sign in once more, as the
	// engineer would.
	var ae *AuthError
	if errors.As(err, &ae) && ae.RetryAfter > 0 && ae.RetryAfter <= o.timeout() {
		t := time.NewTimer(ae.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
			c, err = dialVia(ctx, ep, trust, o, dialTCP)
		}
	}
	if err != nil {
		if jump != nil {
			jump.Close()
		}
		return nil, err
	}
	c.jump = jump
	return c, nil
}

func dialVia(ctx context.Context, ep Endpoint, trust Trust, o Options, dialTCP func(context.Context, string) (net.Conn, error)) (*Client, error) {
	cb, algos, err := trust.hostKey(ep.Addr)
	if err != nil {
		return nil, err
	}
	methods, agentConn, err := ep.Auth.methods()
	if err != nil {
		return nil, err
	}
	defer agentConn.Close()
	var seen ssh.PublicKey
	var banner strings.Builder
	cfg := &ssh.ClientConfig{
		BannerCallback: func(m string) error {
			if banner.Len() < maxBanner {
				banner.WriteString(m[:min(len(m), maxBanner-banner.Len())])
			}
			return nil
		},
		User: ep.User,
		Auth: methods,
		HostKeyCallback: func(h string, r net.Addr, k ssh.PublicKey) error {
			if err := cb(h, r, k); err != nil {
				return err
			}
			seen = k
			return nil
		},
		HostKeyAlgorithms: algos,
		Timeout:           o.timeout(),
	}
	dctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	conn, err := dialTCP(dctx, ep.Addr)
	if err != nil {
		return nil, fmt.Errorf("sshconn: connect %s: %w", ep.Addr, err)
	}
	// The handshake has no context of its own: a deadline bounds it and a
	// cancelled ctx closes the socket.
	_ = conn.SetDeadline(time.Now().Add(o.timeout()))
	stopWatch := context.AfterFunc(dctx, func() { conn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(conn, ep.Addr, cfg)
	stopped := stopWatch()
	if err != nil {
		conn.Close()
		return nil, classify(ep, err, banner.String())
	}
	if !stopped { // the watcher closed conn as the handshake finished
		sc.Close()
		return nil, fmt.Errorf("sshconn: connect %s: %w", ep.Addr, context.Cause(dctx))
	}
	_ = conn.SetDeadline(time.Time{})
	c := &Client{Client: ssh.NewClient(sc, chans, reqs), HostKey: seen, Addr: ep.Addr, stop: make(chan struct{})}
	if o.KeepAlive >= 0 {
		iv := o.KeepAlive
		if iv == 0 {
			iv = 15 * time.Second
		}
		go c.keepAlive(iv)
	}
	return c, nil
}

// maxBanner bounds what is kept of the server's banners.
const maxBanner = 2048

// retryAfter finds "[retry-after-ms=N]" in a banner (sensorcore's throttled
// or locked sign-in): the wait it asks for, or 0.
var retryAfter = regexp.MustCompile(`\[retry-after-ms=([0-9]{1,9})\]`)

func classify(ep Endpoint, err error, banner string) error {
	var u *UnknownHostError
	var ch *HostKeyChangedError
	var p *PinnedKeyMismatchError
	switch {
	case errors.As(err, &u):
		return u
	case errors.As(err, &ch):
		return ch
	case errors.As(err, &p):
		return p
	case strings.Contains(err.Error(), "unable to authenticate"):
		// The banner is the server's text: only printable characters of it
		// are kept, so that it cannot drive the terminal that shows it.
		printable := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == '\t' {
				return ' '
			}
			if !unicode.IsPrint(r) {
				return -1
			}
			return r
		}, banner)
		ae := &AuthError{Host: ep.Addr, User: ep.User, Err: err, Banner: strings.TrimSpace(retryAfter.ReplaceAllString(printable, ""))}
		if m := retryAfter.FindStringSubmatch(banner); m != nil {
			ms, _ := strconv.Atoi(m[1])
			ae.RetryAfter = time.Duration(ms) * time.Millisecond
		}
		return ae
	}
	return fmt.Errorf("sshconn: handshake with %s: %w", ep.Addr, err)
}

// keepAlive sends keepalive@openssh.com every iv; three misses close c.
func (c *Client) keepAlive(iv time.Duration) {
	t := time.NewTicker(iv)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		res := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			res <- err
		}()
		select {
		case <-c.stop:
			return
		case err := <-res:
			if err != nil {
				c.Close()
				return
			}
			missed = 0
		case <-time.After(iv):
			missed++
			if missed >= 3 {
				c.Close()
				return
			}
		}
	}
}
