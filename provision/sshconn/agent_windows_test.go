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

// pipeListener serves a named pipe the way an agent does: one instance per
// client, each handed out by Accept as a connection.
type pipeListener struct {
	name   string
	mu     sync.Mutex
	next   windows.Handle
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
	h, err := newInstance(name)
	if err != nil {
		t.Fatalf("creating the pipe %s: %v", name, err)
	}
	return &pipeListener{name: name, next: h}
}

// Accept waits for a client on the pending instance; a spare instance is
// made first, so a client never finds the pipe without a free one.
func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	h := l.next
	spare, err := newInstance(l.name)
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	l.next = spare
	l.mu.Unlock()
	if err := windows.ConnectNamedPipe(h, nil); err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
		windows.CloseHandle(h)
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		windows.CloseHandle(h)
		return nil, net.ErrClosed
	}
	return pipeConn{os.NewFile(uintptr(h), l.name)}, nil
}

// Close stops Accept: it marks the listener closed and connects once to
// release the instance waiting in ConnectNamedPipe.
func (l *pipeListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	if c, err := dialPipe(l.name, time.Second); err == nil {
		c.Close()
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
		t.Skip("a real OpenSSH agent service runs on this machine")
	}
	want := serveAgent(t, listenPipe(t, WindowsAgentPipe))
	got := FindAgent(func(string) string { return "" })
	if got != WindowsAgentPipe {
		t.Fatalf("FindAgent = %q, want the service's pipe", got)
	}
	signThrough(t, got, want)
}
