package sshconn

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/internal/needs"
)

func testHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKnownHostsListRemove: list shows patterns, key type, SHA256
// fingerprint and line (hashed hosts as hashed); remove takes out a host's
// plain and hashed lines like ssh-keygen -R, atomically, with a .old
// backup, both 0600, and leaves other hosts, wildcards and CA lines.
func TestKnownHostsListRemove(t *testing.T) {
	keys := make([]ssh.PublicKey, 7)
	for i := range keys {
		keys[i] = testHostKey(t)
	}
	line := func(hosts string, k ssh.PublicKey) string {
		return hosts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	content := strings.Join([]string{
		"# laptop's known hosts",
		line("192.0.2.10", keys[0]),
		line("[192.0.2.10]:2222", keys[1]),
		"",
		line("sensor-02.plant.example,192.0.2.11", keys[2]),
		line(xknownhosts.HashHostname("192.0.2.10"), keys[3]),
		line("*.plant.example", keys[4]),
		"@cert-authority " + line("192.0.2.10", keys[5]),
		line("192.0.2.12", keys[6]) + " lab sensor",
	}, "\n") + "\n"
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := ListKnownHosts(kh)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		line  int
		hosts string
		fp    string
	}
	var got []row
	for _, e := range list {
		if e.KeyType != ssh.KeyAlgoED25519 {
			t.Errorf("line %d key type %s", e.Line, e.KeyType)
		}
		got = append(got, row{e.Line, e.Marker + strings.Join(e.Hosts, ","), e.Fingerprint})
	}
	want := []row{
		{2, "192.0.2.10", ssh.FingerprintSHA256(keys[0])},
		{3, "[192.0.2.10]:2222", ssh.FingerprintSHA256(keys[1])},
		{5, "sensor-02.plant.example,192.0.2.11", ssh.FingerprintSHA256(keys[2])},
		{6, "(hashed)", ssh.FingerprintSHA256(keys[3])},
		{7, "*.plant.example", ssh.FingerprintSHA256(keys[4])},
		{8, "@cert-authority192.0.2.10", ssh.FingerprintSHA256(keys[5])},
		{9, "192.0.2.12", ssh.FingerprintSHA256(keys[6])},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("list:\n got %v\nwant %v", got, want)
	}
	if !list[3].Hashed || list[6].Comment != "lab sensor" {
		t.Fatalf("hashed/comment: %+v %+v", list[3], list[6])
	}

	// Port 22 is the plain name: removes the plain and the hashed line only.
	removed, err := RemoveKnownHost(kh, "192.0.2.10:22")
	if err != nil || !reflect.DeepEqual(removed, []int{2, 6}) {
		t.Fatalf("remove 192.0.2.10: %v %v", removed, err)
	}
	after, _ := os.ReadFile(kh)
	wantAfter := strings.Join(slicesDelete(strings.SplitAfter(content, "\n"), 1, 5), "")
	if string(after) != wantAfter {
		t.Fatalf("after remove:\n%s\nwant\n%s", after, wantAfter)
	}
	if old, _ := os.ReadFile(kh + ".old"); string(old) != content {
		t.Fatalf(".old is not the previous file: %q", old)
	}
	for _, p := range []string{kh, kh + ".old"} {
		if ok, err := filemode.Is(p, 0o600); err != nil || !ok {
			t.Fatalf("%s not private: %v", p, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("left behind: %v", ents)
	}
	// The bracketed form and a multi-host line.
	if removed, err := RemoveKnownHost(kh, "[192.0.2.10]:2222"); err != nil || !reflect.DeepEqual(removed, []int{2}) {
		t.Fatalf("remove [192.0.2.10]:2222: %v %v", removed, err)
	}
	if removed, err := RemoveKnownHost(kh, "SENSOR-02.plant.example"); err != nil || len(removed) != 1 {
		t.Fatalf("remove by name of a multi-host line: %v %v", removed, err)
	}
	// Nothing to remove: the file is untouched, no error.
	before, _ := os.ReadFile(kh)
	if removed, err := RemoveKnownHost(kh, "198.51.100.1"); err != nil || len(removed) != 0 {
		t.Fatalf("remove unknown: %v %v", removed, err)
	}
	if now, _ := os.ReadFile(kh); string(now) != string(before) {
		t.Fatal("an unknown host rewrote the file")
	}
	if _, err := RemoveKnownHost(kh, "*.plant.example"); err == nil {
		t.Fatal("a pattern was taken for a host")
	}
	// A broken line is an error naming the file and line.
	os.WriteFile(kh, []byte("192.0.2.1 ssh-ed25519 !!!\n"), 0o600)
	if _, err := ListKnownHosts(kh); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("broken line: %v", err)
	}
}

// TestRemoveKnownHostLikeSSHKeygen compares with OpenSSH's ssh-keygen -R
// on the same file, hashed entries included.
func TestRemoveKnownHostLikeSSHKeygen(t *testing.T) {
	sk := needs.Tool(t, "ssh-keygen", "openssh-client") // to compare with
	var lines []string
	for _, h := range []string{"192.0.2.20", "[192.0.2.20]:2222", "192.0.2.21", xknownhosts.HashHostname("192.0.2.20"), xknownhosts.HashHostname("192.0.2.21")} {
		lines = append(lines, h+" "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(testHostKey(t)))))
	}
	content := strings.Join(lines, "\n") + "\n"
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")
	os.WriteFile(ours, []byte(content), 0o600)
	os.WriteFile(theirs, []byte(content), 0o600)
	if out, err := exec.Command(sk, "-R", "192.0.2.20", "-f", theirs).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -R: %v %s", err, out)
	}
	if _, err := RemoveKnownHost(ours, "192.0.2.20"); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(ours)
	b, _ := os.ReadFile(theirs)
	if string(a) != string(b) {
		t.Fatalf("ours:\n%s\nssh-keygen -R:\n%s", a, b)
	}
}

func slicesDelete(s []string, idx ...int) []string {
	var out []string
	for i, v := range s {
		del := false
		for _, j := range idx {
			del = del || i == j
		}
		if !del {
			out = append(out, v)
		}
	}
	return out
}

// TestRemoveKnownHostLine: one line goes, by number and fingerprint, a
// hashed one included; a stale number or a fingerprint the line no longer
// holds is refused and the file stays as it was.
func TestRemoveKnownHostLine(t *testing.T) {
	k1, k2, k3 := testHostKey(t), testHostKey(t), testHostKey(t)
	line := func(hosts string, k ssh.PublicKey) string {
		return hosts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + "\n"
	}
	content := "# known hosts\n" + line("192.0.2.10", k1) + line(xknownhosts.HashHostname("192.0.2.11"), k2) + line("192.0.2.12", k3)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(content), 0o600)
	for _, c := range []struct {
		line int
		fp   string
	}{{0, ssh.FingerprintSHA256(k2)}, {9, ssh.FingerprintSHA256(k2)}, {1, ssh.FingerprintSHA256(k2)}, {2, ssh.FingerprintSHA256(k2)}} {
		if err := RemoveKnownHostLine(kh, c.line, c.fp); err == nil || !strings.Contains(err.Error(), "list it again") {
			t.Errorf("line %d: %v", c.line, err)
		}
	}
	if b, _ := os.ReadFile(kh); string(b) != content {
		t.Fatal("a refused removal changed the file")
	}
	if err := RemoveKnownHostLine(kh, 3, ssh.FingerprintSHA256(k2)); err != nil {
		t.Fatal(err)
	}
	want := "# known hosts\n" + line("192.0.2.10", k1) + line("192.0.2.12", k3)
	if b, _ := os.ReadFile(kh); string(b) != want {
		t.Fatalf("after removing the hashed line:\n%s", b)
	}
	if b, _ := os.ReadFile(kh + ".old"); string(b) != content {
		t.Fatal(".old is not the previous file")
	}
	// Without a final newline, the last line goes too.
	os.WriteFile(kh, []byte(strings.TrimSuffix(want, "\n")), 0o600)
	if err := RemoveKnownHostLine(kh, 3, ssh.FingerprintSHA256(k3)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kh); string(b) != "# known hosts\n"+line("192.0.2.10", k1) {
		t.Fatalf("after removing the last line: %q", b)
	}
}

// The command that forgets a changed host key names the host as
// known_hosts does: [host]:port on a port other than 22.
func TestKeygenRemove(t *testing.T) {
	home := t.TempDir() // a home folder of its own, whatever the machine has
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	def, err := DefaultKnownHostsFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ host, file, want string }{
		{"127.0.0.1:40013", def, "ssh-keygen -R '[127.0.0.1]:40013'"},
		{"192.0.2.10:22", def, "ssh-keygen -R 192.0.2.10"},
		{"sensor-01.plant.example", "", "ssh-keygen -R sensor-01.plant.example"},
		{"[2001:db8::1]:2222", "/tmp/it's here/known_hosts", `ssh-keygen -R '[2001:db8::1]:2222' -f '/tmp/it'\''s here/known_hosts'`},
	} {
		if got := KeygenRemove(c.host, c.file); got != c.want {
			t.Errorf("KeygenRemove(%q, %q) = %s, want %s", c.host, c.file, got, c.want)
		}
	}
	e := &HostKeyChangedError{Host: "127.0.0.1:40013", KnownHosts: def, Fingerprint: "SHA256:x", KeyType: "ssh-ed25519", Line: 3}
	if !strings.Contains(e.Error(), "ssh-keygen -R '[127.0.0.1]:40013'") {
		t.Errorf("error: %s", e)
	}
}
