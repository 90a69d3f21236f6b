package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What ~/.ssh/config asks and Tapline would not carry out stops batch run
// before anything connects: a sensor whose config entry turns host key
// checking off, keeps no known_hosts or goes through a proxy command is
// never dialled (a listener at its HostName counts no connection), and
// the error names the config file, its line and the directive.
func TestBatchRunRefusesWeakerSSHConfig(t *testing.T) {
	addr, dialled := countingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	ex, _ := filepath.Abs("../../examples/site-a")
	for _, tc := range []struct{ name, directive string }{
		{"no host key checking", "StrictHostKeyChecking no"},
		{"known_hosts that keeps nothing", "UserKnownHostsFile /dev/null"},
		{"proxy command", "ProxyCommand nc %h %p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("USERPROFILE", home)
			os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
			cfg := filepath.Join(home, ".ssh", "config")
			os.WriteFile(cfg, []byte(fmt.Sprintf("Host plant-*\n  HostName 127.0.0.1\n  Port %s\n  User admin\n  %s\n", port, tc.directive)), 0o600)
			dir := t.TempDir()
			inv := filepath.Join(dir, "site.csv")
			os.WriteFile(inv, []byte("sensor,address,auth,key_file,new_ip,new_mask,activation,cert,key,chain\n"+
				fmt.Sprintf("sensor-01,plant-01,key,%[1]s/certs/sensor-01.key,192.0.2.111,24,%[1]s/activation/sensor-01.tapact,%[1]s/certs/sensor-01.crt,%[1]s/certs/sensor-01.key,%[1]s/certs/chain.pem\n", ex)), 0o600)
			env, out, errb := testEnv(time.Now())
			code := Main([]string{"batch", "run", inv, "--trust-root", exampleRoot, "--at", exampleAt(t), "--known-hosts", filepath.Join(dir, "kh"),
				"--accept-new", "--accept-warnings", "--retries", "0", "--connect-timeout", "1s"}, env)
			want := cfg + " line 5: " + strings.Fields(tc.directive)[0]
			if code == ExitOK || !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "nothing was sent") {
				t.Fatalf("exit %d, want the refusal %q and nothing sent:\n%s\n%s", code, want, out, errb)
			}
			if n := dialled.Load(); n != 0 {
				t.Fatalf("the sensor was dialled %d times", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "kh")); err == nil {
				t.Fatal("known_hosts was written")
			}
		})
	}
}
