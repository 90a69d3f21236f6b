package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/filemode"
)

// TestReleaseLabInitSignVerify: what make build does (a lab release key,
// then a signature for the binary), and what the laptop checks before an
// install-core: the signature verifies only under the lab root named
// explicitly, and lab-init never overwrites a key.
func TestReleaseLabInitSignVerify(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "release-lab")
	main := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(time.Now())
		code := Main(args, env)
		return code, out.String(), errb.String()
	}
	if code, _, errb := main("release", "lab-init", "--out", lab); code != ExitOK {
		t.Fatalf("lab-init: %d %s", code, errb)
	}
	if ok, err := filemode.Is(filepath.Join(lab, "release-signer.key"), 0o600); err != nil || !ok {
		t.Fatalf("signing key not private: %v", err)
	}
	if code, _, errb := main("release", "lab-init", "--out", lab); code != ExitUsage || !strings.Contains(errb, "refusing to overwrite") {
		t.Fatalf("second lab-init: %d %s", code, errb)
	}
	bin := filepath.Join(dir, "sensorcore")
	os.WriteFile(bin, []byte("a binary"), 0o755)
	if code, _, errb := main("release", "sign", "--signing-key", filepath.Join(lab, "release-signer.key"), "--signer-cert", filepath.Join(lab, "release-signer.cert"),
		"--version", "1.2.3", "--arch", "amd64", bin); code != ExitOK {
		t.Fatalf("sign: %d %s", code, errb)
	}
	if code, _, errb := main("release", "verify", bin); code != ExitVerdict || !strings.Contains(errb, "not certified by a trusted root") {
		t.Fatalf("verify under the production root: %d %s", code, errb)
	}
	code, out, errb := main("release", "verify", "--release-root", filepath.Join(lab, "release-root.pub"), bin)
	if code != ExitOK || !strings.Contains(out, "sensorcore 1.2.3 for linux/amd64") {
		t.Fatalf("verify: %d %s %s", code, out, errb)
	}
	// An activation signer certificate cannot sign releases.
	act := filepath.Join(dir, "act")
	if code, _, errb := main("activation", "lab-init", "--out", act); code != ExitOK {
		t.Fatal(errb)
	}
	if code, _, errb := main("release", "sign", "--signing-key", filepath.Join(act, "demo-signer.key"), "--signer-cert", filepath.Join(act, "demo-signer.cert"),
		"--version", "1.2.3", "--arch", "amd64", bin); code != ExitUsage || !strings.Contains(errb, "cannot sign releases") {
		t.Fatalf("activation signer: %d %s", code, errb)
	}
	// The same root can certify a release key (--root-key): one family.
	rel2 := filepath.Join(dir, "rel2")
	if code, _, errb := main("release", "lab-init", "--out", rel2, "--root-key", filepath.Join(act, "demo-root.key")); code != ExitOK {
		t.Fatal(errb)
	}
	a, _ := os.ReadFile(filepath.Join(act, "demo-root.pub"))
	b, _ := os.ReadFile(filepath.Join(rel2, "release-root.pub"))
	if string(a) != string(b) {
		t.Fatal("--root-key: the release root is not the activation root")
	}
}
