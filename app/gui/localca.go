package gui

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/safefile"
)

// caPanel manages the local (offline) CA of certs/ca: create, unlock,
// issue, revoke, publish the CRL and export a sensor's files. The CA's
// passphrase lives only in the entry while the app runs.
type caPanel struct {
	env   Env
	tasks tasks
	ca    *ca.CA
	last  *ca.Issued // the certificate issued last in this session
	sel   int        // selected row of the issued list, -1 none

	status     *widget.Label
	passphrase *widget.Entry
	name       *widget.Entry
	country    *widget.Entry
	org        *widget.Entry
	crlURL     *widget.Entry
	rootCRLURL *widget.Entry // with an intermediate: where the root's CRL is published
	interm     *widget.Check
	createBtn  *widget.Button
	unlockBtn  *widget.Button

	issueHost *widget.Entry
	issueIP   *widget.Entry
	keyType   *widget.Select
	issueBtn  *widget.Button
	pfxPass   *widget.Entry
	exportBtn *widget.Button
	issued    *widget.List
	revokeBtn *widget.Button
	crlBtn    *widget.Button
	result    *widget.Label
	findings  *findingsView
	// outcome holds result and findings; it moves under the buttons of the
	// action that ran (slots), so what an action says is next to it.
	outcome *fyne.Container
	slots   map[string]*fyne.Container
	left    *container.Scroll
}

// Where an action's outcome shows: under the buttons that started it.
const (
	slotCreate = "create" // Create CA, Unlock
	slotIssue  = "issue"  // Issue, Export
	slotIssued = "issued" // Revoke, Publish CRL
)

func newCAPanel(env Env) *caPanel {
	p := &caPanel{
		env:        env,
		tasks:      tasks{ui: env.ui},
		sel:        -1,
		status:     widget.NewLabel(""),
		passphrase: widget.NewPasswordEntry(),
		name:       widget.NewEntry(),
		country:    widget.NewEntry(),
		org:        widget.NewEntry(),
		crlURL:     widget.NewEntry(),
		rootCRLURL: widget.NewEntry(),
		interm:     widget.NewCheck("Intermediate CA signs the sensor certificates", nil),
		issueHost:  widget.NewEntry(),
		issueIP:    widget.NewEntry(),
		keyType:    widget.NewSelect([]string{string(ca.RSA2048), string(ca.RSA3072), string(ca.RSA4096), string(ca.P256)}, nil),
		pfxPass:    widget.NewPasswordEntry(),
		result:     widget.NewLabel(""),
		findings:   newFindingsView(""),
	}
	p.status.Wrapping = fyne.TextWrapWord
	p.result.Wrapping = fyne.TextWrapWord
	p.outcome = container.NewVBox(p.result, p.findings.box)
	p.result.Hide() // until an action says something
	p.slots = map[string]*fyne.Container{slotCreate: container.NewVBox(p.outcome), slotIssue: container.NewVBox(), slotIssued: container.NewVBox()}
	p.name.SetText("Tapline Offline Root CA")
	p.country.SetPlaceHolder("two letters, e.g. DE")
	p.org.SetPlaceHolder("the plant operator")
	p.crlURL.SetPlaceHolder("optional http:// URL the sensors fetch the CRL from")
	p.rootCRLURL.SetPlaceHolder("optional http:// URL of the root's CRL (root-crl.pem)")
	p.issueHost.SetPlaceHolder("sensor-01.plant.example")
	p.issueIP.SetPlaceHolder("optional SAN IP, e.g. 192.0.2.10")
	p.keyType.SetSelected(string(ca.RSA2048))
	p.pfxPass.SetPlaceHolder("optional: also write a PKCS#12")
	p.createBtn = widget.NewButton("Create CA", p.onCreate)
	p.unlockBtn = widget.NewButton("Unlock", p.onUnlock)
	p.issueBtn = widget.NewButton("Issue", p.onIssue)
	p.issueBtn.Importance = widget.HighImportance
	p.exportBtn = widget.NewButton("Export PEM set / PKCS#12", p.onExport)
	p.revokeBtn = widget.NewButton("Revoke selected", p.onRevoke)
	p.crlBtn = widget.NewButton("Publish CRL", p.onCRL)
	p.issued = widget.NewList(p.issuedLen, func() fyne.CanvasObject {
		return widget.NewLabel("sensor-00.plant.example  serial 00000000  until 2000-01-01")
	}, p.issuedItem)
	p.issued.OnSelected = func(id widget.ListItemID) { p.sel = id; p.sync() }
	p.issued.OnUnselected = func(widget.ListItemID) { p.sel = -1; p.sync() }
	p.sync()
	return p
}

func (p *caPanel) dir() string { return filepath.Join(p.env.filesDir(), "ca") }

func (p *caPanel) exists() bool {
	_, err := os.Stat(filepath.Join(p.dir(), ca.RootCertFile))
	return err == nil
}

func (p *caPanel) build() fyne.CanvasObject {
	form := &widget.Form{Items: []*widget.FormItem{
		{Text: "CA passphrase", Widget: p.passphrase, HintText: "encrypts the CA keys; never saved by the app"},
		{Text: "Root name", Widget: p.name},
		{Text: "Country (C)", Widget: p.country},
		{Text: "Organization (O)", Widget: p.org},
		{Text: "CRL URL", Widget: p.crlURL},
		{Text: "", Widget: p.interm},
	}}
	// The root's CRL URL goes in the intermediate: its row is there only
	// with one.
	rootRow := &widget.FormItem{Text: "Root CRL URL", Widget: p.rootCRLURL, HintText: "where sensors fetch the root's CRL"}
	create := widget.NewCard("Create or unlock", "", container.NewVBox(
		form,
		container.NewHBox(p.createBtn, p.unlockBtn), p.slots[slotCreate],
	))
	issue := widget.NewCard("Issue a sensor certificate", "", container.NewVBox(
		&widget.Form{Items: []*widget.FormItem{
			{Text: "Sensor hostname", Widget: p.issueHost},
			{Text: "Sensor IP", Widget: p.issueIP},
			{Text: "Key", Widget: p.keyType},
			{Text: "PKCS#12 passphrase", Widget: p.pfxPass, HintText: "never saved by the app"},
		}},
		container.NewHBox(p.issueBtn, p.exportBtn), p.slots[slotIssue],
	))
	list := widget.NewCard("Issued", "", newBorder(nil, container.NewVBox(container.NewHBox(p.revokeBtn, p.crlBtn), p.slots[slotIssued]), nil, nil, p.issued))
	column := container.NewVBox(p.status, create, issue)
	p.left = container.NewVScroll(column)
	p.interm.OnChanged = func(on bool) {
		items := form.Items[:len(form.Items)-1]
		if form.Items[len(form.Items)-1] != rootRow {
			items = form.Items
		}
		if on {
			items = append(items, rootRow)
		}
		form.Items = items
		form.Refresh()
		column.Refresh() // the card below moves down (or up)
		p.left.Refresh()
	}
	split := container.NewHSplit(p.left, list)
	split.SetOffset(0.55)
	return split
}

func (p *caPanel) issuedLen() int {
	if p.ca == nil {
		return 0
	}
	return len(p.ca.State.Issued)
}

func (p *caPanel) issuedItem(id widget.ListItemID, o fyne.CanvasObject) {
	if p.ca == nil || id >= len(p.ca.State.Issued) {
		return
	}
	r := p.ca.State.Issued[id]
	line := fmt.Sprintf("%s · %s · %s", r.Hostname, shortSerial(r.Serial), r.NotAfter.UTC().Format("2006-01-02"))
	for _, v := range p.ca.State.Revoked {
		if v.Serial == r.Serial {
			line += "  REVOKED"
		}
	}
	o.(*widget.Label).SetText(line)
}

func shortSerial(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

// sync sets the status line and which buttons may be pressed.
func (p *caPanel) sync() {
	busy := p.tasks.Busy()
	loaded := p.ca != nil
	switch {
	case loaded:
		issuer, _ := p.ca.Issuer()
		p.status.SetText(fmt.Sprintf("Local CA %q unlocked (issuer %q, until %s). %d issued, %d revoked. Kept in %s.",
			p.ca.Root.Subject.CommonName, issuer.Subject.CommonName, p.ca.Root.NotAfter.UTC().Format("2006-01-02"),
			len(p.ca.State.Issued), len(p.ca.State.Revoked), p.dir()))
	case p.exists():
		p.status.SetText("A local CA is kept in " + p.dir() + ". Enter its passphrase and press Unlock.")
	default:
		p.status.SetText("No local CA yet. Choose a passphrase and press Create CA; its keys stay on this computer, encrypted.")
	}
	setEnabled(p.createBtn, !busy && !loaded && !p.exists())
	setEnabled(p.unlockBtn, !busy && !loaded && p.exists())
	setEnabled(p.issueBtn, !busy && loaded)
	setEnabled(p.crlBtn, !busy && loaded)
	setEnabled(p.exportBtn, !busy && p.last != nil && p.last.Key != nil)
	setEnabled(p.revokeBtn, !busy && loaded && p.sel >= 0 && p.sel < p.issuedLen())
	p.issued.Refresh()
}

func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// report shows the outcome of an action under its buttons (slot): a line,
// or findings; and scrolls it into view.
func (p *caPanel) report(slot, line string, fs ...certs.Finding) {
	p.place(slot)
	p.say(line)
	p.findings.set(fs)
	p.sync()
	reveal(p.left, p.outcome)
}

// say sets the outcome's line; an empty one takes no room.
func (p *caPanel) say(line string) {
	p.result.SetText(line)
	if line == "" {
		p.result.Hide()
	} else {
		p.result.Show()
	}
}

// place moves the outcome under the buttons of slot.
func (p *caPanel) place(slot string) {
	for k, c := range p.slots {
		if k != slot && len(c.Objects) > 0 {
			c.RemoveAll()
		}
	}
	if c := p.slots[slot]; len(c.Objects) == 0 {
		c.Add(p.outcome)
	}
}

// start marks the panel busy and runs work; done gets its error.
// work returns the line to show and, optionally, what to change in the
// panel on the UI goroutine.
func (p *caPanel) start(slot, what string, work func(ctx context.Context) (string, func(), error)) {
	p.place(slot)
	p.say(what + "…")
	p.findings.set(nil)
	for _, b := range []*widget.Button{p.createBtn, p.unlockBtn, p.issueBtn, p.crlBtn, p.exportBtn, p.revokeBtn} {
		b.Disable()
	}
	type out struct {
		line  string
		apply func()
		err   error
	}
	run(&p.tasks, func(ctx context.Context) out {
		l, apply, err := work(ctx)
		return out{l, apply, err}
	}, func(o out) {
		if o.err != nil {
			p.report(slot, "", caProblem(what, o.err))
			return
		}
		if o.apply != nil {
			o.apply()
		}
		p.report(slot, o.line)
	})
}

func (p *caPanel) onCreate() {
	pass := []byte(p.passphrase.Text)
	if len(pass) < 8 {
		p.report(slotCreate, "", fieldProblem("CA passphrase", "Choose a passphrase of at least 8 characters; the CA keys are encrypted with it."))
		return
	}
	country, org := strings.ToUpper(strings.TrimSpace(p.country.Text)), strings.TrimSpace(p.org.Text)
	if !isCountryCode(country) {
		p.report(slotCreate, "", fieldProblem("Country (C)", "Enter the two-letter country code (ISO 3166) such as DE; sensors expect C in a certificate's subject (TL-CERT-015)."))
		return
	}
	if org == "" {
		p.report(slotCreate, "", fieldProblem("Organization (O)", "Enter the plant operator's name; sensors expect O in a certificate's subject (TL-CERT-016)."))
		return
	}
	rootCRL := ""
	if p.interm.Checked {
		rootCRL = strings.TrimSpace(p.rootCRLURL.Text)
	}
	for _, f := range [][2]string{{"CRL URL", strings.TrimSpace(p.crlURL.Text)}, {"Root CRL URL", rootCRL}} {
		if u := f[1]; u != "" && !strings.HasPrefix(strings.ToLower(u), "http://") {
			p.report(slotCreate, "", fieldProblem(f[0], "Enter an http:// URL, or leave it empty: sensors fetch CRLs over plain HTTP (a CRL is signed, so it needs no TLS)."))
			return
		}
	}
	o := ca.InitOptions{
		Name: strings.TrimSpace(p.name.Text), Country: country, RootCRLURL: rootCRL,
		Organization: org, CRLURL: strings.TrimSpace(p.crlURL.Text),
		Intermediate: p.interm.Checked, KeyType: ca.RSA2048, Now: p.env.Now(), Rand: p.env.Rand, KDFIterations: p.env.caKDF,
	}
	dir := p.dir()
	p.start(slotCreate, "Creating the local CA", func(context.Context) (string, func(), error) {
		c, err := ca.Init(o)
		if err != nil {
			return "", nil, err
		}
		if err := c.Save(dir, pass, o.Rand); err != nil {
			return "", nil, err
		}
		return "Local CA created in " + dir + ".", func() { p.ca = c }, nil
	})
}

func (p *caPanel) onUnlock() {
	pass := []byte(p.passphrase.Text)
	dir := p.dir()
	p.start(slotCreate, "Unlocking the local CA", func(context.Context) (string, func(), error) {
		c, err := ca.Load(dir, pass)
		if err != nil {
			return "", nil, &caLoadError{dir, err}
		}
		return "Local CA unlocked.", func() { p.ca = c }, nil
	})
}

func (p *caPanel) onIssue() {
	host := strings.TrimSpace(p.issueHost.Text)
	if host == "" {
		p.report(slotIssue, "", fieldProblem("Sensor hostname", "Enter the sensor's FQDN; it becomes the certificate's CN and SAN."))
		return
	}
	req := ca.IssueRequest{Hostname: host, KeyType: ca.KeyType(p.keyType.Selected), Now: p.env.Now(), Rand: p.env.Rand}
	if txt := strings.TrimSpace(p.issueIP.Text); txt != "" {
		ip, err := netip.ParseAddr(txt)
		if err != nil {
			p.report(slotIssue, "", fieldProblem("Sensor IP", "Enter an address such as 192.0.2.10, or leave it empty."))
			return
		}
		req.IP = ip
	}
	c, dir := p.ca, p.dir()
	p.start(slotIssue, "Issuing a certificate for "+host, func(context.Context) (string, func(), error) {
		is, err := c.Issue(req)
		if err != nil {
			return "", nil, err
		}
		if err := c.SaveState(dir); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("Issued %q, serial %x. Export its files to take them to the sensor.", host, is.Cert.SerialNumber), func() { p.last = is }, nil
	})
}

func (p *caPanel) onExport() {
	is := p.last
	o := ca.ExportOptions{PFXPassphrase: []byte(p.pfxPass.Text), Rand: p.env.Rand}
	dir := filepath.Join(p.env.filesDir(), "issued", is.Cert.Subject.CommonName)
	p.start(slotIssue, "Exporting "+is.Cert.Subject.CommonName, func(context.Context) (string, func(), error) {
		if err := safefile.MkdirPrivate(dir); err != nil {
			return "", nil, err
		}
		paths, err := ca.Export(dir, is.Cert.Subject.CommonName, is, o)
		if err != nil {
			return "", nil, err
		}
		return "Wrote " + strings.Join(paths, ", "), nil, nil
	})
}

func (p *caPanel) onRevoke() {
	r := p.ca.State.Issued[p.sel]
	serial, err := ca.ParseSerial(r.Serial)
	if err != nil {
		p.report(slotIssued, "", problemFor("Revoking "+r.Hostname, err))
		return
	}
	c, dir, now := p.ca, p.dir(), p.env.Now()
	p.start(slotIssued, "Revoking "+r.Hostname, func(context.Context) (string, func(), error) {
		if err := c.Revoke(serial, 0, now); err != nil {
			return "", nil, err
		}
		if err := c.SaveState(dir); err != nil {
			return "", nil, err
		}
		return "Revoked " + r.Hostname + ". Publish the CRL so sensors learn it.", nil, nil
	})
}

// onCRL publishes the CRL of every CA level, as `tapline ca crl` writes
// them: crl.pem (the issuing CA's, the one sensors fetch) and, with an
// intermediate, root-crl.pem (the root's, listing a revoked intermediate),
// so a check of every certificate of the path (the sensor's with
// certificate validation on) finds a current CRL for each. A sensor's
// bundle carries them all.
func (p *caPanel) onCRL() {
	c, dir, now, rnd := p.ca, p.dir(), p.env.Now(), p.env.Rand
	p.start(slotIssued, "Publishing the CRL", func(context.Context) (string, func(), error) {
		paths, said, err := publishCRLs(c, dir, now, rnd)
		if err != nil {
			return "", nil, err
		}
		line := "CRL " + strings.Join(said, "; CRL ") + ". Copy " + paths[0] +
			" to the URL the certificates name, and choose "
		if len(paths) > 1 {
			line += "both files (" + strings.Join(paths, ";") + ") as the sensor's CRL in Setup: the sensor checks every level of the chain."
		} else {
			line += "it as the sensor's CRL in Setup."
		}
		return line, nil, nil
	})
}

// publishCRLs signs the CRL of every CA level of c and writes them to dir
// (crl.pem, root-crl.pem), saving the CA's state; it returns their paths,
// the issuing CA's first, and a phrase for each.
func publishCRLs(c *ca.CA, dir string, now time.Time, rnd io.Reader) (paths, said []string, err error) {
	files, err := c.CRLs(now, 0, rnd)
	if err != nil {
		return nil, nil, err
	}
	names := []string{ca.CRLFileName, ca.RootCRLFileName}
	for i, f := range files {
		path := filepath.Join(dir, names[i])
		if err := ca.WriteFile(path, f.PEM); err != nil {
			return nil, nil, err
		}
		paths = append(paths, path)
		said = append(said, fmt.Sprintf("number %d of %s to %s", f.Number, f.Issuer.Subject.CommonName, path))
	}
	if err := c.SaveState(dir); err != nil {
		return nil, nil, err
	}
	return paths, said, nil
}

// isCountryCode reports whether s is two ASCII letters (ISO 3166 alpha-2),
// as `tapline ca init --country` requires.
func isCountryCode(s string) bool {
	if len(s) != 2 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}
