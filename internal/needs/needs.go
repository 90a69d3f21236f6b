// Package needs is the one way a test says what it depends on outside the
// repository: root, a program on PATH, a running ssh-agent, a file system
// that holds sparse files, the shared captures beside the repository. A
// missing one skips the test with a sentence saying what to install or how
// to run it on a developer's machine, and fails the test under CI=true,
// where make test installs everything and runs as root, so a skip there
// would hide a test that never ran.
//
// A test skips only through this package, except where the skip is not
// about something missing: -short, a platform where the feature does not
// exist, a helper process started by another test. TestSkipsGoThroughNeeds
// holds every test file of the module to that.
package needs

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// CI reports whether the tests run under continuous integration (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with the reason, or fails it under CI=true.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

// Root skips (fails under CI) unless the test runs as root; what says what
// the test does that needs it ("creates network namespaces").
func Root(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "this test %s, which needs root; run it as root (CI does)", what)
	}
}

// Tool returns the path of a program on PATH, or skips (fails under CI)
// saying which Debian package holds it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "this test needs %s; install %s (tools/ensure-deps.sh test)", name, pkg)
	}
	return p
}

// SparseFile makes path a sparse file of size bytes, or skips (fails under
// CI) where the file system cannot hold one.
func SparseFile(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		Missing(t, "this test needs a file system that holds a %d-byte sparse file (%v)", size, err)
	}
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
	// answers (a bound generous enough for a loaded machine).
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent did not answer on its socket within 30 s")
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

// RepoRoot is the repository's top folder: the nearest folder above the
// test's own (go test runs a test in its package's folder) whose go.mod is
// the module's.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/tapline/tapline\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/tapline/tapline above the test's folder")
		}
		dir = parent
	}
}

// SharedDir is the folder of shared inputs beside the repository
// (../shared: real captures in pcaps/, conformance suites), which may be
// missing on a developer's machine.
func SharedDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "..", "shared")
}

// Shared returns the files matching glob under SharedDir ("pcaps/modbus/*"),
// sorted, or skips (fails under CI) when there is none.
func Shared(t testing.TB, glob string) []string {
	t.Helper()
	dir := SharedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, glob))
	if len(files) == 0 {
		Missing(t, "this test needs the shared inputs %s beside the repository (%s); none found", glob, dir)
	}
	sort.Strings(files)
	return files
}
