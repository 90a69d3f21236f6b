package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/examplesite"
	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/internal/releasetest"
	"github.com/tapline/tapline/provision"
)

// exampleAt is a check time inside the example activation files' 14-day
// upload window (they are remade by tapline batch example).
func exampleAt(t *testing.T) string {
	t.Helper()
	return exampleNow(t).Format(time.RFC3339)
}

// exampleNow is exampleAt as a time: the clock of a test that makes
// certificates (a local CA, its issues) and checks them at exampleAt, so
// that they are valid then whatever today's date (the example files are
// made on one day and committed; the real clock moves on).
func exampleNow(t *testing.T) time.Time {
	t.Helper()
	at, err := examplesite.CheckTime("../../examples/site-a")
	if err != nil {
		t.Fatal(err)
	}
	return at
}

const exampleRoot = "../../examples/site-a/demo-authority/demo-root.pub"

func TestBatchCheckExample(t *testing.T) {
	env, out, errb := testEnv(time.Now())
	if code := Main([]string{"batch", "check", "../../examples/site-a.csv", "--trust-root", exampleRoot, "--at", exampleAt(t)}, env); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errb)
	}
	for _, want := range []string{"line 4 sensor-01 (192.0.2.11:22): ok", "+ address 192.0.2.111/24 on eth0", "+ proxy proxy.plant.example:3128",
		"'-' is the inventory's address (offline, nothing connected)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	env, out, _ = testEnv(time.Now())
	if code := Main([]string{"batch", "check", "--json", "../../examples/site-a.csv", "--trust-root", exampleRoot, "--at", exampleAt(t)}, env); code != ExitOK {
		t.Fatalf("json: exit %d", code)
	}
	var rep struct{ Rows []struct{ Diff []string } }
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Rows) != 3 {
		t.Fatalf("json: %v %s", err, out)
	}
}

func TestBatchCheckErrors(t *testing.T) {
	src, _ := os.ReadFile("../../examples/site-a.csv")
	dir := t.TempDir()
	ex, _ := filepath.Abs("../../examples/site-a")
	os.Symlink(ex, filepath.Join(dir, "site-a"))
	bad := strings.Replace(string(src), "192.0.2.112,24,192.0.2.1,", "192.0.2.112,24,198.51.100.1,", 1)
	p := filepath.Join(dir, "bad.csv")
	os.WriteFile(p, []byte(bad), 0o600)
	env, out, _ := testEnv(time.Now())
	if code := Main([]string{"batch", "check", p, "--trust-root", exampleRoot, "--at", exampleAt(t)}, env); code != ExitVerdict ||
		!strings.Contains(out.String(), "198.51.100.1 is outside the subnet 192.0.2.0/24") {
		t.Fatalf("gateway outside subnet: exit %d\n%s", code, out)
	}
	os.WriteFile(p, []byte("sensor,colour\n"), 0o600)
	env, _, errb := testEnv(time.Now())
	if code := Main([]string{"batch", "check", p}, env); code != ExitUsage || !strings.Contains(errb.String(), "bad.csv:1: column colour: unknown column") {
		t.Fatalf("unknown column: exit %d %s", code, errb)
	}
	env, _, _ = testEnv(time.Now())
	if code := Main([]string{"batch", "check"}, env); code != ExitUsage {
		t.Fatalf("no inventory: exit %d", code)
	}
}

// batch run and push refuse to connect when the offline check fails, and
// otherwise run, journal and report; a sensor that does not answer ends
// failed, with a retry inventory holding its row.
func TestBatchRunAndPushReports(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing answers there
	dir := t.TempDir()
	ex, _ := filepath.Abs("../../examples/site-a")
	row := fmt.Sprintf("sensor-01,%s,admin,key,%s/certs/sensor-01.key,eth0,192.0.2.111,24,192.0.2.1,192.0.2.53,sensor-01.plant.example,127.0.0.1,%s/activation/sensor-01.tapact,%s/certs/sensor-01.crt,%s/certs/sensor-01.key,%s/certs/chain.pem",
		addr, ex, ex, ex, ex, ex)
	inv := filepath.Join(dir, "site.csv")
	os.WriteFile(inv, []byte("sensor,address,ssh_user,auth,key_file,interface,new_ip,new_mask,new_gateway,new_dns,new_hostname,new_address,activation,cert,key,chain\n"+row+"\n"), 0o600)
	args := []string{"--trust-root", exampleRoot, "--at", exampleAt(t), "--known-hosts", filepath.Join(dir, "kh"), "--retries", "0", "--connect-timeout", "1s"}
	env, out, errb := testEnv(time.Now())
	if code := Main(append([]string{"batch", "run", inv}, args...), env); code != ExitVerdict {
		t.Fatalf("exit %d\n%s\n%s", code, out, errb)
	}
	if !strings.Contains(out.String(), "sensor-01") || !strings.Contains(out.String(), "failed") ||
		!strings.Contains(out.String(), provision.CodeUnreachable) || !strings.Contains(out.String(), "fix: ") {
		t.Fatalf("output %s", out)
	}
	for _, f := range []string{"site.report.json", "site.report.csv", "site.report.html"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); !strings.Contains(string(b), provision.CodeUnreachable) {
			t.Fatalf("%s lacks %s:\n%s", f, provision.CodeUnreachable, b)
		}
	}
	for _, f := range []string{"site.report.json", "site.report.csv", "site.report.html", "site.retry.csv", "site.journal.jsonl"} {
		if ok, err := filemode.Is(filepath.Join(dir, f), 0o600); err != nil || !ok {
			t.Fatalf("%s not private: %v", f, err)
		}
	}
	retry, _ := os.ReadFile(filepath.Join(dir, "site.retry.csv"))
	if !strings.Contains(string(retry), "sensor-01,"+addr) {
		t.Fatalf("retry inventory: %s", retry)
	}

	// The same sensor through push's flags: checked, then pushed.
	at := exampleAt(t)
	wd, _ := os.Getwd()
	t.Chdir(dir)
	env, out, errb = testEnv(time.Now())
	code := Main(append([]string{"push", "--sensor", "sensor-01", "--address", addr, "--ssh-user", "admin", "--auth", "agent",
		"--new-ip", "192.0.2.111", "--new-mask", "24", "--new-address", "127.0.0.1", "--new-hostname", "sensor-01.plant.example",
		"--activation", ex + "/activation/sensor-01.tapact", "--cert", ex + "/certs/sensor-01.crt", "--key", ex + "/certs/sensor-01.key",
		"--trust-root", filepath.Join(wd, exampleRoot)}, args[2:]...), env)
	if code != ExitVerdict || !strings.Contains(errb.String(), "--accept-warnings") || strings.Contains(out.String(), "refused") {
		t.Fatalf("push without a chain, warnings not accepted: exit %d\n%s\n%s", code, out, errb)
	}
	env, out, errb = testEnv(time.Now())
	code = Main(append([]string{"push", "--sensor", "sensor-01", "--address", addr, "--ssh-user", "admin", "--auth", "agent",
		"--new-ip", "192.0.2.111", "--new-mask", "24", "--new-address", "127.0.0.1", "--new-hostname", "sensor-01.plant.example",
		"--activation", ex + "/activation/sensor-01.tapact", "--cert", ex + "/certs/sensor-01.crt", "--key", ex + "/certs/sensor-01.key",
		"--trust-root", filepath.Join(wd, exampleRoot), "--accept-warnings"}, args[2:]...), env)
	if code != ExitVerdict || !strings.Contains(out.String(), "refused") || !strings.Contains(out.String(), "SSH_AUTH_SOCK") ||
		!strings.Contains(out.String(), provision.CodeNoBundle) {
		t.Fatalf("push without an agent: exit %d\n%s\n%s", code, out, errb)
	}
	// A failed offline check stops before anything connects.
	env, out, errb = testEnv(time.Now())
	code = Main([]string{"push", "--sensor", "sensor-01", "--address", addr, "--ssh-user", "admin", "--auth", "agent", "--new-mask", "24",
		"--new-gateway", "198.51.100.1", "--new-ip", "192.0.2.111", "--cert", ex + "/certs/sensor-01.crt", "--key", ex + "/certs/sensor-01.key",
		"--activation", ex + "/activation/sensor-01.tapact", "--trust-root", filepath.Join(wd, exampleRoot), "--at", at}, env)
	if code != ExitVerdict || !strings.Contains(errb.String(), "nothing was sent") {
		t.Fatalf("push with a bad gateway: exit %d\n%s\n%s", code, out, errb)
	}
}

// A warning (no chain file) stops batch run before anything is prepared or
// sent unless --accept-warnings is given; accepted, the run goes on (and
// fails only where nothing answers).
func TestBatchRunAcceptWarnings(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	ex, _ := filepath.Abs("../../examples/site-a")
	row := fmt.Sprintf("sensor-01,%s,admin,key,%s/certs/sensor-01.key,eth0,192.0.2.111,24,192.0.2.1,sensor-01.plant.example,127.0.0.1,%s/activation/sensor-01.tapact,%s/certs/sensor-01.crt,%s/certs/sensor-01.key",
		addr, ex, ex, ex, ex)
	inv := filepath.Join(dir, "site.csv")
	os.WriteFile(inv, []byte("sensor,address,ssh_user,auth,key_file,interface,new_ip,new_mask,new_gateway,new_hostname,new_address,activation,cert,key\n"+row+"\n"), 0o600)
	args := []string{"batch", "run", inv, "--trust-root", exampleRoot, "--at", exampleAt(t), "--known-hosts", filepath.Join(dir, "kh"), "--retries", "0", "--connect-timeout", "1s"}
	env, out, errb := testEnv(time.Now())
	if code := Main(args, env); code != ExitVerdict || !strings.Contains(errb.String(), "warning(s): nothing was sent") ||
		!strings.Contains(errb.String(), "TL-CERT") {
		t.Fatalf("warnings not accepted: exit %d\n%s\n%s", code, out, errb)
	}
	if _, err := os.Stat(filepath.Join(dir, "site.journal.jsonl")); err == nil {
		t.Fatal("a journal was written although nothing may be sent")
	}
	env, out, errb = testEnv(time.Now())
	if code := Main(append(args, "--accept-warnings"), env); code != ExitVerdict {
		t.Fatalf("warnings accepted: exit %d\n%s\n%s", code, out, errb)
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "site.report.json"))
	if !strings.Contains(string(rep), `"step": "connect"`) {
		t.Fatalf("accepted warnings: the push should have reached connect:\n%s\n%s", rep, errb)
	}
}

// --install-core verifies the carried release before anything connects:
// without its signature, or signed under a root that is not trusted, the
// run stops and says why; a binary for another architecture is never run
// (its version is the signed statement's).
func TestInstallCoreFlagVerifiesRelease(t *testing.T) {
	dir := t.TempDir()
	// A minimal ELF header for another machine than this one.
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF\x02\x01\x01")
	hdr[16] = 2           // ET_EXEC
	machine := byte(0xb7) // EM_AARCH64
	if runtime.GOARCH == "arm64" {
		machine = 0x3e // EM_X86_64
	}
	hdr[18] = machine
	hdr[20] = 1
	hdr[52] = 64 // e_ehsize
	foreign := filepath.Join(dir, "sensorcore")
	os.WriteFile(foreign, hdr, 0o755)
	run := func(extra ...string) (int, string) {
		env, _, errb := testEnv(time.Now())
		code := Main(append([]string{"batch", "run", "../../examples/site-a.csv", "--install-core", "--core-binary", foreign, "--trust-root", exampleRoot, "--at", exampleAt(t)}, extra...), env)
		return code, errb.String()
	}
	if code, errb := run(); code != ExitUsage || !strings.Contains(errb, "has no release signature") {
		t.Fatalf("unsigned core binary: exit %d\n%s", code, errb)
	}
	rel := releasetest.New(t)
	rel.SignFile(t, foreign, "9.9.9", releasetest.Options{})
	if code, errb := run(); code != ExitUsage || !strings.Contains(errb, "not certified by a trusted root") || !strings.Contains(errb, "--release-root") {
		t.Fatalf("lab-signed core binary without --release-root: exit %d\n%s", code, errb)
	}
	env, out, errb := testEnv(time.Now())
	if code := Main([]string{"release", "verify", "--release-root", rel.RootFile, foreign}, env); code != ExitOK || !strings.Contains(out.String(), "sensorcore 9.9.9 for linux/") {
		t.Fatalf("release verify: exit %d\n%s\n%s", code, out, errb)
	}
	os.WriteFile(foreign, append(hdr, 0), 0o755) // not the signed binary any more
	env, out, errb = testEnv(time.Now())
	if code := Main([]string{"release", "verify", "--release-root", rel.RootFile, foreign}, env); code != ExitVerdict || !strings.Contains(errb.String(), "does not match its signature") {
		t.Fatalf("release verify of a changed binary: exit %d\n%s\n%s", code, out, errb)
	}
}
