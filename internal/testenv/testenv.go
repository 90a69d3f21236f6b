// Package testenv gives tests the programs they need from the machine: a
// tool on PATH, a running ssh-agent. A missing one skips the test with a
// sentence saying what to install, except under CI=true, where it fails
// (package needs).
package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
)

// Tool returns the path of a program on PATH, or skips (fails under CI)
// saying which Debian package holds it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		needs.Missing(t, "this test needs %s; install %s (tools/ensure-deps.sh test)", name, pkg)
	}
	return p
}

// SSHAgent starts OpenSSH's ssh-agent on a socket of its own holding the
// given private key files, and returns the socket (SSH_AUTH_SOCK). It is
// stopped when the test ends.
func SSHAgent(t testing.TB, keyFiles ...string) string {
	t.Helper()
	agent := Tool(t, "ssh-agent", "openssh-client")
	add := Tool(t, "ssh-add", "openssh-client")
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(agent, "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// The socket appears before the agent listens on it: wait until it
	// answers.
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if i == 250 {
			t.Fatal("ssh-agent did not answer on its socket within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, k := range keyFiles {
		c := exec.Command(add, k)
		c.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add %s: %v %s", k, err, out)
		}
	}
	return sock
}
