package gui

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision"
)

// Certificate sources on the Certificate page.
const (
	certModeFiles   = "Import a CA-signed certificate"
	certModePFX     = "Import a PKCS#12 file"
	certModeLocal   = "Issue one from the local CA"
	certModeSelfSig = "Keep the sensor's self-signed certificate (test setups only)"
)

// certStep chooses the sensor's certificate (FIELD-FACTS.md step 4) and
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
	name       *widget.Entry
	checkBtn   *widget.Button
	verdict    *widget.Label
	findings   *findingsView
	filesBox   *fyne.Container
	pfxBox     *fyne.Container
	localBox   *fyne.Container

	checked string // the inputs the last check ran on
	report  *certs.Report
}

func newCertStep(env Env, wiz *wizardScreen) *certStep {
	s := &certStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui},
		cert: widget.NewEntry(), key: widget.NewEntry(), chain: widget.NewEntry(), pfx: widget.NewEntry(),
		passphrase: widget.NewPasswordEntry(), caPass: widget.NewPasswordEntry(), crl: widget.NewEntry(), name: widget.NewEntry(),
		verdict: widget.NewLabel(""), findings: newFindingsView("")}
	s.verdict.Wrapping = fyne.TextWrapWord
	s.cert.SetPlaceHolder("sensor-01.crt (PEM or DER)")
	s.key.SetPlaceHolder("sensor-01.key (PEM)")
	s.chain.SetPlaceHolder("optional chain.pem, every CA up to the root")
	s.pfx.SetPlaceHolder("sensor-01.p12 or .pfx")
	s.crl.SetPlaceHolder("optional CRL file (PEM or DER)")
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
	for _, e := range []*widget.Entry{s.cert, s.key, s.chain, s.pfx, s.passphrase, s.crl} {
		e.OnChanged = func(string) { s.invalidate() }
		e.OnSubmitted = func(string) { s.onEnter() }
	}
	s.caPass.OnSubmitted = func(string) { s.onIssue() }
	pick := func(e *widget.Entry) fyne.CanvasObject {
		b := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { s.browse(e) })
		return newBorder(nil, nil, nil, b, e)
	}
	s.filesBox = container.NewVBox(&widget.Form{Items: []*widget.FormItem{
		{Text: "Certificate", Widget: pick(s.cert)},
		{Text: "Private key", Widget: pick(s.key)},
		{Text: "Chain", Widget: pick(s.chain)},
	}})
	s.pfxBox = container.NewVBox(&widget.Form{Items: []*widget.FormItem{{Text: "PKCS#12", Widget: pick(s.pfx)}}})
	s.localBox = container.NewVBox(&widget.Form{Items: []*widget.FormItem{{Text: "CA passphrase", Widget: s.caPass}}}, s.issueBtn)
	s.mode.SetSelected(certModeFiles)
	return s
}

func (s *certStep) title() string { return "Certificate" }

func (s *certStep) content() fyne.CanvasObject {
	return container.NewVBox(s.mode, s.filesBox, s.pfxBox, s.localBox,
		&widget.Form{Items: []*widget.FormItem{
			{Text: "Certificate name", Widget: s.name},
			{Text: "Passphrase", Widget: s.passphrase},
			{Text: "", Widget: s.validation, HintText: "a setting the push gives the sensor; checked here now as well"},
			{Text: "CRL", Widget: s.crl, HintText: "carried to the sensor in the bundle"},
		}},
		container.NewHBox(s.checkBtn), s.verdict, s.findings.box)
}

func (s *certStep) enter() {
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

// invalidate forgets the last check when an input changed.
func (s *certStep) invalidate() {
	if s.checked != "" && s.checked != s.inputs() {
		s.checked, s.report = "", nil
		s.verdict.SetText("")
		s.findings.set(nil)
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
func (s *certStep) onIssue() {
	t := s.target()
	if t.Hostname == "" {
		s.wiz.findings.set([]certs.Finding{fieldProblem("Hostname", "Enter the sensor's hostname on the Network page first.")})
		return
	}
	pass := []byte(s.caPass.Text)
	caDir := filepath.Join(s.env.filesDir(), "ca")
	outDir := filepath.Join(s.env.filesDir(), "issued", t.Hostname)
	req := ca.IssueRequest{Hostname: t.Hostname, IP: t.IP, KeyType: ca.RSA2048, Now: s.env.Now(), Rand: s.env.Rand}
	s.issueBtn.Disable()
	s.verdict.SetText("Issuing a certificate for " + t.Hostname + "…")
	type out struct {
		paths []string
		err   error
	}
	run(&s.tasks, func(context.Context) out {
		c, err := ca.Load(caDir, pass)
		if err != nil {
			return out{err: err}
		}
		is, err := c.Issue(req)
		if err != nil {
			return out{err: err}
		}
		if err := c.SaveState(caDir); err != nil {
			return out{err: err}
		}
		if err := os.MkdirAll(outDir, 0o700); err != nil {
			return out{err: err}
		}
		paths, err := ca.Export(outDir, t.Hostname, is, ca.ExportOptions{Rand: req.Rand})
		return out{paths, err}
	}, func(o out) {
		s.issueBtn.Enable()
		if o.err != nil {
			s.verdict.SetText("")
			s.findings.set([]certs.Finding{problemFor("Issuing from the local CA", o.err)})
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
			}
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
	if t.Hostname == "" {
		s.findings.set([]certs.Finding{fieldProblem("Hostname", "Enter the sensor's hostname on the Network page first.")})
		return
	}
	type file struct {
		field, path string
	}
	var fs []file
	switch s.mode.Selected {
	case certModePFX:
		fs = []file{{"pfx", s.pfx.Text}}
	default:
		fs = []file{{"cert", s.cert.Text}, {"key", s.key.Text}, {"chain", s.chain.Text}}
	}
	if p := strings.TrimSpace(s.crl.Text); p != "" {
		fs = append(fs, file{"crl", p})
	}
	pass := []byte(s.passphrase.Text)
	now := s.env.Now()
	inputs := s.inputs()
	s.checkBtn.Disable()
	s.verdict.SetText("Checking…")
	run(&s.tasks, func(context.Context) *certs.Report {
		src := certs.Source{Passphrase: pass, Names: map[string]string{}}
		var bad []certs.Finding
		for _, f := range fs {
			p := strings.TrimSpace(f.path)
			if p == "" {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				bad = append(bad, problemFor("Reading "+filepath.Base(p), err))
				continue
			}
			src.Names[f.field] = filepath.Base(p)
			switch f.field {
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
		r := certs.CheckSensor(src, t, now)
		r.Findings = append(bad, r.Findings...)
		return r
	}, func(r *certs.Report) {
		s.checkBtn.Enable()
		if inputs != s.inputs() {
			return // the engineer changed something meanwhile; that check is stale
		}
		s.checked, s.report = inputs, r
		s.findings.set(r.Findings)
		switch {
		case r.HasErrors():
			s.verdict.SetText("The sensor would refuse this certificate for " + t.Hostname + ".")
		default:
			s.verdict.SetText("The sensor would accept this certificate for " + t.Hostname + ". SHA-256 " + r.FingerprintSHA256)
		}
		s.wiz.update()
	})
}

func (s *certStep) ready() (bool, []certs.Finding) {
	if s.mode.Selected == certModeSelfSig {
		return true, nil // nothing to check here; the push pins what the sensor serves
	}
	if s.report == nil || s.checked != s.inputs() {
		return false, []certs.Finding{fieldProblem("Certificate", "Choose the files and press Check.")}
	}
	if s.report.HasErrors() {
		return false, s.report.Findings
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
