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

	newKey := func() ssh.PublicKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, k2 := newKey(), newKey()
	lines := "# comment\n" + knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:2222")}, k) + "\n" +
		knownhosts.Line([]string{knownhosts.HashHostname("192.0.2.10")}, k) + "\n" +
		knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize("127.0.0.1:2222"))}, k2) + "\n"
	writeFile(t, dir, filepath.Base(env.KnownHosts), []byte(lines))
	test.Tap(s.reload)
	s.tasks.Wait()
	if len(s.entries) != 3 || strings.Join(s.entries[0].Hosts, ",") != "[127.0.0.1]:2222" || s.entries[0].Fingerprint != ssh.FingerprintSHA256(k) || s.entries[0].Line != 2 {
		t.Fatalf("entries %+v", s.entries)
	}
	s.list.Select(0)
	if !strings.Contains(s.command.Text, "ssh-keygen -R '[127.0.0.1]:2222' -f ") || !strings.Contains(s.detail.Text, "SHA256:") {
		t.Errorf("selected: %q %q", s.detail.Text, s.command.Text)
	}
	s.list.Select(1)
	if !strings.Contains(s.command.Text, "-R 'HOST'") || s.remove.Disabled() || !strings.Contains(s.detail.Text, "Remove forgets this one line") {
		t.Errorf("hashed entry: %q %q remove disabled %v", s.command.Text, s.detail.Text, s.remove.Disabled())
	}

	// Remove takes a second, explicit press; it removes every key of the
	// host, hashed ones too, as ssh-keygen -R does, keeps the file 0600 and
	// the previous one as .old.
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
	if len(s.entries) != 1 || s.entries[0].Fingerprint != ssh.FingerprintSHA256(k) || strings.Contains(string(data), "[127.0.0.1]:2222") ||
		!strings.HasPrefix(string(data), "# comment\n") {
		t.Fatalf("after remove: %+v\n%s", s.entries, data)
	}
	if st, _ := os.Stat(env.KnownHosts); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if old, err := os.ReadFile(env.KnownHosts + ".old"); err != nil || string(old) != lines {
		t.Errorf("backup: %v\n%s", err, old)
	}

	// A host no longer in the file is said so, not silently passed.
	writeFile(t, dir, filepath.Base(env.KnownHosts), []byte(lines))
	test.Tap(s.reload)
	s.tasks.Wait()
	removeFromChangedFile := func(row int) {
		t.Helper()
		s.list.Select(row)
		writeFile(t, dir, filepath.Base(env.KnownHosts), []byte("# emptied by someone else\n"))
		test.Tap(s.remove)
		test.Tap(s.confirm)
		s.tasks.Wait()
		if !hasCode(s.findings.shown, codeFile) || !strings.Contains(s.findings.shown[0].Message, "no longer holds that host") {
			t.Fatalf("changed file, row %d: %+v", row, s.findings.shown)
		}
	}
	removeFromChangedFile(0)

	// A hashed entry goes by its line, only while the line holds its key.
	writeFile(t, dir, filepath.Base(env.KnownHosts), []byte(lines))
	test.Tap(s.reload)
	s.tasks.Wait()
	s.list.Select(1)
	test.Tap(s.remove)
	test.Tap(s.confirm)
	s.tasks.Wait()
	s.tasks.Wait()
	data, _ = os.ReadFile(env.KnownHosts)
	if len(s.entries) != 2 || strings.Count(string(data), "|1|") != 1 || s.entries[1].Fingerprint != ssh.FingerprintSHA256(k2) || !s.entries[1].Hashed {
		t.Fatalf("after removing the hashed line: %+v\n%s", s.entries, data)
	}
	removeFromChangedFile(1) // the other hashed line, now line 3

	// A line that is not an entry is named as such, with a fix.
	writeFile(t, dir, filepath.Base(env.KnownHosts), []byte(lines+"not a key line\n"))
	test.Tap(s.reload)
	s.tasks.Wait()
	if !hasCode(s.findings.shown, codeFile) || !strings.Contains(s.findings.shown[0].Message, "not a known_hosts entry") ||
		!strings.Contains(s.findings.shown[0].Message, "line 5") || s.findings.shown[0].Hint == "" {
		t.Fatalf("bad line: %+v", s.findings.shown)
	}
}
