package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/sftp"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/internal/releasetest"
	"github.com/tapline/tapline/sensorcore/daemon"
)

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// canary builds an ELF program that says "sensorcore 9.9.9" to version,
// like a real one, and leaves the file marker behind whenever anything
// runs it: the proof that install-core never executed an upload.
func canary(t *testing.T, marker string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module canary\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

import (
	"fmt"
	"os"
)

var marker string

func main() {
	os.WriteFile(marker, []byte("executed\n"), 0o644)
	fmt.Println("sensorcore 9.9.9")
}
`), 0o644)
	bin := filepath.Join(dir, "canary")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.marker="+marker, "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build canary: %v\n%s", err, out)
	}
	return bin
}

// coreSetup is an appliance root that trusts a lab release root
// (config.json release_trust_roots), its incoming directory, and an
// installed sensorcore (this one) at target.
type coreSetup struct {
	root, in, target string
	rel              *releasetest.Authority
}

func newCoreSetup(t *testing.T) *coreSetup {
	t.Helper()
	s := &coreSetup{root: t.TempDir(), rel: releasetest.New(t)}
	etc := daemon.Layout{Root: s.root}.Etc()
	os.MkdirAll(etc, 0o700)
	copyFile(t, s.rel.RootFile, filepath.Join(etc, "release-root.pub"), 0o644)
	os.WriteFile(filepath.Join(etc, "config.json"), []byte(`{"release_trust_roots": ["release-root.pub"]}`), 0o600)
	s.in = daemon.Layout{Root: s.root}.Incoming()
	os.MkdirAll(s.in, 0o700)
	s.target = filepath.Join(t.TempDir(), "sensorcore")
	copyFile(t, binary, s.target, 0o755)
	return s
}

// upload puts a binary and, when sig is not nil, its signature into the
// incoming directory as name and name.sig.
func (s *coreSetup) upload(t *testing.T, from, name string, sig []byte) {
	t.Helper()
	copyFile(t, from, filepath.Join(s.in, name), 0o600)
	if sig != nil {
		os.WriteFile(filepath.Join(s.in, name+".sig"), sig, 0o600)
	}
}

func (s *coreSetup) installCore(t *testing.T, args ...string) (daemon.InstallCoreResult, string, int) {
	t.Helper()
	out, code := cli(t, nil, append([]string{"install-core", "--json", "--root", s.root, "--target", s.target}, args...)...)
	var res daemon.InstallCoreResult
	json.Unmarshal([]byte(out), &res)
	return res, out, code
}

// TestInstallCoreRefusesUnsigned: the provisioning account uploads a
// binary of its own and asks install-core to install it. Unsigned, signed
// by a key of its own, signed for another binary, with an altered
// statement, for another machine, or an older release without the
// statement's leave: refused with a TL code, the upload (and its
// signature) removed, the installed binary and its .prev unchanged, and
// the upload never executed.
func TestInstallCoreRefusesUnsigned(t *testing.T) {
	s := newCoreSetup(t)
	marker := filepath.Join(t.TempDir(), "executed")
	evil := canary(t, marker)
	attacker := releasetest.New(t) // the attacker's own "release authority"
	real := s.rel.Sign(t, binary, "9.9.9", releasetest.Options{})
	var env map[string]any
	json.Unmarshal(s.rel.Sign(t, evil, "9.9.9", releasetest.Options{}), &env)
	env["statement"] = strings.Repeat("A", 40) // not what was signed
	altered, _ := json.Marshal(env)
	otherArch := "arm64"
	if runtime.GOARCH == "arm64" {
		otherArch = "amd64"
	}
	os.WriteFile(s.target+".prev", []byte("previous"), 0o755)
	before := releasetest.FileSHA256(t, s.target)

	for _, c := range []struct {
		name string
		sig  []byte
		args []string
		code string
	}{
		{"unsigned", nil, nil, daemon.CodeCoreSignature},
		{"unsigned, checksum and version given", nil, []string{"--sha256", releasetest.FileSHA256(t, evil), "--version", "9.9.9"}, daemon.CodeCoreSignature},
		{"signed by an untrusted key", attacker.Sign(t, evil, "9.9.9", releasetest.Options{}), nil, daemon.CodeCoreSignature},
		{"another binary's signature", real, nil, daemon.CodeCoreChecksum},
		{"altered statement", altered, nil, daemon.CodeCoreSignature},
		{"not a signature", []byte("sensorcore 9.9.9\n"), nil, daemon.CodeCoreSignature},
		{"another machine", s.rel.Sign(t, evil, "9.9.9", releasetest.Options{Arch: otherArch}), nil, daemon.CodeCoreBinary},
		{"older release", s.rel.Sign(t, evil, "0.0.1", releasetest.Options{}), nil, daemon.CodeCoreDowngrade},
	} {
		s.upload(t, evil, "evil.core", c.sig)
		res, out, code := s.installCore(t, append(c.args, "evil.core")...)
		if code != 1 || res.OK || res.Code != c.code {
			t.Errorf("%s: exit %d, want code %s: %s", c.name, code, c.code, out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: install-core executed the upload", c.name)
		}
		if releasetest.FileSHA256(t, s.target) != before || releasetest.FileSHA256(t, s.target+".prev") != releasetest.FileSHA256(t, s.target+".prev") {
			t.Fatalf("%s: the installed binary changed", c.name)
		}
		if b, _ := os.ReadFile(s.target + ".prev"); string(b) != "previous" {
			t.Fatalf("%s: .prev changed", c.name)
		}
		left, _ := os.ReadDir(s.in)
		if len(left) != 0 {
			t.Fatalf("%s: left in incoming: %v", c.name, left)
		}
		if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(s.target), ".*")); len(tmp) != 0 {
			t.Fatalf("%s: temporary files beside the target: %v", c.name, tmp)
		}
	}
}

// TestInstallCore: a signed release installs beside the current binary
// (kept as .prev) without ever being run: its version is the signed
// statement's. The same release again is a no-op; an older one needs a
// statement that allows the downgrade. Over SSH (the wrapper) --target,
// --service and --release-root are refused and paths stay in incoming.
func TestInstallCore(t *testing.T) {
	s := newCoreSetup(t)
	marker := filepath.Join(t.TempDir(), "executed")
	newer := canary(t, marker)
	oldSum, newSum := releasetest.FileSHA256(t, binary), releasetest.FileSHA256(t, newer)

	s.upload(t, newer, "c.core", s.rel.Sign(t, newer, "9.9.9", releasetest.Options{}))
	res, out, code := s.installCore(t, "c.core")
	if code != 0 || !res.Installed || res.Version != "9.9.9" || res.PreviousVersion != version || res.SHA256 != newSum {
		t.Fatalf("install 9.9.9: exit %d %s", code, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("install-core ran the binary it installed")
	}
	if releasetest.FileSHA256(t, s.target) != newSum || releasetest.FileSHA256(t, s.target+".prev") != oldSum {
		t.Fatal("the new binary is not in place or the previous one not kept as .prev")
	}
	if fi, _ := os.Stat(s.target); fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed mode %v", fi.Mode())
	}
	if left, _ := os.ReadDir(s.in); len(left) != 0 {
		t.Fatalf("left in incoming: %v", left)
	}
	// The same release again: nothing to do, the upload removed.
	s.upload(t, newer, "c2.core", s.rel.Sign(t, newer, "9.9.9", releasetest.Options{}))
	if res, out, code := s.installCore(t, "c2.core"); code != 0 || res.Installed {
		t.Fatalf("same release again: exit %d %s", code, out)
	}
	if left, _ := os.ReadDir(s.in); len(left) != 0 {
		t.Fatalf("left in incoming: %v", left)
	}
	os.Remove(marker) // the test's own version check ran it
	// A recall: an older release whose statement allows the downgrade.
	s.upload(t, binary, "d.core", s.rel.Sign(t, binary, version, releasetest.Options{AllowDowngrade: true}))
	if _, out, code := s.installCore(t, "d.core"); code != 0 || releasetest.FileSHA256(t, s.target) != oldSum || releasetest.FileSHA256(t, s.target+".prev") != newSum {
		t.Fatalf("allowed downgrade: exit %d %s", code, out)
	}
	if out, _ := cli(t, nil, "install-core", "--force", "x"); !strings.Contains(out, "flag provided but not defined: -force") {
		t.Fatalf("--force still accepted: %s", out)
	}
	// Over SSH (the ForceCommand wrapper): no --target, --service or
	// --release-root, nothing outside incoming, and a file outside incoming
	// named there is not removed.
	outside := filepath.Join(t.TempDir(), "outside.core")
	copyFile(t, newer, outside, 0o600)
	wrap := []string{"ssh-command", "--root", s.root}
	for line, want := range map[string]string{
		"sensorcore install-core --target /tmp/x d.core":           "--target is not allowed",
		"sensorcore install-core --release-root /tmp/k.pub d.core": "--release-root is not allowed",
		"sensorcore install-core --json " + outside:                daemon.CodePath,
	} {
		out, _ := cli(t, []string{"SSH_ORIGINAL_COMMAND=" + line}, wrap...)
		if !strings.Contains(out, want) {
			t.Errorf("%q: want %q in %s", line, want, out)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("a file outside incoming was removed: %v", err)
	}
}

// TestInstallCoreSparseUpload: a holder of the provisioning credential
// makes an 8 TiB sparse upload and asks the running daemon (its embedded
// listener runs install-core in-process) to install it. The SFTP server
// refuses the setstat; a file made that large another way is refused by
// install-core without being read into memory; the daemon, its console and
// its SSH listener stay up.
func TestInstallCoreSparseUpload(t *testing.T) {
	s := newCoreSetup(t)
	sshc := newSSHClient(t, s.root)
	p := startServe(t, s.root, s.rel.RootFile)
	cl := sshc.dial(t, s.root, p.run.SSH)
	defer cl.Close()
	sc, err := sftp.NewClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sc.Create("/huge.core")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("\x7fELF"))
	w.Close()
	if err := sc.Truncate("/huge.core", 8<<40); err == nil {
		t.Error("the SFTP server accepted a setstat to 8 TiB")
	}
	sc.Close()
	// Made that large another way (another SFTP server, a shell).
	huge := filepath.Join(s.in, "huge.core")
	needs.SparseFile(t, huge, 8<<40)
	os.WriteFile(huge+".sig", s.rel.Sign(t, binary, "9.9.9", releasetest.Options{}), 0o600)
	var res daemon.InstallCoreResult
	code := remote(t, cl, "sensorcore install-core --json --sha256 "+releasetest.FileSHA256(t, binary)+" --version 9.9.9 huge.core", &res)
	if code != 1 || res.Code != daemon.CodeCoreChecksum {
		t.Fatalf("install-core of an 8 TiB upload: exit %d %+v", code, res)
	}
	if _, err := os.Stat(huge); err == nil {
		t.Error("the 8 TiB upload was not removed")
	}
	if h := health(t, p.run.Console); h["status"] != "ok" {
		t.Fatalf("console after the attack: %v", h)
	}
	var st map[string]any
	if code := remote(t, sshc.dial(t, s.root, p.run.SSH), "sensorcore status --json", &st); code != 0 {
		t.Fatalf("SSH listener after the attack: exit %d", code)
	}
	if err := p.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the daemon died: %v\n%s", err, p.log)
	}
}
