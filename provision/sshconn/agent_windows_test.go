package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// pipeListener serves a named pipe the way an agent does: each client gets
// an instance of its own. Two instances wait at any time, each on its own
// goroutine, so a client never finds the pipe without a free instance and
// no client waits on an instance nobody serves.
type pipeListener struct {
	name   string
	conns  chan net.Conn
	mu     sync.Mutex
	closed bool
}

var _ net.Listener = (*pipeListener)(nil)

func newInstance(name string) (windows.Handle, error) {
	n, _ := windows.UTF16PtrFromString(name)
	return windows.CreateNamedPipe(n, windows.PIPE_ACCESS_DUPLEX, windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT,
		windows.PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, nil)
}

func listenPipe(t *testing.T, name string) *pipeListener {
	t.Helper()
	l := &pipeListener{name: name, conns: make(chan net.Conn)}
	for range 2 {
		h, err := newInstance(name)
		if err != nil {
			t.Fatalf("creating the pipe %s: %v", name, err)
		}
		go l.serve(h)
	}
	return l
}

// serve waits for a client on h, hands the connection to Accept, and goes
// on with a new instance, until the listener closes.
func (l *pipeListener) serve(h windows.Handle) {
	for {
		if err := windows.ConnectNamedPipe(h, nil); err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
			windows.CloseHandle(h)
			return
		}
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			windows.CloseHandle(h)
			return
		}
		l.conns <- pipeConn{os.NewFile(uintptr(h), l.name)}
		var err error
		if h, err = newInstance(l.name); err != nil {
			return
		}
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}

// Close stops the listener: it marks it closed and connects to release
// each waiting instance.
func (l *pipeListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	for range 2 {
		if c, err := dialPipe(l.name, 100*time.Millisecond); err == nil {
			c.Close()
		}
	}
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.name) }

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

type pipeConn struct{ *os.File }

func (c pipeConn) LocalAddr() net.Addr              { return pipeAddr(c.Name()) }
func (c pipeConn) RemoteAddr() net.Addr             { return pipeAddr(c.Name()) }
func (c pipeConn) SetDeadline(time.Time) error      { return nil }
func (c pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c pipeConn) SetWriteDeadline(time.Time) error { return nil }

// TestAgentNamedPipe: an agent on a named pipe (as the Windows OpenSSH
// agent service and SSH_AUTH_SOCK pipes serve it) signs through dialAgent.
func TestAgentNamedPipe(t *testing.T) {
	pipe := fmt.Sprintf(`\\.\pipe\tapline-test-agent-%d`, os.Getpid())
	signThrough(t, pipe, serveAgent(t, listenPipe(t, pipe)))
	env := map[string]string{"SSH_AUTH_SOCK": pipe}
	if got := FindAgent(func(k string) string { return env[k] }); got != pipe {
		t.Fatalf("FindAgent = %q", got)
	}
}

// TestFindWindowsAgentService: with SSH_AUTH_SOCK unset, the OpenSSH agent
// service's pipe is found when it answers.
func TestFindWindowsAgentService(t *testing.T) {
	if FindAgent(func(string) string { return "" }) == WindowsAgentPipe {
		t.Skip("the OpenSSH agent service holds its pipe, so its discovery is already shown by FindAgent")
	}
	want := serveAgent(t, listenPipe(t, WindowsAgentPipe))
	got := FindAgent(func(string) string { return "" })
	if got != WindowsAgentPipe {
		t.Fatalf("FindAgent = %q, want the service's pipe", got)
	}
	signThrough(t, got, want)
}
