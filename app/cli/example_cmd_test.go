package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
)

// readmeExample returns the commands of the README block that follows the
// line "Try it on the example site".
func readmeExample(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(needs.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "Try it on the example site")
	if !ok {
		t.Fatal(`README.md has no "Try it on the example site" block`)
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the README's example block is not closed")
	}
	var cmds []string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

// The README's example site commands, exactly as written, run by the built
// binary from a copy of the repository's examples folder: each exits 0 and
// the check finds every sensor ok.
func TestREADMEExampleSite(t *testing.T) {
	bin := cliBinary(t)
	cmds := readmeExample(t)
	if len(cmds) != 2 || !strings.HasPrefix(cmds[0], "tapline batch example") || !strings.HasPrefix(cmds[1], "tapline batch check examples/site-a.csv") {
		t.Fatalf("README example block: %q", cmds)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(needs.RepoRoot(t), "examples"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copying examples: %v %s", err, out)
	}
	var last string
	for _, c := range cmds {
		args := strings.Fields(c)[1:]
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
		last = string(out)
	}
	for _, s := range []string{"sensor-01", "sensor-02", "sensor-03"} {
		if !strings.Contains(last, " "+s+" (") || strings.Contains(last, "error(s)") {
			t.Fatalf("check output:\n%s", last)
		}
	}
	if strings.Count(last, "): ok\n") != 3 {
		t.Fatalf("not every sensor ok:\n%s", last)
	}
}

// On any date: the example made on a day checks clean on that day and up to
// the end of its upload window, far in the future too; and it is remade in
// place, but never over a folder it did not make.
func TestBatchExampleAnyDate(t *testing.T) {
	dir := t.TempDir()
	for _, day := range []time.Time{time.Date(2031, 6, 1, 8, 0, 0, 0, time.UTC), time.Date(2044, 2, 29, 23, 0, 0, 0, time.UTC)} {
		env, out, errb := testEnv(day)
		if code := Main([]string{"batch", "example", "--out", dir}, env); code != ExitOK {
			t.Fatalf("%s: example: exit %d %s", day, code, errb)
		}
		root := filepath.Join(dir, "site-a", "demo-authority", "demo-root.pub")
		if !strings.Contains(out.String(), "--trust-root "+root) {
			t.Errorf("the example does not say how to check it:\n%s", out)
		}
		for _, at := range []time.Time{day, day.Add(13 * 24 * time.Hour)} {
			env, out, errb = testEnv(at)
			if code := Main([]string{"batch", "check", filepath.Join(dir, "site-a.csv"), "--trust-root", root}, env); code != ExitOK {
				t.Fatalf("made %s, checked %s: exit %d\n%s%s", day, at, code, out, errb)
			}
		}
		// The upload window is real: three weeks on, the activation files are refused.
		env, out, _ = testEnv(day.Add(21 * 24 * time.Hour))
		if code := Main([]string{"batch", "check", filepath.Join(dir, "site-a.csv"), "--trust-root", root}, env); code != ExitVerdict {
			t.Fatalf("made %s, checked three weeks on: exit %d\n%s", day, code, out)
		}
	}
	keys, _ := filepath.Glob(filepath.Join(dir, "site-a", "*", "*.key"))
	if len(keys) != 3 {
		t.Fatalf("sensor keys %v", keys)
	}
	for _, p := range []string{"demo-authority/demo-root.key", "demo-authority/demo-signer.key", "ca/root.key"} {
		if _, err := os.Stat(filepath.Join(dir, "site-a", p)); err == nil {
			t.Errorf("%s was written", p)
		}
	}
	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "site-a"), 0o755)
	os.WriteFile(filepath.Join(other, "site-a", "notes.txt"), []byte("mine"), 0o644)
	env, _, errb := testEnv(time.Now())
	if code := Main([]string{"batch", "example", "--out", other}, env); code != ExitUsage || !strings.Contains(errb.String(), "was not made by 'tapline batch example'") {
		t.Fatalf("a foreign folder: exit %d %s", code, errb)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "site-a", "notes.txt")); string(b) != "mine" {
		t.Fatal("the foreign folder changed")
	}
}
