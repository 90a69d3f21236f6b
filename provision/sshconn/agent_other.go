//go:build !windows

package sshconn

import (
	"errors"
	"io"
	"time"

	"golang.org/x/crypto/ssh/agent"
)

// ErrNoAgent says no ssh-agent was found, and how to start one.
var ErrNoAgent = errors.New("no ssh-agent is running (SSH_AUTH_SOCK is not set): start one (eval $(ssh-agent), then ssh-add)")

func findPlatformAgent() string { return "" }

func dialPipe(addr string, _ time.Duration) (io.ReadWriteCloser, error) {
	return nil, errors.New("a named pipe (" + addr + ") is a Windows agent")
}

func dialPageant() (agent.ExtendedAgent, io.Closer, error) {
	return nil, nil, errors.New("sshconn: Pageant runs on Windows only; use ssh-agent (SSH_AUTH_SOCK)")
}
