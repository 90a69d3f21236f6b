// Package natstest runs the real NATS server (github.com/nats-io/nats-server,
// pinned in tools/go.mod) for tests: built once from the module proxy into
// a cache folder, started from the configuration `tapline site init`
// writes, stopped and restarted as a test needs. A machine without the
// Go module proxy skips (fails under CI=true).
package natstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the nats-server binary, building it from tools/go.mod on
// first use (TAPLINE_TEST_NATS_SERVER names one built elsewhere).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TAPLINE_TEST_NATS_SERVER"); p != "" {
		return p
	}
	buildOnce.Do(func() { binPath, buildErr = build() })
	if buildErr != nil {
		needs.Missing(t, "this test needs the NATS server built from tools/go.mod (go build -C tools github.com/nats-io/nats-server/v2): %v", buildErr)
	}
	return binPath
}

// ToolsDir finds the repository's tools/ folder from the working
// directory.
func ToolsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
			return filepath.Join(dir, "tools"), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no tools/go.mod above the working directory")
		}
		dir = up
	}
}

func build() (string, error) {
	tools, err := ToolsDir()
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(tools, "go.sum"))
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(sum)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "tapline-test", "nats-server-"+hex.EncodeToString(h[:6]))
	bin := filepath.Join(dir, "nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := bin + ".tmp" + strconv.Itoa(os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2")
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return bin, os.Rename(tmp, bin)
}

// FreePorts returns n TCP ports free on 127.0.0.1 now.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// Server is one running nats-server.
type Server struct {
	t    testing.TB
	bin  string
	conf string
	addr string // its client address, host:port
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs nats-server -c conf and waits until addr (its client port)
// accepts connections. It is stopped when the test ends.
func Start(t testing.TB, conf, addr string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), conf: conf, addr: addr, log: conf + ".log"}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	lf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "-c", s.conf)
	s.cmd.Stdout, s.cmd.Stderr = lf, lf
	setParentDeath(s.cmd)
	if err := s.cmd.Start(); err != nil {
		lf.Close()
		s.t.Fatal(err)
	}
	lf.Close()
	s.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(s.cmd, s.done)
	for i := 0; ; i++ {
		if c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(s.log)
			s.t.Fatalf("nats-server -c %s exited: %s", s.conf, b)
		default:
		}
		if i == 300 {
			s.t.Fatalf("nats-server -c %s did not listen on %s within 30 s", s.conf, s.addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s).
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts a stopped or killed server again with its configuration
// and store.
func (s *Server) Restart() { s.t.Helper(); s.start() }

// Addr is the server's client address.
func (s *Server) Addr() string { return s.addr }

// Log is what the server wrote so far.
func (s *Server) Log() string { b, _ := os.ReadFile(s.log); return string(b) }
