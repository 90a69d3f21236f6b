package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/sensorcore/activation"
)

func TestActivationCommands(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	env, out, errb := testEnv(now)
	if code := Main([]string{"activation", "lab-init", "--out", lab}, env); code != ExitOK {
		t.Fatalf("lab-init: %d %s", code, errb)
	}
	if ok, err := filemode.Is(filepath.Join(lab, "demo-signer.key"), 0o600); err != nil || !ok {
		t.Fatalf("signing key not private: %v", err)
	}
	file := filepath.Join(dir, "sensor-01.tapact")
	issue := []string{"activation", "issue", "--signing-key", filepath.Join(lab, "demo-signer.key"),
		"--signer-cert", filepath.Join(lab, "demo-signer.cert"), "--sensor-id", "S-1", "--sensor-name", "sensor-01",
		"--site", "Plant A", "--zone", "Z1", "--plan", "OT-500", "--devices", "500", "--mode", "local",
		"--expires", "2027-11-01", "--out", file}
	env, _, errb = testEnv(now)
	if code := Main(issue, env); code != ExitOK {
		t.Fatalf("issue: %d %s", code, errb)
	}
	root := filepath.Join(lab, "demo-root.pub")
	// An altered copy: the payload re-encoded for another device count, the
	// signatures kept.
	var env0 activation.Envelope
	raw, _ := os.ReadFile(file)
	if err := json.Unmarshal(raw, &env0); err != nil {
		t.Fatal(err)
	}
	env0.Payload = bytes.Replace(env0.Payload, []byte(`"device_count":500`), []byte(`"device_count":900`), 1)
	alt, _ := json.Marshal(env0)
	tampered := filepath.Join(dir, "tampered.tapact")
	os.WriteFile(tampered, alt, 0o644)
	soon := filepath.Join(dir, "soon.tapact")
	soonArgs := append(append([]string{}, issue[:len(issue)-4]...), "--expires", "2026-12-10", "--out", soon)
	if env, _, errb := testEnv(now); Main(soonArgs, env) != ExitOK {
		t.Fatalf("issue soon: %s", errb)
	}
	empty := filepath.Join(dir, "empty.tapact")
	os.WriteFile(empty, nil, 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid", []string{"activation", "verify", file, "--sensor", "sensor-01", "--trust-root", root}, ExitOK, "VALID"},
		{"production root refuses lab file", []string{"activation", "verify", file, "--sensor", "sensor-01"}, ExitVerdict, "not signed under a trusted root"},
		{"other sensor", []string{"activation", "verify", file, "--sensor", "sensor-02", "--trust-root", root}, ExitVerdict, `for sensor "sensor-01", not "sensor-02"`},
		{"too late", []string{"activation", "verify", file, "--sensor", "sensor-01", "--trust-root", root, "--at", "2026-12-10T00:00:00Z"}, ExitVerdict, "uploaded by"},
		{"expiring soon", []string{"activation", "verify", file, "--sensor", "sensor-01", "--trust-root", root, "--at", "2026-11-30T00:00:00Z"}, ExitOK, "VALID"},
		{"expiry warning", []string{"activation", "verify", soon, "--sensor", "sensor-01", "--trust-root", root}, ExitOK, "TL-ACT-006 warning"},
		{"expired", []string{"activation", "verify", file, "--sensor", "sensor-01", "--trust-root", root, "--at", "2027-11-02T00:00:00Z"}, ExitVerdict, "TL-ACT-005"},
		{"altered", []string{"activation", "verify", tampered, "--sensor", "sensor-01", "--trust-root", root}, ExitVerdict, "signature is bad"},
		{"empty", []string{"activation", "verify", empty, "--sensor", "sensor-01", "--trust-root", root}, ExitVerdict, "the file is empty"},
		{"missing file", []string{"activation", "verify", filepath.Join(dir, "nope.tapact"), "--sensor", "sensor-01"}, ExitUsage, "nope.tapact"},
		{"mode change", []string{"activation", "verify", file, "--sensor", "sensor-01", "--trust-root", root, "--mode", "cloud"}, ExitVerdict, "needs a new activation file"},
		{"no sensor", []string{"activation", "verify", file}, ExitUsage, ""},
		{"bad at", []string{"activation", "verify", file, "--sensor", "x", "--at", "tomorrow"}, ExitUsage, ""},
		{"inspect", []string{"activation", "inspect", file}, ExitOK, "sensor-01 (id S-1)"},
		{"inspect json", []string{"activation", "inspect", "--json", file}, ExitOK, `"verified": false`},
		{"verify json", []string{"activation", "verify", "--json", file, "--sensor", "sensor-02", "--trust-root", root}, ExitVerdict, `"TL-ACT-003"`},
		{"malformed", []string{"activation", "verify", root, "--sensor", "sensor-01", "--trust-root", root}, ExitVerdict, "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, out, errb := testEnv(now)
			if code := Main(c.args, env); code != c.code {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, c.code, out, errb)
			}
			if !strings.Contains(out.String()+errb.String(), c.want) {
				t.Errorf("output lacks %q: %s %s", c.want, out, errb)
			}
		})
	}
	_ = out
}
