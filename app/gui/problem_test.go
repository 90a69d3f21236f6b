package gui

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/activation"
)

// TestProblemFor: every error a screen can meet becomes a code, a message
// and a fix, and the Go error string never is the message.
func TestProblemFor(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"wrong passphrase", fmt.Errorf("key: %w", certs.ErrIncorrectPassphrase), certs.CodePassphrase},
		{"passphrase missing", certs.ErrPassphraseRequired, certs.CodePassphrase},
		{"not a key", &certs.FormatError{Want: certs.ErrNoKey, Looks: "a JPEG image"}, certs.CodeKeyUnreadable},
		{"not a certificate", &certs.FormatError{Want: certs.ErrNoCertificate}, certs.CodeCertUnreadable},
		{"not a PKCS#12", &certs.FormatError{Want: certs.ErrNotPKCS12}, certs.CodePFXUnreadable},
		{"unknown host", &sshconn.UnknownHostError{Host: "192.0.2.10:22", KeyType: "ssh-ed25519", Fingerprint: "SHA256:abc"}, codeUnknown},
		{"changed host key", &sshconn.HostKeyChangedError{Host: "192.0.2.10:22", Fingerprint: "SHA256:def"}, codeChanged},
		{"pinned key mismatch", &sshconn.PinnedKeyMismatchError{Host: "192.0.2.11:22"}, codeChanged},
		{"refused sign-in", &sshconn.AuthError{Host: "192.0.2.10:22", User: "admin", Err: errors.New("x")}, codeAuth},
		{"no auth", sshconn.ErrNoAuth, codeAuth},
		{"preflight", &provision.PreflightError{Reason: "sensor name differs"}, provision.CodePreflight},
		{"preflight identity", &provision.PreflightError{Reason: "sensor name differs", Code: provision.CodeIdentityMismatch}, provision.CodeIdentityMismatch},
		{"remote refusal", &provision.RemoteError{Command: "apply", Exit: 1, Message: "bundle refused"}, provision.CodePushFailed},
		{"activation", &activation.Error{Code: activation.CodeWrongSensor, Msg: "issued for sensor-02"}, activation.CodeWrongSensor},
		{"missing file", &fs.PathError{Op: "open", Path: "/x/sensor.crt", Err: os.ErrNotExist}, codeFile},
		{"cancelled", fmt.Errorf("push: %w", context.Canceled), codeCancelled},
		{"refused connection", &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}, codeUnreach},
		{"anything else", errors.New("something odd"), codeUnexpected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := problemFor("Doing it", c.err)
			if f.Code != c.code {
				t.Fatalf("code %s, want %s (%+v)", f.Code, c.code, f)
			}
			if f.Message == "" || f.Hint == "" || f.Severity == "" {
				t.Errorf("incomplete finding %+v", f)
			}
			if strings.Contains(f.Message, c.err.Error()) && c.err.Error() != "" && c.code != activation.CodeWrongSensor {
				t.Errorf("the message carries the Go error: %q", f.Message)
			}
		})
	}
}

// TestCAProblem: the local CA's own passphrase and a missing CA say so in
// the CA's words, never as the sensor key's TL-CERT-003 with its openssl
// advice; anything else is problemFor's.
func TestCAProblem(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		code string
		word string
	}{
		"wrong passphrase": {&caLoadError{"/ca", fmt.Errorf("root.key: %w", certs.ErrIncorrectPassphrase)}, codeCA, "passphrase is wrong"},
		"no passphrase":    {&caLoadError{"/ca", certs.ErrPassphraseRequired}, codeCA, "passphrase is wrong"},
		"no CA":            {&caLoadError{"/ca", &fs.PathError{Op: "open", Path: "/ca/root.crt", Err: os.ErrNotExist}}, codeCA, "no local CA in /ca"},
		"other":            {errors.New("disk on fire"), codeUnexpected, "failed"},
	} {
		f := caProblem("Issuing", c.err)
		if f.Code != c.code || !strings.Contains(f.Message, c.word) || f.Hint == "" || strings.Contains(f.Hint, "openssl") {
			t.Errorf("%s: %+v", name, f)
		}
	}
}

// TestPushProblem: a failed push shows provision's code and message, the
// app's fix where provision's names a CLI flag, never the Go error.
func TestPushProblem(t *testing.T) {
	for _, c := range provision.PushCodes() {
		r := provision.Result{Sensor: "sensor-01", Outcome: provision.OutcomeFailed, Step: provision.StepApply, Code: c.Code, Fix: c.Fix,
			Error: "provision: some Go error text --accept-warnings"}
		f := pushProblem(r)
		if f.Code != c.Code || !strings.HasPrefix(f.Message, c.Message) || f.Hint == "" || f.Severity == "" {
			t.Errorf("%s: %+v", c.Code, f)
		}
		if strings.Contains(f.Message, "Go error") || strings.Contains(f.Hint, "--accept") || strings.Contains(f.Hint, "--confirm-timeout") ||
			strings.Contains(f.Hint, "TAPLINE_") {
			t.Errorf("%s: CLI or Go wording in %+v", c.Code, f)
		}
	}
	f := pushProblem(provision.Result{Outcome: provision.OutcomeRefused, Step: provision.StepApply, Code: provision.CodeApplyRefused,
		ApplianceCode: "TL-CERT-004"})
	if !strings.Contains(f.Message, "TL-CERT-004") {
		t.Errorf("appliance code not shown: %+v", f)
	}
	if f := pushProblem(provision.Result{Outcome: provision.OutcomeFailed}); f.Code != provision.CodePushFailed || f.Hint == "" {
		t.Errorf("no code: %+v", f)
	}
}

// TestCodesDocumented: every code of the app's own (the TL-GUI constants
// of problem.go) is in docs/desktop.md's table, and the table names no code
// the app does not have.
func TestCodesDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "problem.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, v := range s.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && strings.HasPrefix(lit.Value, `"TL-GUI-`) {
					codes[strings.Trim(lit.Value, `"`)] = true
				}
			}
		}
	}
	if len(codes) < 10 {
		t.Fatalf("found %d codes in problem.go", len(codes))
	}
	doc, err := os.ReadFile("../../docs/desktop.md")
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (TL-GUI-\d{3}) \|`).FindAllStringSubmatch(string(doc), -1) {
		table[m[1]] = true
	}
	for c := range codes {
		if !table[c] {
			t.Errorf("docs/desktop.md does not list %s", c)
		}
	}
	for c := range table {
		if !codes[c] {
			t.Errorf("docs/desktop.md lists %s, which the app does not have", c)
		}
	}
}

// TestPKCS12PassphraseProblem: a wrong passphrase for a PKCS#12 file is
// certs' TL-CERT-041 with its openssl pkcs12 advice, never a private key's
// TL-CERT-003 with openssl pkey: on the workbench, and when the wizard's
// push builds the bundle from a .pfx (a real Session.Prepare); a key's
// wrong passphrase stays TL-CERT-003.
func TestPKCS12PassphraseProblem(t *testing.T) {
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Plant", Now: testNow.Add(-24 * time.Hour), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	is, err := c.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", KeyType: ca.P256, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := ca.Export(dir, "sensor-01", is, ca.ExportOptions{PFXPassphrase: []byte("Export.Pass-1"), KeyPassphrase: []byte("Key.Pass-1"), KDFIterations: 1000}); err != nil {
		t.Fatal(err)
	}
	pfx, key := filepath.Join(dir, "sensor-01.pfx"), filepath.Join(dir, "sensor-01.key")
	is041 := func(where string, f certs.Finding) {
		t.Helper()
		if f.Code != certs.CodePFXPassphrase || !strings.Contains(f.Hint, "openssl pkcs12") || strings.Contains(f.Hint, "pkey") || f.Message == "" {
			t.Errorf("%s: %+v, want TL-CERT-041 with its fix", where, f)
		}
	}

	// The workbench.
	data, _ := os.ReadFile(pfx)
	lf := describeFile(pfx, data, []byte("wrong"))
	if lf.Problem == nil {
		t.Fatal("a wrong PKCS#12 passphrase read the file")
	}
	is041("workbench", *lf.Problem)
	data, _ = os.ReadFile(key)
	if lf := describeFile(key, data, []byte("wrong")); lf.Problem == nil || lf.Problem.Code != certs.CodePassphrase {
		t.Errorf("a key's wrong passphrase: %+v", lf.Problem)
	}

	// The push's bundle, built by the session from the .pfx.
	f := startDemo(t, 1)
	inv, err := provision.ReadInventory(f.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	row := inv.Rows[0]
	row.CertSource, row.PFX, row.Cert, row.Key, row.Chain = provision.CertPKCS12, pfx, "", "", ""
	env := demoEnv(t, test.NewTempApp(t), f)
	_, err = env.session(provision.Secrets{SSHPassword: f.SSHPassword, CertPassphrase: []byte("wrong")}, nil).Prepare(context.Background(), row)
	if err == nil {
		t.Fatal("the bundle was built with a wrong PKCS#12 passphrase")
	}
	fs := problemsFor("Building the bundle", bundleError(row, err))
	is041("push", fs[0])
	// A key file's passphrase is the key's.
	row.CertSource, row.PFX, row.Cert, row.Key = provision.CertFiles, "", filepath.Join(dir, "sensor-01.crt"), key
	_, err = env.session(provision.Secrets{SSHPassword: f.SSHPassword, CertPassphrase: []byte("wrong")}, nil).Prepare(context.Background(), row)
	if fs := problemsFor("Building the bundle", bundleError(row, err)); err == nil || fs[0].Code != certs.CodePassphrase {
		t.Errorf("a key's wrong passphrase at the push: %v %+v", err, fs)
	}
}
