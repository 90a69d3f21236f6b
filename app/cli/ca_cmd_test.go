package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/internal/needs"
)

// TestCAFlow runs the offline CA as an engineer would: init with an
// intermediate and a CRL URL, issue, export (crt, key, chain, PKCS#12), CRL,
// then 'certs check' on the exported files must pass with no finding at all;
// after revoke and a new CRL it must fail with TL-CERT-025.
// caTestDir makes a CA with an intermediate in a temporary directory
// through 'ca init': its directory, an output directory, the passphrase
// file, and run, which runs a command and wants an exit code.
func caTestDir(t *testing.T) (dir, caDir, out, pass, at string, run func(want int, args ...string) string) {
	t.Helper()
	dir = t.TempDir()
	caDir, out = filepath.Join(dir, "ca"), filepath.Join(dir, "out")
	pass = filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("CA.pass-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run = func(want int, args ...string) string {
		t.Helper()
		env, stdout, stderr := testEnv(certsNow)
		if got := Main(args, env); got != want {
			t.Fatalf("%v: exit %d, want %d; stderr %s", args, got, want, stderr)
		}
		return stdout.String()
	}
	at = "--at=2026-11-21T12:00:00Z"
	run(ExitOK, "ca", "init", "--dir", caDir, "--passphrase-file", pass, "--country", "DE", "--org", "Plant Example GmbH",
		"--intermediate", "--key-type", "p256", "--crl-url", "http://crl.plant.example/issuing.crl", "--kdf-iterations", "2048", at)
	return dir, caDir, out, pass, at, run
}

func TestCAFlow(t *testing.T) {
	dir, caDir, out, pass, at, run := caTestDir(t)
	run(ExitUsage, "ca", "init", "--dir", caDir, "--passphrase-file", pass) // refuses to overwrite
	for _, f := range []string{"root.key", "intermediate.key", "state.json"} {
		if ok, err := filemode.Is(filepath.Join(caDir, f), 0o600); err != nil || !ok {
			t.Errorf("%s not private: %v", f, err)
		}
	}
	issued := run(ExitOK, "ca", "issue", "--dir", caDir, "--passphrase-file", pass, "--hostname", "sensor-07.plant.example", "--ip", "192.0.2.17", at)
	serial := regexp.MustCompile(`serial:\s+([0-9a-f]+)`).FindStringSubmatch(issued)
	if serial == nil {
		t.Fatalf("no serial in %q", issued)
	}
	run(ExitOK, "ca", "export", "--dir", caDir, "--passphrase-file", pass, "--serial", serial[1], "--out", out, "--pfx-passphrase-file", pass, "--name", "sensor-07")
	run(ExitOK, "ca", "crl", "--dir", caDir, "--passphrase-file", pass, at)
	check := func(want int, extra ...string) map[string]any {
		t.Helper()
		args := append([]string{"certs", "check", "--hostname", "sensor-07.plant.example", "--ip", "192.0.2.17", "--crl-validation",
			"--chain", filepath.Join(out, "sensor-07-chain.pem"), "--at=2026-11-22T00:00:00Z", "--json"}, extra...)
		var r map[string]any
		if err := json.Unmarshal([]byte(run(want, args...)), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, files := range map[string][]string{
		"crt+key": {"--cert", filepath.Join(out, "sensor-07.crt"), "--key", filepath.Join(out, "sensor-07.key"), "--crl", filepath.Join(caDir, "crl.pem"), "--crl", filepath.Join(caDir, "root-crl.pem")},
		"pfx":     {"--pfx", filepath.Join(out, "sensor-07.pfx"), "--passphrase-file", pass, "--crl", filepath.Join(caDir, "crl.pem"), "--crl", filepath.Join(caDir, "root-crl.pem")},
	} {
		if r := check(ExitOK, files...); len(r["findings"].([]any)) != 0 {
			t.Errorf("%s: the CA's own output has findings: %v", name, r["findings"])
		}
	}
	run(ExitOK, "ca", "revoke", "--dir", caDir, "--passphrase-file", pass, "--cert", filepath.Join(out, "sensor-07.crt"), "--reason", "keyCompromise", at)
	run(ExitUsage, "ca", "revoke", "--dir", caDir, "--passphrase-file", pass, "--serial", serial[1], at)                                   // twice
	run(ExitUsage, "ca", "export", "--dir", caDir, "--passphrase-file", pass, "--serial", serial[1], "--out", filepath.Join(dir, "again")) // revoked
	run(ExitOK, "ca", "crl", "--dir", caDir, "--passphrase-file", pass, "--out", filepath.Join(dir, "crl2.der"), "--der", at)
	r := check(ExitVerdict, "--cert", filepath.Join(out, "sensor-07.crt"), "--key", filepath.Join(out, "sensor-07.key"), "--crl", filepath.Join(dir, "crl2.der"))
	if !strings.Contains(toJSON(r), "TL-CERT-025") {
		t.Errorf("revoked certificate passed: %v", r)
	}
	// And OpenSSL reads the exported PKCS#12.
	o, err := exec.Command(needs.Tool(t, "openssl", "openssl"), "pkcs12", "-in", filepath.Join(out, "sensor-07.pfx"), "-passin", "file:"+pass, "-noout").CombinedOutput()
	if err != nil {
		t.Errorf("openssl cannot read the exported PKCS#12: %v %s", err, o)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCABadInput(t *testing.T) {
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("nope\n"), 0o600)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no dir", []string{"ca", "init", "--passphrase-file", wrong}, "--dir"},
		{"no passphrase", []string{"ca", "init", "--dir", dir}, "--passphrase-file"},
		{"https crl", []string{"ca", "init", "--dir", filepath.Join(dir, "x"), "--passphrase-file", wrong, "--country", "DE", "--org", "P", "--key-type", "p256", "--crl-url", "https://a.example/c.crl"}, "http://"},
		{"bad key type", []string{"ca", "init", "--dir", dir, "--passphrase-file", wrong, "--country", "DE", "--org", "P", "--key-type", "dsa"}, "dsa"},
		{"no country", []string{"ca", "init", "--dir", dir, "--passphrase-file", wrong, "--org", "P"}, "missing required flag --country;"},
		{"no org", []string{"ca", "init", "--dir", dir, "--passphrase-file", wrong, "--country", "DE"}, "missing required flag --org;"},
		{"country name", []string{"ca", "init", "--dir", dir, "--passphrase-file", wrong, "--country", "Germany", "--org", "P"}, "two-letter"},
		{"missing ca", []string{"ca", "issue", "--dir", filepath.Join(dir, "none"), "--passphrase-file", wrong, "--hostname", "a.plant.example"}, "root.crt"},
		{"no hostname", []string{"ca", "issue", "--dir", dir, "--passphrase-file", wrong}, "--hostname"},
		{"bad reason", []string{"ca", "revoke", "--dir", dir, "--passphrase-file", wrong, "--serial", "01", "--reason", "boredom"}, "boredom"},
		{"export both", []string{"ca", "export", "--dir", dir, "--passphrase-file", wrong, "--serial", "01", "--hostname", "a", "--out", dir}, "one of"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, _, errb := testEnv(certsNow)
			if got := Main(c.args, env); got != ExitUsage {
				t.Errorf("exit %d, want 2", got)
			}
			if !strings.Contains(errb.String(), c.want) || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Errorf("stderr %q, want one line mentioning %q", errb, c.want)
			}
		})
	}
}

// TestCAUserMistakes: a wrong CA passphrase and a serial this CA never
// issued each get one line without package prefixes, and change nothing.
func TestCAUserMistakes(t *testing.T) {
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	pass, wrong := filepath.Join(dir, "pass"), filepath.Join(dir, "wrong")
	os.WriteFile(pass, []byte("CA.pass-1\n"), 0o600)
	os.WriteFile(wrong, []byte("nope\n"), 0o600)
	env, _, errb := testEnv(certsNow)
	if got := Main([]string{"ca", "init", "--dir", caDir, "--passphrase-file", pass, "--country", "de", "--org", "Plant", "--key-type", "p256", "--kdf-iterations", "2048"}, env); got != ExitOK {
		t.Fatalf("init: exit %d: %s", got, errb)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"wrong passphrase", []string{"ca", "issue", "--dir", caDir, "--passphrase-file", wrong, "--hostname", "a.plant.example"}, "root.key: passphrase does not match the key (check --passphrase-file)"},
		{"unknown serial", []string{"ca", "revoke", "--dir", caDir, "--passphrase-file", pass, "--serial", "1234"}, "this CA issued no certificate with serial 1234"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, _, errb := testEnv(certsNow)
			if got := Main(c.args, env); got != ExitUsage {
				t.Errorf("exit %d, want 2", got)
			}
			msg := strings.TrimSpace(errb.String())
			if !strings.Contains(msg, c.want) || strings.Contains(msg, "certs: ") || strings.Contains(msg, "\n") {
				t.Errorf("stderr %q, want one line with %q and no package prefix", msg, c.want)
			}
		})
	}
	if st, _ := os.ReadFile(filepath.Join(caDir, "state.json")); strings.Contains(string(st), "1234") {
		t.Errorf("the unknown serial was recorded: %s", st)
	}
}

// TestCACRLsOfEveryLevel: 'ca crl' writes the CRL of the issuing CA and the
// root's, so every certificate of the path has a current CRL: OpenSSL's
// -crl_check_all and certs verify --require-crl pass on its output, and a
// revoked intermediate fails both.
func TestCACRLsOfEveryLevel(t *testing.T) {
	needs.Tool(t, "openssl", "openssl")
	_, caDir, out, pass, at, run := caTestDir(t)
	run(ExitOK, "ca", "issue", "--dir", caDir, "--passphrase-file", pass, "--hostname", "sensor-07.plant.example", at)
	issued, _ := filepath.Glob(filepath.Join(caDir, "issued", "*.crt"))
	if len(issued) != 1 {
		t.Fatalf("issued %v", issued)
	}
	run(ExitOK, "ca", "export", "--dir", caDir, "--passphrase-file", pass, "--hostname", "sensor-07.plant.example", "--out", out, "--name", "sensor-07")
	said := run(ExitOK, "ca", "crl", "--dir", caDir, "--passphrase-file", pass, "--days", "30", at)
	if !strings.Contains(said, "crl.pem") || !strings.Contains(said, "root-crl.pem") || !strings.Contains(said, "2026-12-21") {
		t.Errorf("ca crl said %q", said)
	}
	openssl := func() (string, error) {
		o, err := exec.Command("openssl", "verify", "-crl_check_all", "-attime", "1795996800", // 2026-11-30
			"-CAfile", filepath.Join(caDir, "root.crt"), "-untrusted", filepath.Join(caDir, "intermediate.crt"),
			"-CRLfile", filepath.Join(caDir, "crl.pem"), "-CRLfile", filepath.Join(caDir, "root-crl.pem"), filepath.Join(out, "sensor-07.crt")).CombinedOutput()
		return string(o), err
	}
	verify := func() int {
		env, _, _ := testEnv(certsNow)
		return Main([]string{"certs", "verify", "--anchors", filepath.Join(caDir, "root.crt"), "--chain", filepath.Join(out, "sensor-07.crt"),
			"--chain", filepath.Join(caDir, "intermediate.crt"), "--crl", filepath.Join(caDir, "crl.pem"), "--crl", filepath.Join(caDir, "root-crl.pem"),
			"--require-crl", "--at=2026-11-30T00:00:00Z"}, env)
	}
	if o, err := openssl(); err != nil || !strings.Contains(o, ": OK") {
		t.Errorf("openssl verify -crl_check_all on the CA's output: %v %s", err, o)
	}
	if got := verify(); got != ExitOK {
		t.Errorf("certs verify --require-crl: exit %d", got)
	}
	// The intermediate revoked: its serial goes on the root's CRL.
	run(ExitOK, "ca", "revoke", "--dir", caDir, "--passphrase-file", pass, "--cert", filepath.Join(caDir, "intermediate.crt"), "--reason", "cACompromise", at)
	run(ExitOK, "ca", "crl", "--dir", caDir, "--passphrase-file", pass, at)
	if o, err := openssl(); err == nil || !strings.Contains(o, "revoked") {
		t.Errorf("openssl took a revoked intermediate: %v %s", err, o)
	}
	if got := verify(); got != ExitVerdict {
		t.Errorf("certs verify took a revoked intermediate: exit %d", got)
	}
}
