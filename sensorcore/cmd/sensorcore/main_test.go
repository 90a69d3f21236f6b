package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/sensorcorebin"
	"github.com/tapline/tapline/internal/syncbuf"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/sensorcore/daemon"
)

// binary is sensorcore built once, CGO_ENABLED=0, for the process tests.
var binary string

func TestMain(m *testing.M) { sensorcorebin.Main(m, &binary) }

// proc is a running "sensorcore serve".
type proc struct {
	cmd     *exec.Cmd
	run     daemon.RunInfo
	log     *syncbuf.Buffer // the daemon's output, readable while it still writes
	stopped bool
}

func startServe(t testing.TB, root, trustRoot string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--root", root, "--console-listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0",
		"--trust-root", trustRoot, "--tick", "100ms", "--hostname", "sensor-01.plant.example"}, extra...)
	cmd := exec.Command(binary, args...)
	lg := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = lg, lg
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: lg}
	t.Cleanup(func() { p.kill() })
	l := daemon.Layout{Root: root}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ri, ok := l.ReadRunInfo(); ok && ri.PID == cmd.Process.Pid {
			p.run = ri
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sensorcore serve did not start: %s", lg.String())
	return nil
}

func (p *proc) kill() {
	if !p.stopped {
		p.stopped = true
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.stopped = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM: %s", p.log)
	}
}

// servedFingerprint opens TLS to the console and returns the leaf's SHA-256.
func servedFingerprint(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "sensor-01.plant.example"})
	if err != nil {
		t.Fatalf("TLS to the console: %v", err)
	}
	defer c.Close()
	s := sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(s[:])
}

func waitFingerprint(t *testing.T, addr, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = servedFingerprint(t, addr); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("console serves %s, want %s", got, want)
}

func health(t *testing.T, addr string) map[string]any {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	resp, err := c.Get("https://" + addr + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sshClient signs in to the embedded listener with a key written to
// authorized_keys, pinning the persisted host key.
type sshClient struct {
	key ssh.Signer
	hk  ssh.PublicKey
}

func newSSHClient(t *testing.T, root string) *sshClient {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := ssh.NewSignerFromKey(k)
	etc := daemon.Layout{Root: root}.Etc()
	os.MkdirAll(etc, 0o700)
	if err := os.WriteFile(filepath.Join(etc, "authorized_keys"), ssh.MarshalAuthorizedKey(s.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &sshClient{key: s}
}

func (c *sshClient) dial(t *testing.T, root, addr string) *ssh.Client {
	t.Helper()
	if c.hk == nil {
		b, err := os.ReadFile(filepath.Join(daemon.Layout{Root: root}.Etc(), "ssh_host_ed25519_key.pub"))
		if err != nil {
			t.Fatal(err)
		}
		if c.hk, _, _, _, err = ssh.ParseAuthorizedKey(b); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "provision", Auth: []ssh.AuthMethod{ssh.PublicKeys(c.key)},
		HostKeyCallback: ssh.FixedHostKey(c.hk), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// upload puts a file in the incoming directory the way the push engine
// does: exclusive .part name, write, rename.
func upload(t *testing.T, cl *ssh.Client, local string) string {
	t.Helper()
	sc, err := sftp.NewClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	name := filepath.Base(local)
	data, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sc.OpenFile("/"+name+".part", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := sc.PosixRename("/"+name+".part", "/"+name); err != nil {
		t.Fatal(err)
	}
	return name
}

// remote runs one command over SSH exec and decodes its JSON output.
func remote(t *testing.T, cl *ssh.Client, cmd string, v any) int {
	t.Helper()
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	err = s.Run(cmd)
	code := 0
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitStatus()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	if v != nil {
		if err := json.Unmarshal(out.Bytes(), v); err != nil {
			t.Fatalf("%s: output is not JSON: %q (stderr %q)", cmd, out.String(), errb.String())
		}
	}
	return code
}

// cli runs the sensorcore binary directly.
func cli(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

func execCommand(args []string, env ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
