package daemon

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/doctest"
	"github.com/tapline/tapline/internal/needs"
)

func docBlock(t *testing.T, tag string) []byte {
	t.Helper()
	return doctest.JSONBlock(t, "formats.md", tag)
}

// TestDocsExamples decodes the documented apply and status objects strictly
// into the types the commands print, so the docs cannot drift.
func TestDocsExamples(t *testing.T) {
	for tag, v := range map[string]any{"apply": &ApplyResult{}, "status": &Status{}, "install-core": &InstallCoreResult{}} {
		dec := json.NewDecoder(bytes.NewReader(docBlock(t, tag)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s example: %v", tag, err)
		}
	}
}

// TestSystemdUnitInDocs: the unit in docs/appliance.md lets the daemon write
// where the network backends write (ProtectSystem=strict makes /run and /etc
// read-only otherwise) and passes `systemd-analyze verify`.
func TestSystemdUnitInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/appliance.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "/etc/systemd/system/sensorcore.service:\n\n```\n")
	if i < 0 {
		t.Fatal("docs/appliance.md has no sensorcore.service block")
	}
	s = s[i+len("/etc/systemd/system/sensorcore.service:\n\n```\n"):]
	unit := s[:strings.Index(s, "```")]
	if want := SystemdUnit("/usr/local/bin/sensorcore", "/"); unit != want {
		t.Fatalf("docs/appliance.md's unit differs from the one install-core --service writes:\n%s\nwant:\n%s", unit, want)
	}
	var rw []string
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, "ReadWritePaths="); ok {
			for _, p := range strings.Fields(v) {
				rw = append(rw, strings.TrimPrefix(p, "-"))
			}
		}
	}
	if !strings.Contains(unit, "ProtectSystem=strict") {
		t.Fatal("the unit no longer says ProtectSystem=strict: recheck ReadWritePaths")
	}
	for _, want := range []string{"/etc/sensorcore", "/var/lib/sensorcore", "/etc/netplan", "/run/netplan", "/etc/systemd/network", "/run/systemd/network"} {
		if !slices.Contains(rw, want) {
			t.Errorf("ReadWritePaths lacks %s (have %v)", want, rw)
		}
	}
	sa := needs.Tool(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	exe, _ := os.Executable() // verify wants ExecStart's program to exist
	p := filepath.Join(dir, "sensorcore.service")
	os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/local/bin/sensorcore", exe)), 0o644)
	out, err := exec.Command(sa, "verify", p).CombinedOutput()
	if err != nil || strings.Contains(string(out), "sensorcore.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
