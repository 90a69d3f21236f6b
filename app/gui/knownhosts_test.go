package gui

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestKnownHostsScreen(t *testing.T) {
	dir := t.TempDir()
	a := test.NewTempApp(t)
	env := testEnv(a, dir)
	s := newKnownHostsScreen(env)
	test.NewTempWindow(t, s.build())
	s.tasks.Wait()
	if len(s.entries) != 0 || !strings.Contains(s.file.Text, "No host trusted yet") {
		t.Fatalf("missing file: %q", s.file.Text)
	}

	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	lines := "# comment\n" + knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:2222")}, k) + "\nnot a key line\n" +
		knownhosts.Line([]string{knownhosts.HashHostname("192.0.2.10")}, k) + "\n"
	writeFile(t, dir, filepath.Base(env.KnownHosts), []byte(lines))
	test.Tap(s.reload)
	s.tasks.Wait()
	if len(s.entries) != 2 || s.entries[0].Hosts != "[127.0.0.1]:2222" || s.entries[0].Fingerprint != ssh.FingerprintSHA256(k) || s.entries[0].Line != 2 {
		t.Fatalf("entries %+v", s.entries)
	}
	s.list.Select(0)
	if !strings.Contains(s.command.Text, "ssh-keygen -R '[127.0.0.1]:2222' -f ") || !strings.Contains(s.detail.Text, "SHA256:") {
		t.Errorf("selected: %q %q", s.detail.Text, s.command.Text)
	}
	s.list.Select(1)
	if !strings.Contains(s.command.Text, "-R 'HOST'") {
		t.Errorf("hashed entry: %q", s.command.Text)
	}

	// Remove takes a second, explicit press; the rest of the file stays.
	os.Chmod(env.KnownHosts, 0o640)
	s.list.Select(0)
	if s.remove.Disabled() || !s.confirm.Hidden {
		t.Fatal("a selected host: Remove on, confirmation hidden")
	}
	test.Tap(s.remove)
	if s.confirm.Hidden {
		t.Fatal("Remove did not ask for confirmation")
	}
	test.Tap(s.confirm)
	s.tasks.Wait()
	s.tasks.Wait() // the reload it starts
	data, _ := os.ReadFile(env.KnownHosts)
	if len(s.entries) != 1 || strings.Contains(string(data), "[127.0.0.1]:2222") ||
		!strings.HasPrefix(string(data), "# comment\n") || !strings.Contains(string(data), "not a key line\n") {
		t.Fatalf("after remove: %+v\n%s", s.entries, data)
	}
	if st, _ := os.Stat(env.KnownHosts); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}

	// A file changed since it was read is not rewritten blindly.
	s.list.Select(0)
	writeFile(t, dir, filepath.Base(env.KnownHosts), []byte("# emptied by someone else\n"))
	test.Tap(s.remove)
	test.Tap(s.confirm)
	s.tasks.Wait()
	if !hasCode(s.findings.shown, codeFile) || !strings.Contains(s.findings.shown[0].Message, "changed since it was read") {
		t.Fatalf("changed file: %+v", s.findings.shown)
	}
}

func FuzzParseKnownHosts(f *testing.F) {
	f.Add([]byte("[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8hH3bgW6zM2N5R0Jm7qv3nA1k3kQyF6bQ8Kx0nq1m9\n"))
	f.Add([]byte("# comment\n\n@revoked * ssh-rsa AAAA\n|1|abc|def ssh-ed25519 AAAA\n"))
	f.Add([]byte("host\x00 ssh-ed25519"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, e := range parseKnownHosts(data) {
			if e.Line < 1 || e.KeyType == "" || !strings.HasPrefix(e.Fingerprint, "SHA256:") {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}
