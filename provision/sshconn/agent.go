package sshconn

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh/agent"
)

// Where an ssh-agent can be, as Auth.AgentSocket names it:
//   - a Unix socket path (SSH_AUTH_SOCK on Linux and macOS, and on Windows
//     when an agent there uses AF_UNIX);
//   - a Windows named pipe, \\.\pipe\NAME: the OpenSSH for Windows agent
//     service listens on WindowsAgentPipe, and SSH_AUTH_SOCK may name another;
//   - AgentPageant: PuTTY's agent, Pageant, reached through its window.
const (
	WindowsAgentPipe = `\\.\pipe\openssh-ssh-agent`
	AgentPageant     = "pageant"
)

// agentDialTimeout bounds reaching the agent (a pipe whose every instance
// is busy, a stale socket).
const agentDialTimeout = 5 * time.Second

// FindAgent says which ssh-agent to use, as OpenSSH and PuTTY would find
// it: SSH_AUTH_SOCK when set; otherwise, on Windows, the OpenSSH agent
// service's pipe when it answers, then Pageant when it runs. "" means none
// (ErrNoAgent says what to do).
func FindAgent(getenv func(string) string) string {
	if s := getenv("SSH_AUTH_SOCK"); s != "" {
		return s
	}
	return findPlatformAgent()
}

// isPipe reports whether addr names a Windows named pipe.
func isPipe(addr string) bool {
	a := strings.ReplaceAll(addr, "/", `\`)
	return strings.HasPrefix(strings.ToLower(a), `\\.\pipe\`)
}

// dialAgent connects to the agent at addr; the closer ends the connection.
func dialAgent(addr string) (agent.ExtendedAgent, io.Closer, error) {
	var c io.ReadWriteCloser
	var err error
	switch {
	case addr == AgentPageant:
		return dialPageant()
	case isPipe(addr):
		c, err = dialPipe(addr, agentDialTimeout)
	default:
		c, err = net.DialTimeout("unix", addr, agentDialTimeout)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sshconn: ssh-agent at %s: %w", addr, err)
	}
	return agent.NewClient(c), c, nil
}
