package gui

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/provision"
)

// Certificate sources on the Certificate page.
const (
	certModeFiles   = "Import a CA-signed certificate"
	certModePFX     = "Import a PKCS#12 file"
	certModeLocal   = "Issue one from the local CA"
	certModeSelfSig = "Keep the sensor's self-signed certificate (test setups only)"
)

// certStep chooses the sensor's certificate (docs/field-facts.md step 4) and
// shows what certs.CheckSensor finds for the hostname of the Network page.
type certStep struct {
	env   Env
	wiz   *wizardScreen
	tasks tasks

	mode       *widget.RadioGroup
	cert       *widget.Entry
	key        *widget.Entry
	chain      *widget.Entry
	pfx        *widget.Entry
	passphrase *widget.Entry
	caPass     *widget.Entry
	issueBtn   *widget.Button
	validation *widget.Check
	crl        *widget.Entry
	crlAdd     *widget.Button // adds a CRL file to crl
	name       *widget.Entry
	checkBtn   *widget.Button
	verdict    *widget.Label
	notes      notes
	filesBox   *fyne.Container
	pfxBox     *fyne.Container
	localBox   *fyne.Container
	page       *fyne.Container

	checked string // the inputs the last check ran on
	report  *certs.Report
}

func newCertStep(env Env, wiz *wizardScreen) *certStep {
	s := &certStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui},
		cert: widget.NewEntry(), key: widget.NewEntry(), chain: widget.NewEntry(), pfx: widget.NewEntry(),
		passphrase: widget.NewPasswordEntry(), caPass: widget.NewPasswordEntry(), crl: widget.NewEntry(), name: widget.NewEntry(),
		verdict: widget.NewLabel("")}
	s.verdict.Wrapping = fyne.TextWrapWord
	s.cert.SetPlaceHolder("sensor-01.crt (PEM or DER)")
	s.key.SetPlaceHolder("sensor-01.key (PEM)")
	s.chain.SetPlaceHolder("optional chain.pem, every CA up to the root")
	s.pfx.SetPlaceHolder("sensor-01.p12 or .pfx")
	s.crl.SetPlaceHolder("optional CRL files (PEM or DER), every CA level's, separated by ;")
	s.name.SetPlaceHolder("optional, e.g. plant-ca-2026; the sensor's status shows it")
	s.passphrase.SetPlaceHolder("key or PKCS#12 passphrase, if any; kept in memory only")
	s.caPass.SetPlaceHolder("the local CA's passphrase")
	s.mode = widget.NewRadioGroup([]string{certModeFiles, certModePFX, certModeLocal, certModeSelfSig}, func(string) { s.syncMode() })
	s.validation = widget.NewCheck("Enable certificate validation (expiry, chain, revocation)", func(bool) { s.invalidate() })
	if env.App != nil {
		s.validation.SetChecked(LoadSettings(env.App.Preferences()).Validation)
	}
	s.issueBtn = widget.NewButtonWithIcon("Issue for this sensor", theme.DocumentCreateIcon(), s.onIssue)
	s.checkBtn = widget.NewButtonWithIcon("Check", theme.ConfirmIcon(), s.onCheck)
	s.crlAdd = widget.NewButtonWithIcon("", theme.ContentAddIcon(), func() {
		s.env.openFile(func(p string) {
			if t := strings.TrimSpace(s.crl.Text); t != "" {
				p = t + ";" + p
			}
			s.crl.SetText(p)
		})
	})
	for _, e := range []*widget.Entry{s.cert, s.key, s.chain, s.pfx, s.passphrase, s.crl} {
		e.OnChanged = func(string) { s.invalidate() }
		e.OnSubmitted = func(string) { s.onEnter() }
	}
	s.caPass.OnChanged = func(string) { s.notes.clear(fieldCAPass) }
	s.caPass.OnSubmitted = func(string) { s.onIssue() }
	n := &s.notes
	pick := func(field string, e *widget.Entry) *widget.FormItem {
		b := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { s.browse(e) })
		return &widget.FormItem{Text: field, Widget: n.under(field, newBorder(nil, nil, nil, b, e), e)}
	}
	s.filesBox = container.NewVBox(&widget.Form{Items: []*widget.FormItem{
		pick(fieldCert, s.cert), pick(fieldKey, s.key), pick(fieldChain, s.chain),
	}})
	s.pfxBox = container.NewVBox(&widget.Form{Items: []*widget.FormItem{pick(fieldPFX, s.pfx)}})
	s.localBox = container.NewVBox(&widget.Form{Items: []*widget.FormItem{
		{Text: fieldCAPass, Widget: n.under(fieldCAPass, s.caPass, s.caPass), HintText: "the passphrase chosen when the local CA was created (Certificates, Local CA)"},
	}}, s.issueBtn)
	form := &widget.Form{Items: []*widget.FormItem{
		{Text: "Certificate name", Widget: s.name},
		{Text: fieldPass, Widget: n.under(fieldPass, s.passphrase, s.passphrase)},
		{Text: "", Widget: s.validation, HintText: "a setting the push gives the sensor; checked here now as well"},
		{Text: fieldCRL, Widget: n.under(fieldCRL, newBorder(nil, nil, nil, s.crlAdd, s.crl), s.crl),
			HintText: "every CA level's (the issuing CA's, the root's), carried to the sensor in the bundle; + adds a file"},
	}}
	s.page = container.NewVBox(s.mode, s.filesBox, s.pfxBox, s.localBox, form,
		container.NewHBox(s.checkBtn), s.verdict, n.at(fieldCheck, nil))
	s.mode.SetSelected(certModeFiles)
	return s
}

// Certificate page fields: the keys of its notes.
const (
	fieldCert   = "Certificate"
	fieldKey    = "Private key"
	fieldChain  = "Chain"
	fieldPFX    = "PKCS#12"
	fieldCAPass = "CA passphrase"
	fieldPass   = "Passphrase"
	fieldCRL    = "CRL"
	fieldCheck  = "Check" // the check as a whole
)

// certField says which field of the Certificate page a finding of the
// sensor's certificate check is about, so it shows under that field.
func certField(code string, pfx bool) string {
	switch code {
	case certs.CodePassphrase, certs.CodePassphraseChars:
		return fieldPass
	case certs.CodeCRLSignature, certs.CodeCRLNotCurrent, certs.CodeCRLUnreadable, certs.CodeCRLNoneForIssuer,
		certs.CodeCRLNotGiven, certs.CodeCRLUnverifiable:
		return fieldCRL
	}
	if pfx {
		return fieldPFX // the key, the certificate and the chain all come from it
	}
	switch code {
	case certs.CodeKeyUnreadable, certs.CodeKeyMismatch:
		return fieldKey
	case certs.CodeChainOfTrust, certs.CodeChainUnreadable, certs.CodeNoChain:
		return fieldChain
	}
	return fieldCert
}

func (s *certStep) title() string { return "Certificate" }

func (s *certStep) content() fyne.CanvasObject { return s.page }

func (s *certStep) enter() {
	s.invalidate() // the Network page's name or address may have changed
	if s.mode.Selected != certModeSelfSig && s.checked != s.inputs() && (s.cert.Text != "" || s.pfx.Text != "") {
		s.onCheck()
	}
}

func (s *certStep) browse(e *widget.Entry) {
	s.env.openFile(func(p string) { e.SetText(p) })
}

func (s *certStep) syncMode() {
	show := func(o fyne.CanvasObject, on bool) {
		if on {
			o.Show()
		} else {
			o.Hide()
		}
	}
	show(s.filesBox, s.mode.Selected == certModeFiles || s.mode.Selected == certModeLocal && s.cert.Text != "")
	show(s.pfxBox, s.mode.Selected == certModePFX)
	show(s.localBox, s.mode.Selected == certModeLocal)
	s.invalidate()
}

// invalidate forgets the last check, and every finding it showed, when an
// input changed: they were about other files or another name.
func (s *certStep) invalidate() {
	if s.checked != "" && s.checked != s.inputs() {
		s.checked, s.report = "", nil
		s.verdict.SetText("Changed since the last check: press Check.")
		s.notes.clear()
	} else if s.checked == "" {
		s.notes.clear()
	}
	if s.wiz != nil && s.wiz.nextBtn != nil {
		s.wiz.update()
	}
}

func (s *certStep) inputs() string {
	return strings.Join([]string{s.mode.Selected, s.cert.Text, s.key.Text, s.chain.Text, s.pfx.Text, s.passphrase.Text, s.crl.Text,
		s.wiz.net.hostname.Text, s.wiz.net.ip.Text, boolStr(s.validation.Checked)}, "\x00")
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (s *certStep) onEnter() {
	if ok, _ := s.ready(); ok {
		s.wiz.onNext()
		return
	}
	s.onCheck()
}

// target is the sensor the certificate is for: the Network page's hostname
// and final address.
func (s *certStep) target() certs.Target {
	row := s.wiz.row()
	t := certs.Target{Hostname: row.NewHostname, CRLValidation: s.validation.Checked}
	if a, err := netip.ParseAddr(row.FinalIP()); err == nil {
		t.IP = a
	}
	return t
}

// onIssue issues the sensor's certificate from the local CA and exports the
// files under the files folder; they are then checked like imported ones.
// The sensor's key is written encrypted with the CA's passphrase (never in
// clear on the laptop), and the page's passphrase field takes it in memory
// so the check and the push can read the key.
func (s *certStep) onIssue() {
	t := s.target()
	s.notes.clear(fieldCAPass)
	if t.Hostname == "" {
		s.notes.set(fieldCAPass, fieldProblem("Hostname", "Enter the sensor's hostname on the Network page first."))
		s.wiz.reveal(s.notes.first())
		return
	}
	if s.caPass.Text == "" {
		s.notes.set(fieldCAPass, fieldProblem(fieldCAPass, "Enter the local CA's passphrase; the app never saves it."))
		s.wiz.reveal(s.notes.first())
		return
	}
	passText := s.caPass.Text
	pass := []byte(passText)
	caDir := filepath.Join(s.env.filesDir(), "ca")
	outDir := filepath.Join(s.env.filesDir(), "issued", t.Hostname)
	req := ca.IssueRequest{Hostname: t.Hostname, IP: t.IP, KeyType: ca.RSA2048, Now: s.env.Now(), Rand: s.env.Rand}
	s.issueBtn.Disable()
	s.verdict.SetText("Issuing a certificate for " + t.Hostname + "…")
	validation := s.validation.Checked
	type out struct {
		paths, crls []string
		err         error
	}
	run(&s.tasks, func(context.Context) out {
		c, err := ca.Load(caDir, pass)
		if err != nil {
			return out{err: &caLoadError{caDir, err}}
		}
		is, err := c.Issue(req)
		if err != nil {
			return out{err: err}
		}
		if err := c.SaveState(caDir); err != nil {
			return out{err: err}
		}
		var crls []string
		if validation {
			// The sensor checks every certificate of the path: the bundle
			// carries a current CRL of every CA level.
			if crls, _, err = publishCRLs(c, caDir, req.Now, req.Rand); err != nil {
				return out{err: err}
			}
		}
		if err := safefile.MkdirPrivate(outDir); err != nil {
			return out{err: err}
		}
		paths, err := ca.Export(outDir, t.Hostname, is, ca.ExportOptions{Rand: req.Rand, KeyPassphrase: pass, KDFIterations: s.env.caKDF})
		return out{paths, crls, err}
	}, func(o out) {
		s.issueBtn.Enable()
		if o.err != nil {
			s.verdict.SetText("")
			s.notes.set(fieldCAPass, caProblem("Issuing from the local CA", o.err))
			s.wiz.reveal(s.notes.first())
			return
		}
		for _, p := range o.paths {
			switch {
			case strings.HasSuffix(p, "-chain.pem"):
				s.chain.SetText(p)
			case strings.HasSuffix(p, ".crt"):
				s.cert.SetText(p)
			case strings.HasSuffix(p, ".key"):
				s.key.SetText(p)
				s.passphrase.SetText(passText)
			}
		}
		if len(o.crls) > 0 {
			s.crl.SetText(strings.Join(o.crls, ";"))
		}
		s.syncMode()
		s.onCheck()
	})
}

// onCheck runs certs.CheckSensor on the chosen files off the UI goroutine.
func (s *certStep) onCheck() {
	if s.mode.Selected == certModeSelfSig {
		return
	}
	t := s.target()
	s.notes.clear()
	if t.Hostname == "" {
		s.notes.set(fieldCheck, fieldProblem("Hostname", "Enter the sensor's hostname on the Network page first."))
		s.wiz.reveal(s.notes.first())
		return
	}
	type file struct {
		role, field, path string
	}
	var fs []file
	switch s.mode.Selected {
	case certModePFX:
		fs = []file{{"pfx", fieldPFX, s.pfx.Text}}
		if strings.TrimSpace(s.pfx.Text) == "" {
			s.notes.set(fieldPFX, fieldProblem(fieldPFX, "Choose the sensor's .p12 or .pfx file."))
		}
	default:
		fs = []file{{"cert", fieldCert, s.cert.Text}, {"key", fieldKey, s.key.Text}, {"chain", fieldChain, s.chain.Text}}
		if s.mode.Selected == certModeLocal && strings.TrimSpace(s.cert.Text) == "" {
			s.notes.set(fieldCAPass, fieldProblem("Issue for this sensor", "Enter the CA passphrase and press Issue for this sensor first."))
		} else {
			if strings.TrimSpace(s.cert.Text) == "" {
				s.notes.set(fieldCert, fieldProblem(fieldCert, "Choose the sensor's certificate file (.crt, PEM or DER)."))
			}
			if strings.TrimSpace(s.key.Text) == "" {
				s.notes.set(fieldKey, fieldProblem(fieldKey, "Choose the certificate's private key file (.key, PEM)."))
			}
		}
	}
	if first := s.notes.first(); first != nil {
		s.verdict.SetText("")
		s.wiz.reveal(first)
		return
	}
	for _, p := range strings.Split(s.crl.Text, ";") {
		if p = strings.TrimSpace(p); p != "" {
			fs = append(fs, file{"crl", fieldCRL, p})
		}
	}
	pass := []byte(s.passphrase.Text)
	now := s.env.Now()
	inputs := s.inputs()
	s.checkBtn.Disable()
	s.verdict.SetText("Checking…")
	pfx := s.mode.Selected == certModePFX
	type out struct {
		r   *certs.Report
		bad []fieldFinding // files that could not be read, under their field
	}
	run(&s.tasks, func(context.Context) out {
		src := certs.Source{Passphrase: pass, Names: map[string]string{}}
		var bad []fieldFinding
		for _, f := range fs {
			p := strings.TrimSpace(f.path)
			if p == "" {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				bad = append(bad, fieldFinding{problemFor("Reading "+filepath.Base(p), err), f.field})
				continue
			}
			src.Names[f.role] = filepath.Base(p)
			if f.role == "crl" {
				src.Names["crl"+strconv.Itoa(len(src.CRLs)+1)] = filepath.Base(p)
			}
			switch f.role {
			case "cert":
				src.Cert = data
			case "key":
				src.Key = data
			case "chain":
				src.Chain = data
			case "pfx":
				src.PFX = data
			case "crl":
				src.CRLs = append(src.CRLs, data)
			}
		}
		return out{certs.CheckSensor(src, t, now), bad}
	}, func(o out) {
		s.checkBtn.Enable()
		if inputs != s.inputs() {
			return // the engineer changed something meanwhile; that check is stale
		}
		r := o.r
		lead := make([]certs.Finding, 0, len(o.bad)+len(r.Findings))
		for _, b := range o.bad {
			lead = append(lead, b.Finding)
		}
		r.Findings = append(lead, r.Findings...)
		s.checked, s.report = inputs, r
		byField := map[string][]certs.Finding{}
		for _, b := range o.bad {
			byField[b.field] = append(byField[b.field], b.Finding)
		}
		for _, f := range r.Findings[len(o.bad):] {
			k := certField(f.Code, pfx)
			byField[k] = append(byField[k], f)
		}
		for k, fs := range byField {
			s.notes.set(k, fs...)
		}
		errs, warns := countSeverity(r.Findings)
		switch {
		case len(o.bad) > 0 || r.HasErrors():
			s.verdict.SetText(fmt.Sprintf("The sensor would refuse this certificate for %s: %s, each under its field above.", t.Hostname, plural(errs, "error")))
		case warns > 0:
			s.verdict.SetText(fmt.Sprintf("The sensor would accept this certificate for %s, with %s under the fields above. SHA-256 %s",
				t.Hostname, plural(warns, "warning"), r.FingerprintSHA256))
		default:
			s.verdict.SetText("The sensor would accept this certificate for " + t.Hostname + ". SHA-256 " + r.FingerprintSHA256)
		}
		s.wiz.update()
		if first := s.notes.first(); first != nil {
			s.wiz.reveal(first)
		} else {
			s.wiz.reveal(s.verdict)
		}
	})
}

// countSeverity counts the errors and warnings of fs.
func countSeverity(fs []certs.Finding) (errs, warns int) {
	for _, f := range fs {
		switch f.Severity {
		case certs.SeverityError:
			errs++
		case certs.SeverityWarning:
			warns++
		}
	}
	return errs, warns
}

// plural is "1 error", "2 errors".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func (s *certStep) ready() (bool, fyne.CanvasObject) {
	if s.mode.Selected == certModeSelfSig {
		return true, nil // nothing to check here; the push pins what the sensor serves
	}
	if s.tasks.Busy() {
		return false, s.verdict
	}
	if s.report == nil || s.checked != s.inputs() {
		s.onCheck() // Next checks what is chosen; its findings show under the fields
		return false, s.notes.first()
	}
	if hasErrorFinding(s.report.Findings) {
		return false, s.notes.first()
	}
	return true, nil
}

// fill writes the certificate choice into row.
func (s *certStep) fill(row *provision.Row) {
	row.CertName = strings.TrimSpace(s.name.Text)
	row.CRLValidation = s.validation.Checked
	row.CRL = strings.TrimSpace(s.crl.Text)
	switch s.mode.Selected {
	case certModeSelfSig:
		row.CertSource = provision.CertSelfSigned
		row.CRL = ""
	case certModePFX:
		row.CertSource = provision.CertPKCS12
		row.PFX = strings.TrimSpace(s.pfx.Text)
	default:
		row.CertSource = provision.CertFiles
		row.Cert = strings.TrimSpace(s.cert.Text)
		row.Key = strings.TrimSpace(s.key.Text)
		row.Chain = strings.TrimSpace(s.chain.Text)
	}
}
