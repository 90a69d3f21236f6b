//go:build !windows

package sshconn

import (
	"net"
	"path/filepath"
	"testing"
)

// TestAgentUnixSocket: an agent on a Unix socket signs through dialAgent.
func TestAgentUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	signThrough(t, sock, serveAgent(t, l))
	if _, _, err := dialAgent(AgentPageant); err == nil {
		t.Fatal("Pageant off Windows")
	}
}
