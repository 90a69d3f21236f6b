package sshdtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/internal/syncbuf"
)

// SSHD is the path of the OpenSSH daemon the harness runs.
const SSHD = "/usr/sbin/sshd"

// Options shape one sshd.
type Options struct {
	// HostKeyTypes lists the host key types to generate with ssh-keygen
	// ("ed25519", "rsa", "ecdsa"). Default: ed25519 and rsa.
	HostKeyTypes []string
	// HostKeyDir reuses host keys from an earlier server (so a restarted
	// server keeps its identity). Empty: fresh keys in the server's dir.
	HostKeyDir string
	// Extra is appended verbatim to sshd_config (Match blocks, ForceCommand).
	Extra string
	// Subsystem is the sftp subsystem line's command; default internal-sftp.
	Subsystem string
}

// Server is one running sshd.
type Server struct {
	Dir        string // the temporary directory holding config and keys
	Addr       string // 127.0.0.1:PORT
	Port       int
	User       string     // the user tests log in as (the current user)
	ClientKey  string     // path of an unencrypted ed25519 client key, authorised
	Signer     ssh.Signer // ClientKey parsed
	HostKeys   []ssh.PublicKey
	HostKeyDir string
	cmd        *exec.Cmd
	done       chan error
	logs       *syncbuf.Buffer // sshd's stderr, read while sshd writes
}

// Require skips t unless the harness can run here, saying why.
func Require(t testing.TB) {
	t.Helper()
	needs.Root(t, "starts a real OpenSSH sshd")
	if _, err := os.Stat(SSHD); err != nil {
		needs.Missing(t, "this test needs Debian's openssh-server (%s); install it with tools/ensure-deps.sh test", SSHD)
	}
	needs.Tool(t, "ssh-keygen", "openssh-client")
}

// Keygen runs ssh-keygen to make a key pair at path; passphrase may be empty.
func Keygen(t testing.TB, path, typ, passphrase string) {
	t.Helper()
	args := []string{"-q", "-t", typ, "-N", passphrase, "-C", "tapline-test", "-f", path}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v: %s", typ, err, out)
	}
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs sshd until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	Require(t)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation dir
		t.Fatalf("mkdir /run/sshd: %v", err)
	}
	dir := t.TempDir()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	s := &Server{Dir: dir, User: u.Username, logs: &syncbuf.Buffer{}}
	types := o.HostKeyTypes
	if len(types) == 0 {
		types = []string{"ed25519", "rsa"}
	}
	s.HostKeyDir = o.HostKeyDir
	if s.HostKeyDir == "" {
		s.HostKeyDir = filepath.Join(dir, "hostkeys")
		if err := os.Mkdir(s.HostKeyDir, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, typ := range types {
			Keygen(t, filepath.Join(s.HostKeyDir, "ssh_host_"+typ+"_key"), typ, "")
		}
	}
	var hostKeyLines []string
	for _, typ := range types {
		p := filepath.Join(s.HostKeyDir, "ssh_host_"+typ+"_key")
		pub, err := os.ReadFile(p + ".pub")
		if err != nil {
			t.Fatalf("host key: %v", err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
		if err != nil {
			t.Fatalf("host key %s: %v", p, err)
		}
		s.HostKeys = append(s.HostKeys, k)
		hostKeyLines = append(hostKeyLines, "HostKey "+p)
	}
	s.ClientKey = filepath.Join(dir, "id_ed25519")
	Keygen(t, s.ClientKey, "ed25519", "")
	raw, err := os.ReadFile(s.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if s.Signer, err = ssh.ParsePrivateKey(raw); err != nil {
		t.Fatal(err)
	}
	s.Authorize(t, s.Signer.PublicKey())
	sub := o.Subsystem
	if sub == "" {
		sub = "internal-sftp"
	}
	for attempt := 0; ; attempt++ {
		s.Port = FreePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		cfg := strings.Join(append(hostKeyLines,
			"ListenAddress "+s.Addr,
			"AuthorizedKeysFile "+filepath.Join(dir, "authorized_keys"),
			"PidFile "+filepath.Join(dir, "sshd.pid"),
			"StrictModes no",
			"UsePAM no",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin prohibit-password",
			"LogLevel ERROR",
			"MaxStartups 200",
			"MaxSessions 50",
			"Subsystem sftp "+sub,
			o.Extra,
		), "\n") + "\n"
		conf := filepath.Join(dir, "sshd_config")
		if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.run(conf); err == nil {
			break
		} else if attempt == 4 {
			t.Fatalf("sshd did not start: %v\n%s", err, s.logs.String())
		}
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) run(conf string) error {
	s.logs.Reset()
	s.cmd = exec.Command(SSHD, "-D", "-e", "-f", conf)
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return fmt.Errorf("sshd exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stopProcess()
	return fmt.Errorf("sshd did not answer on %s", s.Addr)
}

// Authorize appends a public key to the server's authorized_keys.
func (s *Server) Authorize(t testing.TB, k ssh.PublicKey) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(ssh.MarshalAuthorizedKey(k)); err != nil {
		t.Fatal(err)
	}
}

// KnownHostsLine returns known_hosts lines for every host key of s.
func (s *Server) KnownHostsLine() string {
	var b strings.Builder
	for _, k := range s.HostKeys {
		fmt.Fprintf(&b, "[127.0.0.1]:%d %s", s.Port, ssh.MarshalAuthorizedKey(k))
	}
	return b.String()
}

// Logs returns what sshd wrote on stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

func (s *Server) stopProcess() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	select {
	case <-s.done:
	case <-ctx.Done():
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Stop ends sshd (its session children follow when their clients go).
func (s *Server) Stop() { s.stopProcess(); s.cmd = nil }
