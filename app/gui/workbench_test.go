package gui

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/certs"
)

func TestWorkbenchEmptyMarkup(t *testing.T) {
	a := test.NewTempApp(t)
	s := newWorkbenchScreen(testEnv(a, t.TempDir()))
	w := test.NewTempWindow(t, s.build())
	w.Resize(fyne.NewSize(900, 700))
	if !s.checkBtn.Disabled() || !s.clearBtn.Disabled() {
		t.Error("Check and Clear are enabled with no files")
	}
	test.AssertRendersToMarkup(t, "workbench_empty.xml", w.Canvas())
}

func TestWorkbenchChecksFiles(t *testing.T) {
	_, _, dir := mustCA(t, "sensor-01.plant.example")
	crt := filepath.Join(dir, "sensor-01.plant.example.crt")
	key := filepath.Join(dir, "sensor-01.plant.example.key")
	chain := filepath.Join(dir, "sensor-01.plant.example-chain.pem")
	junk := writeFile(t, t.TempDir(), "notes.txt", []byte("this is not a certificate\n"))

	cases := []struct {
		name      string
		host      string
		ip        string
		files     []string
		verdict   string // substring of the verdict line
		wantCodes []string
		noErrors  bool
	}{
		{"a good set for its sensor", "sensor-01.plant.example", "192.0.2.10", []string{crt, key, chain}, "would accept", nil, true},
		{"the wrong sensor", "sensor-02.plant.example", "", []string{crt, key, chain}, "would refuse", []string{certs.CodeCNMismatch}, false},
		{"a key missing", "sensor-01.plant.example", "", []string{crt, chain}, "would refuse", []string{certs.CodeKeyUnreadable}, false},
		{"no hostname", "", "", []string{crt, key}, "", []string{codeField}, false},
		{"a bad IP", "sensor-01.plant.example", "192.0.2", []string{crt, key}, "", []string{codeField}, false},
		{"a file that is nothing", "sensor-01.plant.example", "", []string{crt, key, chain, junk}, "would accept", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			s := newWorkbenchScreen(testEnv(a, t.TempDir()))
			test.NewTempWindow(t, s.build())
			s.addPaths(c.files)
			s.tasks.Wait()
			if len(s.files) != len(c.files) || s.checkBtn.Disabled() {
				t.Fatalf("%d files listed, check disabled %v", len(s.files), s.checkBtn.Disabled())
			}
			test.Type(s.hostname, c.host)
			test.Type(s.ip, c.ip)
			test.Tap(s.checkBtn)
			s.tasks.Wait()
			if !strings.Contains(s.verdict.Text, c.verdict) {
				t.Errorf("verdict %q, want %q in it", s.verdict.Text, c.verdict)
			}
			for _, code := range c.wantCodes {
				if !hasCode(s.findings.shown, code) {
					t.Errorf("findings %s, want %s", codes(s.findings.shown), code)
				}
			}
			if c.noErrors && s.findings.hasErrors() {
				t.Errorf("findings %s, want no error", codes(s.findings.shown))
			}
		})
	}
}

func TestWorkbenchDescribesEachFile(t *testing.T) {
	c, is, dir := mustCA(t, "sensor-01.plant.example")
	enc, err := certs.MarshalPrivateKeyPEMIterations(rand.Reader, is.Key, []byte("Sensor.Pass-1"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	encPath := writeFile(t, dir, "enc.key", enc)
	crl, err := c.CRL(testNow, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	crlPath := writeFile(t, dir, "ca.crl", crl)
	junk := writeFile(t, dir, "notes.txt", []byte("hello"))
	crt, _ := os.ReadFile(filepath.Join(dir, "sensor-01.plant.example.crt"))
	cut := writeFile(t, dir, "cut.crt", crt[:len(crt)/2])
	empty := writeFile(t, dir, "empty.crt", nil)

	a := test.NewTempApp(t)
	s := newWorkbenchScreen(testEnv(a, t.TempDir()))
	test.NewTempWindow(t, s.build())
	s.addPaths([]string{filepath.Join(dir, "sensor-01.plant.example.crt"), encPath, crlPath, junk, filepath.Join(dir, "missing.crt"), cut, empty})
	s.tasks.Wait()
	want := []struct {
		kind    certs.Kind
		summary string
		problem string
	}{
		{certs.KindCertificate, `certificate "sensor-01.plant.example" issued by "Tapline Offline Root CA"`, ""},
		{certs.KindEncryptedKey, "encrypted: enter its passphrase", ""},
		{certs.KindCRL, "0 revoked", ""},
		{certs.KindUnknown, "", codeFile},
		{certs.KindUnknown, "", codeFile},
		{certs.KindUnknown, "", codeFile},
		{certs.KindUnknown, "", codeFile},
	}
	for i, w := range want {
		f := s.files[i]
		if f.Kind != w.kind || !strings.Contains(strings.Join(f.Summary, "\n"), w.summary) {
			t.Errorf("file %d: %s %q, want %s %q", i, f.Kind, f.Summary, w.kind, w.summary)
		}
		if (f.Problem == nil) != (w.problem == "") || (f.Problem != nil && f.Problem.Code != w.problem) {
			t.Errorf("file %d: problem %+v, want %q", i, f.Problem, w.problem)
		}
	}

	for i, want := range map[int]string{5: "cut.crt holds a PEM block that cannot be read", 6: "empty.crt is empty"} {
		if p := s.files[i].Problem; p == nil || !strings.HasPrefix(p.Message, want) {
			t.Errorf("file %d: %+v, want %q", i, p, want)
		}
	}

	// A wrong passphrase is the sensor's own message, not a Go error.
	test.Type(s.hostname, "sensor-01.plant.example")
	test.Type(s.passphrase, "wrong")
	test.Tap(s.checkBtn)
	s.tasks.Wait()
	if p := s.files[1].Problem; p == nil || p.Code != certs.CodePassphrase || p.Message != "Passphrase does not match to the key" {
		t.Errorf("wrong passphrase: %+v", p)
	}
	// The right one opens the key.
	s.passphrase.SetText("Sensor.Pass-1")
	test.Tap(s.checkBtn)
	s.tasks.Wait()
	if got := strings.Join(s.files[1].Summary, ""); got != "private key RSA 2048 bits" {
		t.Errorf("right passphrase: %q", got)
	}
	test.Tap(s.clearBtn)
	if len(s.files) != 0 || !s.checkBtn.Disabled() {
		t.Error("Clear left files")
	}
}
