package sshconn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSSHConfig: any ~/.ssh/config text (Match lines with any criteria,
// Include, tokens) is read and resolved without a panic, and a refusal is
// one line naming the file.
func FuzzSSHConfig(f *testing.F) {
	for _, s := range []string{
		"Host s\n  User a\n",
		"Match exec \"true\" host s\n  User x\nMatch all\n  Port 2\n",
		"Match !host s,!t user a* localuser b\n  IdentityFile ~/k\n",
		"Match canonical final\n  Include x\n",
		"Match = host s\nInclude = a b # c\n",
		"Host *\n  HostName %h.plant\n  UserKnownHostsFile \"~/a b\" %d/c\n",
		"Match\n",
	} {
		f.Add(s, "s")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text, host string) {
		if strings.ContainsAny(host, "\x00\n") {
			return
		}
		path := filepath.Join(dir, "config")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := ReadSSHConfig(path)
		if err == nil {
			_, err = c.Resolve(host, HostSettings{})
		}
		if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), dir)) {
			t.Errorf("not one line naming the file: %q", err)
		}
	})
}
