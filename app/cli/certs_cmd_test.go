package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var certsUpdate = flag.Bool("certs.update", false, "rewrite the certs golden files")

const (
	ex = "../../examples/certs/"
	td = "../../certs/testdata/"
	fd = "../../certs/testdata/field/"
)

// certsGolden compares got with testdata/certs/NAME, or rewrites it with -certs.update.
func certsGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "certs", name)
	if *certsUpdate {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Certs -certs.update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var certsNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func TestCertsGolden(t *testing.T) {
	at := "--at=2026-12-01T00:00:00Z"
	cases := []struct {
		golden string
		args   []string
		code   int
	}{
		{"check-sensor-01.txt", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--chain", ex + "chain.pem", "--hostname", "sensor-01.plant.example", at}, ExitOK},
		{"check-sensor-01.json", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--chain", ex + "chain.pem", "--hostname", "sensor-01.plant.example", "--ip", "192.0.2.10", "--crl", ex + "crl.pem", at, "--json"}, ExitOK},
		{"check-sensor-01-pfx.txt", []string{"certs", "check", "--pfx", ex + "sensor-01.pfx", "--passphrase-file", "testdata/certs/pass.txt", "--hostname", "sensor-01.plant.example", at}, ExitOK},
		{"check-crl-validation.txt", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--chain", ex + "chain.pem", "--hostname", "sensor-01.plant.example", "--crl-validation", at}, ExitVerdict},
		{"check-sensor-02-expired.json", []string{"certs", "check", "--cert", ex + "sensor-02-expired.crt", "--key", ex + "sensor-02-expired.key", "--passphrase-file", "testdata/certs/pass.txt", "--chain", ex + "chain.pem", "--hostname", "sensor-02.plant.example", at, "--json"}, ExitVerdict},
		{"check-sensor-03-weak.txt", []string{"certs", "check", "--cert", ex + "sensor-03-weak.crt", "--key", ex + "sensor-03-weak.key", "--chain", ex + "chain.pem", "--hostname", "sensor-03.plant.example", at}, ExitVerdict},
		{"check-wrong-passphrase.txt", []string{"certs", "check", "--cert", td + "leaf.crt", "--key", td + "leaf-enc-aes256.pem", "--passphrase-file", "testdata/certs/wrong-pass.txt", "--chain", td + "chain-bag.pem", "--hostname", "sensor-01.plant.example", at}, ExitVerdict},
		{"check-key-mismatch.txt", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-03-weak.key", "--chain", ex + "chain.pem", "--hostname", "sensor-01.plant.example", at}, ExitVerdict},
		{"check-revoked.txt", []string{"certs", "check", "--cert", td + "revoked.crt", "--key", td + "ec-sec1.pem", "--chain", td + "chain.pem", "--crl", td + "crl.der", "--crl", td + "root-crl.pem", "--hostname", "sensor-01.plant.example", "--crl-validation", at}, ExitVerdict},
		{"verify-valid.txt", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", ex + "sensor-01.crt", "--chain", ex + "chain.pem", "--crl", ex + "crl.pem", "--dns", "sensor-01.plant.example", at}, ExitOK},
		{"verify-valid.json", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", td + "leaf.der", "--chain", td + "chain.der", "--ip", "192.0.2.10", at, "--json"}, ExitOK},
		{"verify-crl-wrong-key.txt", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", td + "leaf.crt", "--chain", td + "inter.crt", "--crl", ex + "crl.pem", at}, ExitOK},
		{"verify-crl-wrong-key.json", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", td + "leaf.crt", "--chain", td + "inter.crt", "--crl", ex + "crl.pem", at, "--json"}, ExitOK},
		{"verify-no-crl.txt", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", td + "leaf.crt", "--chain", td + "inter.crt", at}, ExitOK},
		{"verify-revoked.txt", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", td + "revoked.crt", "--chain", td + "inter.crt", "--crl", td + "crl.pem", at}, ExitVerdict},
		{"verify-require-crl.json", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", td + "leaf.crt", "--chain", td + "inter.crt", "--crl", td + "crl.pem", "--require-crl", at, "--json"}, ExitVerdict},
		{"verify-wrong-root.txt", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", td + "leaf.crt", "--chain", td + "inter.crt", at}, ExitVerdict},
		{"verify-wrong-name.txt", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", ex + "sensor-01.crt", "--chain", ex + "chain.pem", "--dns", "sensor-02.plant.example", at}, ExitVerdict},
		{"verify-expired.txt", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", ex + "sensor-01.crt", "--chain", ex + "chain.pem", "--at=2032-01-01T00:00:00Z"}, ExitVerdict},
		// Files plant PKI teams really send (certs/testdata/generate.sh field).
		{"inspect-field.txt", []string{"certs", "inspect", fd + "ed448.crt", fd + "rsa-pss.crt", fd + "dsa.crt", fd + "ed448.key", fd + "rsa-pss.key", fd + "dsa.key",
			fd + "x25519.key", fd + "secp256k1.key", fd + "leaf-csr.der", fd + "leaf-bom.crt", fd + "leaf-junk.crt", fd + "trust-nopass.p12"}, ExitOK},
		{"inspect-field.json", []string{"certs", "inspect", "--json", fd + "ed448.crt", fd + "leaf-bom.crt", fd + "leaf-junk.crt", fd + "x25519.key", fd + "leaf-csr.der"}, ExitOK},
		{"inspect-trust-bundle.txt", []string{"certs", "inspect", "--passphrase-file", "testdata/certs/fixture-pass.txt", fd + "trust.p12"}, ExitOK},
		{"check-bom.txt", []string{"certs", "check", "--cert", fd + "leaf-bom.crt", "--key", fd + "leaf-bom.key", "--chain", fd + "chain-bom.pem", "--crl", fd + "crl-bom.pem",
			"--hostname", "sensor-01.plant.example", at}, ExitOK},
		{"check-trust-p12.txt", []string{"certs", "check", "--cert", td + "leaf.crt", "--key", td + "leaf.key", "--chain", fd + "trust.p12",
			"--passphrase-file", "testdata/certs/fixture-pass.txt", "--hostname", "sensor-01.plant.example", at}, ExitOK},
		{"check-junk.txt", []string{"certs", "check", "--cert", fd + "leaf-junk.crt", "--key", td + "leaf.key", "--chain", td + "chain.pem", "--hostname", "sensor-01.plant.example", at}, ExitOK},
		{"check-expired-intermediate.txt", []string{"certs", "check", "--cert", fd + "under-expired.crt", "--key", td + "leaf.key", "--chain", fd + "expired-chain.pem",
			"--hostname", "sensor-01.plant.example", at}, ExitVerdict},
		{"check-pfx-wrong-passphrase.txt", []string{"certs", "check", "--pfx", td + "modern.pfx", "--passphrase-file", "testdata/certs/wrong-pass.txt", "--hostname", "sensor-01.plant.example", at}, ExitVerdict},
		{"check-easyrsa.txt", []string{"certs", "check", "--cert", fd + "easyrsa-leaf.crt", "--key", td + "leaf.key", "--chain", fd + "easyrsa-chain.pem",
			"--crl", fd + "easyrsa-sub.crl", "--crl", fd + "easyrsa-root.crl", "--crl-validation", "--hostname", "sensor-01.plant.example", at}, ExitOK},
		{"verify-easyrsa.txt", []string{"certs", "verify", "--anchors", fd + "easyrsa-root.crt", "--chain", fd + "easyrsa-leaf.crt", "--chain", fd + "easyrsa-sub.crt",
			"--crl", fd + "easyrsa-sub.crl", "--crl", fd + "easyrsa-root.crl", "--require-crl", "--dns", "sensor-01.plant.example", at}, ExitOK},
		{"verify-easyrsa-strict.txt", []string{"certs", "verify", "--strict", "--anchors", fd + "easyrsa-root.crt", "--chain", fd + "easyrsa-leaf.crt", "--chain", fd + "easyrsa-sub.crt", at}, ExitVerdict},
		{"verify-expired-intermediate.txt", []string{"certs", "verify", "--anchors", td + "root.crt", "--chain", fd + "under-expired.crt", "--chain", fd + "expired-inter.crt", at}, ExitVerdict},
		{"inspect.txt", []string{"certs", "inspect", ex + "sensor-01.crt", ex + "chain.pem", ex + "sensor-01.key", ex + "sensor-02-expired.key", ex + "sensor-01.pfx", ex + "crl.pem", td + "leaf.der", td + "leaf-enc.der"}, ExitOK},
		{"inspect-pass.txt", []string{"certs", "inspect", "--passphrase-file", "testdata/certs/pass.txt", ex + "sensor-01.pfx", ex + "sensor-02-expired.key"}, ExitOK},
		{"inspect-crls.txt", []string{"certs", "inspect", td + "crls-both.pem"}, ExitOK},
		{"inspect-crls.json", []string{"certs", "inspect", "--json", td + "crls-both.pem"}, ExitOK},
		{"inspect.json", []string{"certs", "inspect", "--json", ex + "sensor-01.crt", ex + "chain.pem", ex + "sensor-01.key", ex + "sensor-02-expired.key", ex + "sensor-01.pfx", ex + "crl.pem"}, ExitOK},
		{"inspect-pass.json", []string{"certs", "inspect", "--json", "--passphrase-file", "testdata/certs/pass.txt", ex + "sensor-01.pfx", ex + "sensor-02-expired.key"}, ExitOK},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			env, out, errb := testEnv(certsNow)
			if got := Main(c.args, env); got != c.code {
				t.Errorf("exit %d, want %d; stderr %s", got, c.code, errb)
			}
			if strings.HasSuffix(c.golden, ".json") && !json.Valid(out.Bytes()) {
				t.Errorf("not JSON: %s", out)
			}
			certsGolden(t, c.golden, out.Bytes())
		})
	}
}

// TestCertsBadInput: every kind of bad input gets exit 2 and one line on
// stderr naming the file; never a panic or a stack trace.
func TestCertsBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		file string // must appear in the one stderr line
	}{
		{"jpeg as crt", []string{"certs", "check", "--cert", td + "jpeg.crt", "--key", ex + "sensor-01.key"}, "jpeg.crt"},
		{"empty crt", []string{"certs", "check", "--cert", td + "empty.crt", "--key", ex + "sensor-01.key"}, "empty.crt"},
		{"truncated crt", []string{"certs", "check", "--cert", td + "truncated.crt", "--key", ex + "sensor-01.key"}, "truncated.crt"},
		{"missing file", []string{"certs", "check", "--cert", ex + "nope.crt", "--key", ex + "sensor-01.key"}, "nope.crt"},
		{"crt as key", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.crt"}, "sensor-01.crt"},
		{"jpeg chain", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--chain", td + "jpeg.crt"}, "jpeg.crt"},
		{"jpeg crl", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--crl", td + "jpeg.crt"}, "jpeg.crt"},
		{"bad --at", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--at", "yesterday"}, "--at"},
		{"bad --ip", []string{"certs", "check", "--cert", ex + "sensor-01.crt", "--key", ex + "sensor-01.key", "--ip", "300.1.1.1"}, "--ip"},
		{"no cert", []string{"certs", "check", "--key", ex + "sensor-01.key"}, "--cert"},
		{"pfx and cert", []string{"certs", "check", "--pfx", ex + "sensor-01.pfx", "--cert", ex + "sensor-01.crt"}, "not both"},
		{"verify jpeg", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", td + "jpeg.crt"}, "jpeg.crt"},
		{"verify truncated", []string{"certs", "verify", "--anchors", td + "truncated.crt", "--chain", ex + "sensor-01.crt"}, "truncated.crt"},
		{"verify no anchors", []string{"certs", "verify", "--chain", ex + "sensor-01.crt"}, "--anchors"},
		{"verify dns and ip", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", ex + "sensor-01.crt", "--dns", "a.example", "--ip", "192.0.2.1"}, "not both"},
		{"verify bad crl", []string{"certs", "verify", "--anchors", ex + "root.crt", "--chain", ex + "sensor-01.crt", "--crl", ex + "sensor-01.crt"}, "sensor-01.crt"},
		{"inspect jpeg", []string{"certs", "inspect", td + "jpeg.crt"}, "jpeg.crt"},
		{"inspect empty", []string{"certs", "inspect", td + "empty.crt"}, "empty.crt"},
		{"inspect truncated", []string{"certs", "inspect", td + "truncated.crt"}, "truncated.crt"},
		{"inspect wrong pass", []string{"certs", "inspect", "--passphrase-file", "testdata/certs/wrong-pass.txt", ex + "sensor-02-expired.key"}, "sensor-02-expired.key"},
		{"key and cert swapped", []string{"certs", "check", "--cert", fd + "swapped.crt", "--key", fd + "swapped.key"}, "look swapped"},
		{"key as cert", []string{"certs", "check", "--cert", td + "leaf.key", "--key", td + "leaf.key"}, "holds a private key, not a certificate"},
		{"inspect unsupported curve", []string{"certs", "inspect", fd + "secp256k1.crt"}, "secp256k1 (not supported"},
		{"inspect legacy trust bundle", []string{"certs", "inspect", "--passphrase-file", "testdata/certs/fixture-pass.txt", fd + "trust-legacy.p12"}, "RC2"},
		{"unknown flag", []string{"certs", "check", "--frob"}, "frob"},
		{"flag without value", []string{"certs", "verify", "--anchors"}, "anchors"},
		{"unknown sub", []string{"certs", "frob"}, "frob"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, _, errb := testEnv(certsNow)
			if got := Main(c.args, env); got != ExitUsage {
				t.Errorf("exit %d, want 2", got)
			}
			msg := errb.String()
			if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine") {
				t.Fatalf("stack trace: %s", msg)
			}
			if c.name != "unknown sub" && strings.Contains(msg, "certs: ") {
				t.Errorf("package prefix leaks into %q", msg)
			}
			if !strings.Contains(msg, c.file) {
				t.Errorf("stderr %q does not name %q", msg, c.file)
			}
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Errorf("more than one line: %q", msg)
			}
		})
	}
}

// TestCertsInspectMixed: unreadable files get their stderr line and leave
// no empty blocks among the files that were read.
func TestCertsInspectMixed(t *testing.T) {
	env, out, errb := testEnv(certsNow)
	if got := Main([]string{"certs", "inspect", td + "jpeg.crt", ex + "root.crt", td + "empty.crt", ex + "crl.pem"}, env); got != ExitUsage {
		t.Errorf("exit %d, want 2", got)
	}
	if strings.Count(errb.String(), "\n") != 2 {
		t.Errorf("stderr %q, want one line per unreadable file", errb)
	}
	o := out.String()
	if strings.HasPrefix(o, "\n") || strings.Contains(o, "\n\n\n") || strings.Count(o, "\n\n") != 1 {
		t.Errorf("stdout should be two blocks separated by one blank line:\n%s", o)
	}
}

// TestCertsCombinedPEMNotSwapped: a combined PEM (certificate and key in one
// file, either first) is not "swapped", as --key or as --cert.
func TestCertsCombinedPEMNotSwapped(t *testing.T) {
	dir := t.TempDir()
	crt, _ := os.ReadFile(td + "leaf.crt")
	key, _ := os.ReadFile(td + "leaf.key")
	certFirst, keyFirst := filepath.Join(dir, "cert-first.pem"), filepath.Join(dir, "key-first.pem")
	if os.WriteFile(certFirst, append(append([]byte{}, crt...), key...), 0o600) != nil || os.WriteFile(keyFirst, append(append([]byte{}, key...), crt...), 0o600) != nil {
		t.Fatal("write")
	}
	for _, args := range [][]string{
		{"--cert", td + "leaf.crt", "--key", certFirst},
		{"--cert", keyFirst},
		{"--cert", certFirst, "--key", keyFirst},
	} {
		env, out, errb := testEnv(certsNow)
		all := append([]string{"certs", "check", "--chain", td + "chain.pem", "--hostname", "sensor-01.plant.example", "--at=2026-12-01T00:00:00Z"}, args...)
		if got := Main(all, env); got != ExitOK || strings.Contains(errb.String()+out.String(), "swapped") {
			t.Errorf("%v: exit %d, %s%s", args, got, errb, out)
		}
	}
}
