package sshconn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unsafe"

	"github.com/davidmz/go-pageant"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/windows"
)

// ErrNoAgent says no ssh-agent was found, and how to start one.
var ErrNoAgent = errors.New("no ssh-agent is running (SSH_AUTH_SOCK is not set, the OpenSSH Authentication Agent service does not answer on " +
	WindowsAgentPipe + " and Pageant is not running): start the service (Start-Service ssh-agent, then ssh-add) or Pageant with your key")

func findPlatformAgent() string {
	if c, err := dialPipe(WindowsAgentPipe, time.Second); err == nil {
		c.Close()
		return WindowsAgentPipe
	}
	if pageant.Available() {
		return AgentPageant
	}
	return ""
}

var procWaitNamedPipe = windows.NewLazySystemDLL("kernel32.dll").NewProc("WaitNamedPipeW")

// dialPipe opens the client end of a named pipe, waiting up to timeout
// while every instance is busy. The handle is synchronous: the agent
// protocol is one request, then its answer. The server may identify the
// caller but never act as it (SECURITY_IDENTIFICATION).
func dialPipe(addr string, timeout time.Duration) (io.ReadWriteCloser, error) {
	name, err := windows.UTF16PtrFromString(addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err == nil {
			return os.NewFile(uintptr(h), addr), nil
		}
		if !errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("every instance of %s stayed busy for %s", addr, timeout)
		}
		procWaitNamedPipe.Call(uintptr(unsafe.Pointer(name)), uintptr(left.Milliseconds()))
	}
}

func dialPageant() (agent.ExtendedAgent, io.Closer, error) {
	if !pageant.Available() {
		return nil, nil, errors.New("sshconn: Pageant is not running: start it and add your key")
	}
	a, ok := pageant.New().(agent.ExtendedAgent)
	if !ok {
		return nil, nil, errors.New("sshconn: the Pageant client is not an agent")
	}
	return a, nopCloser{}, nil
}
