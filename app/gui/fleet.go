package gui

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/bundle"
)

// Fleet table columns: design widths, shared out to the table's width
// (fitColumns), and the narrowest each may get.
var fleetColumns = []tableColumn{{"Sensor", 110, 80}, {"Address", 150, 110}, {"Status", 120, 90}, {"Step", 80, 60},
	{"Progress", 110, 70}, {"Result", 260, 120}, {"Validate", 240, 110}, {"Devices, uplink", 170, 110}}

const colProgress = 4

// fleetScreen opens an inventory CSV and runs provision's offline check and
// batch runner on it: a table of sensors with live status, step and
// progress; check, run, retry failed, cancel; a sensor's log; the report.
type fleetScreen struct {
	env   Env
	tasks tasks
	model fleetModel

	inv    *provision.Inventory
	report *provision.BatchReport
	sel    int
	cancel context.CancelFunc

	path      *widget.Label
	openBtn   *widget.Button
	checkBtn  *widget.Button
	runBtn    *widget.Button
	retryBtn  *widget.Button
	cancelBtn *widget.Button
	exportBtn *widget.Button
	password  *widget.Entry
	keyPass   *widget.Entry
	certPass  *widget.Entry
	proxyPass *widget.Entry
	// The local CA issues the certificates of cert_source local-ca rows:
	// its folder and passphrase are asked once, then it stays open for
	// the app's session (localCA).
	caDir     *widget.Entry
	caPass    *widget.Entry
	caBtn     *widget.Button
	caStatus  *widget.Label
	localCA   *ca.Local
	top       *fyne.Container // shows caStatus once a CA is unlocked
	acceptNew *widget.Check
	acceptWrn *widget.Check
	summary   *widget.Label
	table     *widget.Table
	columns   *fitColumns // the table's columns fit its width
	logTitle  *widget.Label
	menu      *sensorMenu // the selected sensor's menu
	logText   *widget.TextGrid
	findings  *findingsView
}

func newFleetScreen(env Env) *fleetScreen {
	s := &fleetScreen{env: env, tasks: tasks{ui: env.ui}, sel: -1, path: widget.NewLabel("No inventory open."),
		password: widget.NewPasswordEntry(), keyPass: widget.NewPasswordEntry(), certPass: widget.NewPasswordEntry(), proxyPass: widget.NewPasswordEntry(), summary: widget.NewLabel(""),
		logTitle: widget.NewLabel("Select a sensor to see its log."), logText: widget.NewTextGrid(), findings: newFindingsView("")}
	s.password.SetPlaceHolder("SSH password for rows with auth password (memory only)")
	s.keyPass.SetPlaceHolder("for rows with auth key whose key file is encrypted (memory only)")
	s.certPass.SetPlaceHolder("key or PKCS#12 passphrase, if any")
	s.proxyPass.SetPlaceHolder("for rows with a proxy column, if it needs one (memory only)")
	s.caDir, s.caPass, s.caStatus = widget.NewEntry(), widget.NewPasswordEntry(), widget.NewLabel("")
	s.caDir.SetPlaceHolder("folder; empty: the app's own (Certificates, Local CA)")
	s.caPass.SetPlaceHolder("its passphrase (memory only)")
	s.caStatus.Truncation = fyne.TextTruncateEllipsis
	s.caStatus.Hide()
	s.caBtn = widget.NewButton("Unlock local CA", s.onUnlockCA)
	s.acceptNew = widget.NewCheck("Trust sensors seen for the first time (each fingerprint goes to its log)", nil)
	s.acceptWrn = widget.NewCheck("Accept the check's warnings (after reading them; recorded in each bundle)", nil)
	s.openBtn = widget.NewButtonWithIcon("Open inventory…", theme.FolderOpenIcon(), s.onOpen)
	s.checkBtn = widget.NewButtonWithIcon("Check", theme.ConfirmIcon(), s.onCheck)
	s.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), func() { s.onRun(nil) })
	s.runBtn.Importance = widget.HighImportance
	s.retryBtn = widget.NewButtonWithIcon("Retry failed", theme.ViewRefreshIcon(), func() { s.onRun(s.model.failed()) })
	s.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.onCancel)
	s.exportBtn = widget.NewButtonWithIcon("Export report", theme.DocumentSaveIcon(), s.onExport)
	s.summary.Wrapping = fyne.TextWrapWord
	s.table = widget.NewTableWithHeaders(
		func() (int, int) { return s.model.len(), len(fleetColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewStack(l, newProgressBar())
		},
		s.cell)
	s.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		switch {
		case id.Row < 0 && id.Col >= 0:
			l.SetText(fleetColumns[id.Col].title)
		case id.Col < 0 && id.Row >= 0:
			l.SetText(fmt.Sprint(id.Row + 1))
		default:
			l.SetText("")
		}
	}
	s.columns = newFitColumns(s.table, fleetColumns)
	s.table.OnSelected = func(id widget.TableCellID) { s.sel = id.Row; s.showLog(); s.sync() }
	s.menu = newSensorMenu(env, func() (sensorRef, bool, string) {
		r, ok := s.model.get(s.sel)
		if !ok {
			return sensorRef{}, false, "Select the sensor in the table first."
		}
		return sensorRef{row: r.row, sec: s.secrets(), addr: r.final, pinned: r.pinned}, true, ""
	})
	s.menu.validated = s.onValidated
	s.sync()
	return s
}

func (s *fleetScreen) cell(id widget.TableCellID, o fyne.CanvasObject) {
	st := o.(*fyne.Container)
	l, bar := st.Objects[0].(*widget.Label), st.Objects[1].(*progressBar)
	r, ok := s.model.get(id.Row)
	if !ok {
		return
	}
	if id.Col == colProgress {
		l.Hide()
		bar.Show()
		if bar.Value != r.progress {
			bar.SetValue(r.progress)
		}
		return
	}
	bar.Hide()
	l.Show()
	var txt string
	switch id.Col {
	case 0:
		txt = r.row.Sensor
	case 1:
		txt = r.row.SSHAddr()
		if r.addr != "" {
			txt = r.addr
		}
	case 2:
		txt = r.status
	case 3:
		txt = string(r.step)
	case 5:
		txt = r.result
	case 6:
		txt = r.validation
	case 7:
		txt = r.sensorState
	}
	if l.Text != txt {
		l.SetText(txt)
	}
}

func (s *fleetScreen) build() fyne.CanvasObject {
	bar := container.NewHBox(s.openBtn, s.checkBtn, s.runBtn, s.retryBtn, s.cancelBtn, s.exportBtn)
	secrets := &widget.Form{Items: []*widget.FormItem{
		{Text: "SSH password", Widget: s.password},
		{Text: "SSH key passphrase", Widget: s.keyPass},
		{Text: "Certificate passphrase", Widget: s.certPass},
		{Text: "Proxy password", Widget: s.proxyPass},
		{Text: "Local CA", Widget: container.NewGridWithColumns(2, s.caDir, newBorder(nil, nil, nil, s.caBtn, s.caPass))},
		{Text: "", Widget: s.acceptNew},
		{Text: "", Widget: s.acceptWrn},
	}}
	s.top = container.NewVBox(s.path, bar, secrets, s.caStatus, s.summary)
	top := s.top
	// The log scrolls both ways: long lines (a validation's details) never
	// widen the screen past the window.
	logPane := newBorder(newBorder(nil, nil, nil, s.menu.btn, s.logTitle), nil, nil, nil,
		container.NewScroll(container.NewVBox(s.findings.box, s.logText)))
	split := container.NewVSplit(container.New(s.columns, s.table), logPane)
	split.SetOffset(0.65)
	return newBorder(top, nil, nil, nil, split)
}

// secrets are the secrets typed on the screen, for a session.
func (s *fleetScreen) secrets() provision.Secrets {
	return provision.Secrets{SSHPassword: s.password.Text, KeyPassphrase: keyPassphrase(s.keyPass.Text),
		CertPassphrase: []byte(s.certPass.Text), ProxyPassword: s.proxyPass.Text}
}

// sync sets which buttons may be pressed.
func (s *fleetScreen) sync() {
	running := s.cancel != nil
	have := s.inv != nil && len(s.inv.Rows) > 0
	setEnabled(s.openBtn, !running)
	setEnabled(s.caBtn, !running)
	setEnabled(s.checkBtn, have && !running)
	setEnabled(s.runBtn, have && !running)
	setEnabled(s.retryBtn, have && !running && len(s.model.failed()) > 0)
	setEnabled(s.cancelBtn, running)
	setEnabled(s.exportBtn, s.report != nil && !running)
	_, selected := s.model.get(s.sel)
	setEnabled(s.menu.btn, selected && !running)
}

func (s *fleetScreen) onOpen() { s.env.openFile(s.open) }

// open reads an inventory; every bad cell is a finding naming its line.
func (s *fleetScreen) open(path string) {
	inv, err := provision.ReadInventory(path)
	if err != nil {
		s.findings.set(inventoryFindings(path, err))
		s.logTitle.SetText("The inventory has problems:")
		return
	}
	s.inv, s.report, s.sel = inv, nil, -1
	s.model.reset(inv.Rows)
	s.path.SetText(fmt.Sprintf("%s: %d sensors", path, len(inv.Rows)))
	s.summary.SetText("")
	s.findings.set(nil)
	s.logTitle.SetText("Select a sensor to see its log.")
	s.logText.SetText("")
	s.table.UnselectAll()
	s.table.Refresh()
	s.sync()
}

// inventoryFindings lists each bad cell provision reported.
func inventoryFindings(path string, err error) []certs.Finding {
	var out []certs.Finding
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if ie, ok := e.(*provision.InventoryError); ok {
			out = append(out, problem(provision.CodeInventoryField, fmt.Sprintf("%s line %d, column %s", filepath.Base(ie.File), ie.Line, ie.Column), ie.Msg))
			return
		}
		out = append(out, problemFor("Reading "+filepath.Base(path), e))
	}
	walk(err)
	return out
}

func (s *fleetScreen) roots() []ed25519.PublicKey { return s.env.ActivationRoots }

func (s *fleetScreen) onCheck() {
	inv := s.inv
	o := provision.CheckOptions{Now: s.env.Now(), ActivationRoots: s.roots(), CertPassphrase: []byte(s.certPass.Text)}
	if s.localCA != nil {
		// local-ca rows: a trial certificate each (nothing recorded),
		// checked as the bundle's will be.
		o.IssueLocal = provision.IssueFromLocalCA(s.localCA.Trial())
	}
	s.summary.SetText("Checking every row offline…")
	s.checkBtn.Disable()
	run(&s.tasks, func(context.Context) *provision.CheckReport { return provision.Check(inv, o) }, func(r *provision.CheckReport) {
		s.model.checked(r)
		s.summary.SetText(checkSummary(&s.model, len(r.Rows)))
		if len(r.Fleet) > 0 {
			s.findings.set(r.Fleet)
			s.logTitle.SetText("Across the fleet:")
		}
		s.flush()
		s.sync()
	})
}

// onRun runs the batch on every row, or on the rows in only.
func (s *fleetScreen) onRun(only map[string]bool) {
	inv := *s.inv
	if only != nil {
		inv.Rows = nil
		for _, r := range s.inv.Rows {
			if only[r.Sensor] {
				inv.Rows = append(inv.Rows, r)
			}
		}
	}
	settings := DefaultSettings()
	if s.env.App != nil {
		settings = LoadSettings(s.env.App.Preferences())
	}
	model := &s.model
	var acceptNew func(*sshconn.UnknownHostError) bool
	if s.acceptNew.Checked {
		acceptNew = func(u *sshconn.UnknownHostError) bool {
			for _, r := range inv.Rows {
				if r.SSHAddr() == u.Host {
					model.note(r.Sensor, "trusted new host key "+u.KeyType+" "+u.Fingerprint)
				}
			}
			return true
		}
	}
	if n, first := localCARows(inv.Rows); n > 0 && s.localCA == nil {
		s.findings.set([]certs.Finding{fieldProblem("Local CA", fmt.Sprintf(
			"%d sensor(s) get their certificate from the local CA (cert_source local-ca; first: line %d, %s): enter its folder (empty: the app's own) and passphrase and press Unlock local CA. Nothing was sent.",
			n, first.Line, first.Sensor))})
		s.logTitle.SetText("The local CA is needed:")
		return
	}
	sess := s.env.session(s.secrets(), acceptNew)
	sess.AcceptWarnings = s.acceptWrn.Checked
	if s.localCA != nil {
		sess.IssueLocal = provision.IssueFromLocalCA(s.localCA)
	}
	prepare := func(ctx context.Context, row provision.Row) (provision.Prepared, error) {
		p, err := sess.Prepare(ctx, row)
		var ge *bundle.GateError
		if errors.As(err, &ge) {
			model.refused(row.Sensor, append(append([]certs.Finding{}, ge.Errors...), ge.Warnings...))
		}
		return p, err
	}
	o := provision.BatchOptions{Parallel: settings.Concurrency, Prepare: prepare}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	names := map[string]bool{}
	for _, r := range inv.Rows {
		names[r.Sensor] = true
	}
	s.model.mark(names, "waiting")
	s.summary.SetText(fmt.Sprintf("Provisioning %d sensors, %d at once…", len(inv.Rows), settings.Concurrency))
	s.sync()
	s.flush()
	type out struct {
		rep *provision.BatchReport
		err error
	}
	run(&s.tasks, func(context.Context) out {
		res := make(chan out, 1)
		go func() {
			rep, err := sess.RunBatch(ctx, &inv, o, model.event)
			res <- out{rep, err}
		}()
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case o := <-res:
				return o
			case <-t.C:
				s.env.ui.do(s.flush)
			}
		}
	}, func(o out) {
		cancel()
		s.cancel = nil
		if o.err != nil {
			s.summary.SetText("")
			s.findings.set([]certs.Finding{problemFor("Running the batch", o.err)})
		} else {
			if only != nil && s.report != nil {
				// Retry failed: the site's report, updated by the retry.
				o.rep = s.report.Merge(o.rep)
			}
			s.report = o.rep
			s.model.finished(o.rep)
			s.summary.SetText(runSummary(o.rep))
		}
		s.flush()
		s.sync()
	})
}

// localCARows counts the rows whose certificate the local CA issues, and
// returns the first.
func localCARows(rows []provision.Row) (int, provision.Row) {
	n, first := 0, provision.Row{}
	for _, r := range rows {
		if r.CertSource == provision.CertLocalCA && r.Bundle == "" {
			if n == 0 {
				first = r
			}
			n++
		}
	}
	return n, first
}

func (s *fleetScreen) defaultCADir() string { return filepath.Join(s.env.filesDir(), "ca") }

// onUnlockCA opens the local CA for the rest of the app's session; the
// passphrase field is cleared once it opened.
func (s *fleetScreen) onUnlockCA() {
	dir := strings.TrimSpace(s.caDir.Text)
	if dir == "" {
		dir = s.defaultCADir()
	}
	pass := []byte(s.caPass.Text)
	if len(pass) == 0 {
		s.findings.set([]certs.Finding{fieldProblem("Local CA", "Enter the passphrase chosen when the local CA was created; the app never saves it.")})
		s.logTitle.SetText("The local CA is locked:")
		return
	}
	s.caBtn.Disable()
	s.caStatus.SetText("Unlocking the local CA in " + dir + "…")
	s.showCAStatus(true)
	type out struct {
		l   *ca.Local
		err error
	}
	run(&s.tasks, func(context.Context) out {
		defer clear(pass)
		l, err := ca.OpenLocal(dir, pass)
		if err != nil {
			return out{err: &caLoadError{dir, err}}
		}
		return out{l: l}
	}, func(o out) {
		if o.err != nil {
			s.caStatus.SetText(caStatusText(s.localCA))
			s.showCAStatus(s.localCA != nil)
			s.findings.set([]certs.Finding{caProblem("Unlocking the local CA", o.err)})
			s.logTitle.SetText("The local CA is locked:")
			s.sync()
			return
		}
		s.localCA = o.l
		s.caPass.SetText("")
		s.caStatus.SetText(caStatusText(o.l))
		s.findings.set(nil)
		s.logTitle.SetText("Select a sensor to see its log.")
		s.sync()
	})
}

// showCAStatus shows or hides the local CA's status line.
func (s *fleetScreen) showCAStatus(on bool) {
	if on {
		s.caStatus.Show()
	} else {
		s.caStatus.Hide()
	}
	if s.top != nil {
		s.top.Refresh()
	}
}

// caStatusText says which local CA is open, if any.
func caStatusText(l *ca.Local) string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("Local CA %q unlocked for this session (%s): it issues the certificates of cert_source local-ca rows.", l.IssuerName(), l.Dir())
}

// onValidated shows a validation the sensor menu asked for in the row's
// Validate column and log.
func (s *fleetScreen) onValidated(ref sensorRef, v *provision.Validation, err error) {
	s.model.validated(ref.row.Sensor, v, err)
	s.flush()
	if err != nil {
		s.findings.set([]certs.Finding{problemFor("Validating "+ref.row.Sensor, err)})
	}
}

// checkSummary says how the offline check went: the sensors that need
// attention first, with their address and how many findings, then how
// many are ready.
func checkSummary(m *fleetModel, n int) string {
	need, ok := m.checkAttention()
	if len(need) == 0 {
		return fmt.Sprintf("Offline check: all %d sensors ready.", n)
	}
	return fmt.Sprintf("Offline check: %d of %d need attention: %s. Ready: %d.", len(need), n, names(need), ok)
}

// runSummary says how a run went in the report's own terms: the sensors
// that need attention first (provision's BatchReport.Attention), each with
// the address it was reached at, its outcome and code, then the counts and
// the sensors only re-verified.
func runSummary(rep *provision.BatchReport) string {
	need, done := rep.Attention()
	var b strings.Builder
	if len(need) > 0 {
		items := make([]string, len(need))
		for i, x := range need {
			items[i] = x.Row.Sensor + " at " + x.Address() + " (" + x.OutcomeText()
			switch x.Result.Outcome {
			case provision.OutcomeDone: // done, and its validation found something
				items[i] += ", validate: " + x.ValidationText()
			case provision.OutcomeNotStarted:
			default:
				f := pushProblem(x.Result)
				items[i] += ", " + f.Code + " " + f.Message
			}
			items[i] += ")"
		}
		fmt.Fprintf(&b, "Needs attention (%d): %s.\n", len(need), names(items))
	}
	var re []string
	for _, x := range done {
		if x.Result.Reverified {
			re = append(re, x.Row.Sensor)
		}
	}
	c := rep.Counts()
	fmt.Fprintf(&b, "Finished: %d done", c[provision.OutcomeDone])
	if len(re) > 0 {
		fmt.Fprintf(&b, " (%d only re-verified, applied earlier: %s)", len(re), names(re))
	}
	fmt.Fprintf(&b, ", %d failed, %d refused, %d rolled back, %d not started.",
		c[provision.OutcomeFailed], c[provision.OutcomeRefused], c[provision.OutcomeRolledBack], c[provision.OutcomeNotStarted])
	if rep.Stopped != "" {
		b.WriteString(" Stopped: " + rep.Stopped)
	}
	return b.String()
}

func (s *fleetScreen) onCancel() {
	if s.cancel != nil {
		s.summary.SetText("Cancelling: running pushes stop, no new one starts…")
		s.cancel()
	}
}

// flush redraws the table and the selected log when the model changed.
func (s *fleetScreen) flush() {
	if !s.model.takeDirty() {
		return
	}
	s.table.Refresh()
	s.showLog()
}

func (s *fleetScreen) showLog() {
	r, ok := s.model.get(s.sel)
	if !ok {
		return
	}
	s.logTitle.SetText("Log of " + r.row.Sensor + " (" + r.row.SSHAddr() + ")")
	s.findings.set(r.findings)
	s.logText.SetText(strings.Join(s.model.logOf(s.sel), "\n"))
}

// onExport writes the last report as JSON, CSV and HTML, and an inventory
// of the rows to retry, beside each other under the files folder.
func (s *fleetScreen) onExport() {
	rep, header := s.report, s.inv.Header
	dir := filepath.Join(s.env.filesDir(), "reports")
	base := strings.TrimSuffix(filepath.Base(s.inv.Path), filepath.Ext(s.inv.Path)) + "-" + s.env.Now().UTC().Format("20060102T150405Z")
	run(&s.tasks, func(context.Context) error {
		if err := safefile.MkdirPrivate(dir); err != nil {
			return err
		}
		return provision.WriteReports(rep, header, filepath.Join(dir, base))
	}, func(err error) {
		if err != nil {
			s.findings.set([]certs.Finding{problemFor("Exporting the report", err)})
			return
		}
		msg := "Report written: " + filepath.Join(dir, base) + ".report.{json,csv,html}"
		if a, _ := rep.Attention(); len(a) > 0 {
			msg += fmt.Sprintf(", and %s.retry.csv with the %d sensor(s) to run again", base, len(a))
		}
		s.summary.SetText(msg)
	})
}
