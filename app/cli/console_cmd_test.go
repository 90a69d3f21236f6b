package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/userpath"
)

// The reset's usage mistakes are named before anything connects; an
// unreachable sensor is exit 1 with the reason.
func TestConsoleResetUsage(t *testing.T) {
	home := t.TempDir() // no default SSH key in it
	t.Setenv(userpath.HomeEnv(), home)
	base := []string{"console", "reset", "--address", "127.0.0.1:1", "--ssh-user", "provision"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{append(base, "--user", "root", "--auth", "agent"), ExitUsage, `--user "root": the privileged console accounts are admin and support`},
		{append(base, "--user", "admin", "--auth", "key"), ExitUsage, "--auth key: no key file given and none of id_ed25519, id_ecdsa, id_rsa in " + filepath.Join(home, ".ssh") + ": give --key-file"},
		{append(base, "--user", "admin", "--auth", "telepathy"), ExitUsage, `--auth "telepathy": use key, agent or password`},
		{[]string{"console", "reset", "--user", "admin", "--address", "127.0.0.1:99999", "--ssh-user", "p", "--auth", "agent"}, ExitUsage, "bad port"},
		{append(base, "--user", "admin", "--auth", "password", "--known-hosts", "/nonexistent/kh"), ExitVerdict, "no SSH password is given"},
		{append(base, "--user", "admin", "--auth", "agent", "--known-hosts", t.TempDir()+"/kh", "--connect-timeout", "2s"), ExitVerdict, "console reset: 127.0.0.1:"},
	} {
		env, _, errb := testEnv(time.Now())
		env.Getenv = func(k string) string {
			if k == "SSH_AUTH_SOCK" {
				return "/nonexistent/agent.sock"
			}
			return ""
		}
		if code := Main(c.args, env); code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.want)
		}
	}
}
