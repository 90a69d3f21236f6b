package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/sensorcore/daemon"
)

func sha256File(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

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

// TestInstallCore: install-core takes an uploaded binary from the incoming
// directory only, refuses a checksum mismatch, a binary that is not
// sensorcore and a downgrade (unless --force), and installs beside the
// current binary with the previous kept as .prev. Over SSH (the wrapper)
// --target is refused and paths stay in the incoming directory.
func TestInstallCore(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "sensorcore-0.9.0")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=0.9.0", "-o", newer, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := t.TempDir()
	in := daemon.Layout{Root: root}.Incoming()
	os.MkdirAll(in, 0o700)
	bindir := t.TempDir()
	target := filepath.Join(bindir, "sensorcore")
	copyFile(t, binary, target, 0o755)
	oldSum, newSum := sha256File(t, binary), sha256File(t, newer)
	ic := func(args ...string) (string, int) {
		return cli(t, nil, append([]string{"install-core", "--json", "--root", root, "--target", target}, args...)...)
	}
	upload := func(from, name string) { copyFile(t, from, filepath.Join(in, name), 0o600) }

	upload(newer, "a.core")
	if out, code := ic("--sha256", oldSum, "--version", "0.9.0", "a.core"); code != 1 || !strings.Contains(out, daemon.CodeCoreChecksum) {
		t.Fatalf("checksum mismatch: exit %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(in, "a.core")); err == nil || sha256File(t, target) != oldSum {
		t.Fatal("a damaged upload stayed in incoming or the binary changed")
	}
	os.WriteFile(filepath.Join(in, "b.core"), []byte("#!/bin/sh\necho sensorcore 0.9.0\n"), 0o600)
	if out, code := ic("--sha256", sha256File(t, filepath.Join(in, "b.core")), "--version", "0.9.0", "b.core"); code != 1 || !strings.Contains(out, daemon.CodeCoreBinary) {
		t.Fatalf("not an ELF binary: exit %d %s", code, out)
	}
	upload(newer, "c.core")
	if out, code := ic("--sha256", newSum, "--version", "0.9.1", "c.core"); code != 1 || !strings.Contains(out, daemon.CodeCoreBinary) {
		t.Fatalf("wrong version claimed: exit %d %s", code, out)
	}
	if out, code := ic("--sha256", newSum, "--version", "0.9.0", "c.core"); code != 0 || !strings.Contains(out, `"installed":true`) {
		t.Fatalf("install 0.9.0: exit %d %s", code, out)
	}
	if sha256File(t, target) != newSum || sha256File(t, target+".prev") != oldSum {
		t.Fatal("the new binary is not in place or the previous one not kept as .prev")
	}
	if out, _ := cli(t, nil, "version"); !strings.Contains(out, version) {
		t.Fatalf("version %s", out)
	}
	if out, err := exec.Command(target, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "sensorcore 0.9.0" {
		t.Fatalf("installed binary says %q %v", out, err)
	}
	upload(binary, "d.core")
	if out, code := ic("--sha256", oldSum, "--version", version, "d.core"); code != 1 || !strings.Contains(out, daemon.CodeCoreDowngrade) {
		t.Fatalf("downgrade: exit %d %s", code, out)
	}
	if out, code := ic("--sha256", oldSum, "--version", version, "--force", "d.core"); code != 0 || sha256File(t, target) != oldSum || sha256File(t, target+".prev") != newSum {
		t.Fatalf("forced downgrade: exit %d %s", code, out)
	}
	// Over SSH (the ForceCommand wrapper): no --target, nothing outside incoming.
	wrap := []string{"ssh-command", "--root", root}
	for line, want := range map[string]string{
		"sensorcore install-core --target /tmp/x --sha256 " + oldSum + " --version 1 d.core": "--target is not allowed",
		"sensorcore install-core --json --sha256 " + oldSum + " --version 1 /etc/passwd":     daemon.CodePath,
	} {
		out, _ := cli(t, []string{"SSH_ORIGINAL_COMMAND=" + line}, wrap...)
		if !strings.Contains(out, want) {
			t.Errorf("%q: want %q in %s", line, want, out)
		}
	}
}
