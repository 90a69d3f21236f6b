package console

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tapline/tapline/sensorcore/signin"
)

// The console's limits on a client: a request's header must arrive within
// ReadHeaderTimeout (the TLS handshake too), the whole request within
// ReadTimeout, the answer be taken within WriteTimeout; an idle
// keep-alive connection closes after IdleTimeout. At most MaxConns
// connections are open, MaxConnsPerSource from one address (an IPv4
// address, or an IPv6 /64); beyond, a new connection is closed at once.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 20 * time.Second
	WriteTimeout      = time.Minute
	IdleTimeout       = time.Minute
	MaxHeaderBytes    = 16 << 10
	MaxConns          = 128
	MaxConnsPerSource = 16
	// maxFormBytes bounds the body of the console's own forms.
	maxFormBytes = 16 << 10
)

// HTTPServer returns the console's http.Server with the limits above;
// serve it on Listener(ln).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake noise from probes and scanners
	}
}

// Listener wraps a TCP listener with the connection caps and TLS serving
// the current certificate.
func (s *Server) Listener(ln net.Listener) net.Listener {
	s.init()
	slots := &signin.Slots{Total: MaxConns, PerSource: MaxConnsPerSource, Note: func(n int, last signin.Source) {
		s.Log("console: %d connection(s) closed at once: too many open (at most %d, %d per address); the last from %s",
			n, MaxConns, MaxConnsPerSource, last.Addr())
	}}
	return tls.NewListener(&capListener{Listener: ln, slots: slots}, s.TLSConfig())
}

// capListener closes, at once, a connection beyond the caps.
type capListener struct {
	net.Listener
	slots *signin.Slots
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := signin.SourceOf(c.RemoteAddr().String())
		if l.slots.Take(src) {
			return &cappedConn{Conn: c, release: func() { l.slots.Release(src) }}, nil
		}
		c.Close()
	}
}

// cappedConn gives its place back once, when closed.
type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
