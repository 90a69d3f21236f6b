package sshconn

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// serveAgent answers agent requests on l from a keyring holding one new
// ed25519 key, until l closes; it returns that key's public half.
func serveAgent(t *testing.T, l net.Listener) ssh.PublicKey {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: k, Comment: "tapline-test"}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { l.Close() })
	s, _ := ssh.NewSignerFromKey(k)
	return s.PublicKey()
}

// signThrough asks the agent at addr for its keys and a signature, as a
// connection's public key method does.
func signThrough(t *testing.T, addr string, want ssh.PublicKey) {
	t.Helper()
	a, c, err := dialAgent(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	signers, err := a.Signers()
	if err != nil || len(signers) != 1 || string(signers[0].PublicKey().Marshal()) != string(want.Marshal()) {
		t.Fatalf("agent keys: %v %v", signers, err)
	}
	sig, err := signers[0].Sign(rand.Reader, []byte("tapline"))
	if err != nil {
		t.Fatal(err)
	}
	if err := want.Verify([]byte("tapline"), sig); err != nil {
		t.Fatal(err)
	}
}

func TestFindAgentPrefersSSHAuthSock(t *testing.T) {
	env := map[string]string{"SSH_AUTH_SOCK": "/run/user/1000/agent.sock"}
	if got := FindAgent(func(k string) string { return env[k] }); got != env["SSH_AUTH_SOCK"] {
		t.Fatalf("FindAgent = %q", got)
	}
	for addr, pipe := range map[string]bool{
		`\\.\pipe\openssh-ssh-agent`: true, `//./pipe/openssh-ssh-agent`: true, `\\.\PIPE\x`: true,
		"/tmp/ssh-XXXX/agent.1": false, AgentPageant: false, `C:\Users\eng\agent.sock`: false,
	} {
		if isPipe(addr) != pipe {
			t.Errorf("isPipe(%q) = %v", addr, !pipe)
		}
	}
}

func TestAgentUnknownOrDead(t *testing.T) {
	if _, _, err := dialAgent(t.TempDir() + "/no-agent.sock"); err == nil {
		t.Fatal("dialled an agent that is not there")
	}
	if ErrNoAgent == nil || errors.Is(ErrNoAgent, ErrNoAuth) {
		t.Fatal("ErrNoAgent must be its own error")
	}
}
