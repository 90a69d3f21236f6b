package cli

import (
	"os"
	"strings"
	"testing"
)

// TestCertsPassphrasePrompt: with an encrypted key or PKCS#12 and no
// --passphrase-file, check and inspect ask on the terminal, without echo;
// the passphrase shows nowhere in the output. Without a terminal they do
// not ask (a script gets the usual "give --passphrase-file").
func TestCertsPassphrasePrompt(t *testing.T) {
	pass, err := os.ReadFile("testdata/certs/pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(pass))
	for _, c := range []struct {
		name string
		args []string
		want string
		exit int
	}{
		{"inspect key", []string{"certs", "inspect", ex + "sensor-02-expired.key"}, "spki sha256:", ExitOK},
		{"inspect pkcs12", []string{"certs", "inspect", ex + "sensor-01.pfx"}, "matches the certificate: true", ExitOK},
		{"check pkcs12", []string{"certs", "check", "--pfx", ex + "sensor-01.pfx", "--chain", ex + "chain.pem", "--hostname", "sensor-01.plant.example"}, "", ExitOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			master, slave := openPTY(t)
			env, out, errb := testEnv(certsNow)
			env.Stdin = slave
			if _, err := master.Write([]byte(secret + "\n")); err != nil {
				t.Fatal(err)
			}
			if got := Main(c.args, env); got != c.exit {
				t.Fatalf("exit %d, want %d\n%s\n%s", got, c.exit, out, errb)
			}
			if !strings.Contains(errb.String(), "Passphrase for ") || !strings.Contains(out.String(), c.want) {
				t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errb)
			}
			if strings.Contains(out.String()+errb.String(), secret) {
				t.Fatal("the passphrase was printed")
			}
		})
	}
	// No terminal: no prompt.
	env, out, errb := testEnv(certsNow)
	if got := Main([]string{"certs", "inspect", ex + "sensor-02-expired.key"}, env); got != ExitOK || !strings.Contains(out.String(), "give --passphrase-file") || strings.Contains(errb.String(), "Passphrase for") {
		t.Fatalf("without a terminal: %d %s %s", got, out, errb)
	}
}
