// Package testenv holds what tests need from the machine: a tool, root, a
// running ssh-agent. A missing need skips the test with a sentence saying
// what to install, except under CI=true, where it fails: CI has everything.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Need skips (or under CI=true fails) t with why unless ok.
func Need(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + why)
	}
	t.Skip(why)
}

// Tool returns the path of a program on PATH, or skips (fails under CI)
// saying which Debian package holds it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, err == nil, "this test needs "+name+"; install "+pkg+" (tools/ensure-deps.sh test)")
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
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i == 250 {
			t.Fatal("ssh-agent did not make its socket within 5 s")
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
