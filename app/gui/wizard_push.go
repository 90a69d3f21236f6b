package gui

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// pushSteps are the push's steps in order with the words the page shows,
// from provision's one list.
var pushSteps = provision.Options{Validate: appValidates}.Steps()

// pushStep builds the bundle in memory and pushes it (provision.Session,
// provision.Push), showing live steps, a progress bar and Cancel. A push
// that ends done shows the sensor set up, with Next sensor and Open console;
// one that did not shows its code and fix until the engineer pushes again
// or leaves the page.
type pushStep struct {
	env   Env
	wiz   *wizardScreen
	tasks tasks

	icons    []*widget.Icon
	labels   []*widget.Label
	bar      *progressBar
	message  *widget.Label
	outcome  *widget.Label
	findings *findingsView
	liveDiff *widget.TextGrid
	liveCard *widget.Card
	pushBtn  *widget.Button
	stopBtn  *widget.Button
	done     *widget.Card // the done state, shown once a push ended done
	doneText *widget.Label
	nextBtn  *widget.Button // Next sensor
	openBtn  *widget.Button // Open console
	resetBtn *widget.Button // Reset console password…
	page     *fyne.Container
	log      []string

	mu      sync.Mutex
	cancel  context.CancelFunc
	result  *provision.Result
	wantFP  string
	pushed  string // the wizard's row the last push was for (rowKey)
	console *url.URL
}

func newPushStep(env Env, wiz *wizardScreen) *pushStep {
	s := &pushStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui}, bar: newProgressBar(), message: widget.NewLabel(""), outcome: widget.NewLabel(""),
		findings: newFindingsView(""), doneText: widget.NewLabel("")}
	s.liveDiff = widget.NewTextGrid()
	s.liveCard = widget.NewCard("Network change, live before/after", "the sensor's settings read at preflight (-) and the bundle's (+)", s.liveDiff)
	s.liveCard.Hide()
	s.message.Wrapping = fyne.TextWrapWord
	s.outcome.Wrapping = fyne.TextWrapWord
	s.outcome.TextStyle = fyne.TextStyle{Bold: true}
	for _, p := range pushSteps {
		s.icons = append(s.icons, widget.NewIcon(theme.RadioButtonIcon()))
		s.labels = append(s.labels, widget.NewLabel(p.Label))
	}
	s.pushBtn = widget.NewButtonWithIcon(pushLabel, theme.UploadIcon(), s.onPush)
	s.pushBtn.Importance = widget.HighImportance
	s.stopBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.onCancel)
	s.stopBtn.Disable()
	s.doneText.Wrapping = fyne.TextWrapWord
	s.nextBtn = widget.NewButtonWithIcon("Next sensor", theme.NavigateNextIcon(), s.wiz.nextSensor)
	s.nextBtn.Importance = widget.HighImportance
	s.openBtn = widget.NewButtonWithIcon("Open console", theme.ComputerIcon(), s.onOpenConsole)
	// The console's sign-in: the sensor made its first password itself; a
	// reset gives a known one-time password over the same SSH channel.
	s.resetBtn = widget.NewButtonWithIcon("Reset console password…", theme.AccountIcon(), wiz.menu.askReset)
	s.done = widget.NewCard("", "", container.NewVBox(s.doneText, container.NewHBox(s.nextBtn, s.openBtn, s.resetBtn)))
	s.done.Hide()
	rows := container.NewVBox()
	for i := range pushSteps {
		rows.Add(container.NewHBox(s.icons[i], s.labels[i]))
	}
	s.page = container.NewVBox(s.done, rows, s.bar, s.message, s.liveCard, container.NewHBox(s.pushBtn, s.stopBtn), s.outcome, s.findings.box)
	return s
}

// The Push button's words before a push and after one ended done.
const (
	pushLabel      = "Push to the sensor"
	pushAgainLabel = "Push again"
)

func (s *pushStep) title() string { return "Push" }

func (s *pushStep) content() fyne.CanvasObject { return s.page }

// enter shows the page fresh unless it holds the done state of exactly
// what the wizard holds now: an old failure, or a sensor set up with other
// settings, is not this push's.
func (s *pushStep) enter() {
	if s.running() {
		return
	}
	if r := s.Result(); r != nil && r.Outcome == provision.OutcomeDone && s.pushed == rowKey(s.wiz.row()) {
		return
	}
	s.clear()
}

// clear puts the page back to before any push.
func (s *pushStep) clear() {
	s.mu.Lock()
	s.result, s.wantFP, s.pushed = nil, "", ""
	s.mu.Unlock()
	for i := range pushSteps {
		s.icons[i].SetResource(theme.RadioButtonIcon())
	}
	s.bar.SetValue(0)
	s.message.SetText("")
	s.outcome.SetText("")
	s.findings.set(nil)
	s.showLiveDiff(nil)
	s.log = nil
	s.done.Hide()
	s.console = nil
	s.pushBtn.SetText(pushLabel)
	s.pushBtn.Importance = widget.HighImportance
	s.pushBtn.Refresh()
}

// rowKey identifies what a push was for: every setting of the wizard's
// row (its secrets left out: the key is kept while the page lives).
func rowKey(r provision.Row) string {
	r.ProxyPassword = ""
	return fmt.Sprintf("%+v", r)
}

// ready: on to the validation once the push ended done.
func (s *pushStep) ready() (bool, fyne.CanvasObject) { return s.isDone(), nil }

// isDone reports whether the last push ended done.
func (s *pushStep) isDone() bool {
	r := s.Result()
	return r != nil && r.Outcome == provision.OutcomeDone && !s.running()
}

func (s *pushStep) onOpenConsole() {
	if s.console != nil {
		s.env.openURL(s.console)
	}
}

func (s *pushStep) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancel != nil
}

// Result is the last push's result, nil before one ended.
func (s *pushStep) Result() *provision.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result
}

func (s *pushStep) onCancel() {
	s.mu.Lock()
	c := s.cancel
	s.mu.Unlock()
	if c != nil {
		s.message.SetText("Cancelling…")
		c()
	}
}

// onEvent renders one progress event; it runs on the UI goroutine.
func (s *pushStep) onEvent(e provision.Event) {
	i := pushSteps.Index(e.Step)
	if i < 0 {
		return
	}
	for j := range pushSteps {
		switch {
		case j < i:
			s.icons[j].SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		case j == i:
			s.icons[j].SetResource(theme.NewPrimaryThemedResource(theme.MediaPlayIcon()))
		}
	}
	s.bar.SetValue(pushSteps.Progress(e))
	if len(e.NetworkDiff) > 0 {
		s.showLiveDiff(e.NetworkDiff) // preflight's live network diff (provision.LiveNetworkDiff)
	}
	if msg := eventMessage(e); msg != "" {
		s.message.SetText(msg)
		s.log = append(s.log, e.At.Format("15:04:05")+" "+string(e.Step)+": "+msg)
	}
}

func (s *pushStep) onPush() {
	c := s.wiz.conn
	row := s.wiz.row()
	sec := c.secrets()
	sec.CertPassphrase, sec.ProxyPassword = []byte(s.wiz.cert.passphrase.Text), s.wiz.net.proxyPass.Text
	s.clear()
	// Connect trusted the host key already: no first contact here.
	sess := s.env.session(sec, nil)
	// The same check as Review's, and the engineer's acceptance of its
	// warnings there (recorded in the bundle's accepted_warnings).
	sess.AcceptWarnings = s.wiz.rev.accept.Checked
	events := func(e provision.Event) { s.env.ui.post(func() { s.onEvent(e) }) }
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancel, s.pushed = cancel, rowKey(row)
	s.mu.Unlock()
	s.message.SetText("Building the bundle…")
	s.pushBtn.Disable()
	s.stopBtn.Enable()
	s.wiz.update()
	type out struct {
		res    provision.Result
		wantFP string
		err    error
	}
	run(&s.tasks, func(context.Context) out {
		defer cancel()
		res, err := sess.Push(ctx, row, events)
		return out{res: res, wantFP: res.BundleFingerprint, err: err}
	}, func(o out) {
		s.mu.Lock()
		s.cancel = nil
		if o.err == nil {
			s.result = &o.res
			s.wantFP = o.wantFP
		}
		s.mu.Unlock()
		s.stopBtn.Disable()
		s.pushBtn.Enable()
		if o.err != nil {
			s.message.SetText("")
			s.outcome.SetText("Nothing was sent: the bundle could not be built.")
			s.findings.set(problemsFor("Building the bundle", bundleError(row, o.err)))
		} else {
			s.showResult(o.res, o.wantFP)
			if o.res.Outcome == provision.OutcomeDone {
				s.showDone(o.res, row)
			}
		}
		s.wiz.update()
		if s.done.Visible() {
			s.wiz.reveal(s.done)
		} else {
			s.wiz.reveal(s.outcome)
		}
	})
}

// showDone turns the page into its done state: the sensor set up, Next
// sensor and Open console; Push is no longer the button to press.
func (s *pushStep) showDone(r provision.Result, row provision.Row) {
	name := r.Sensor
	if name == "" {
		name = row.Sensor
	}
	s.done.SetTitle("Sensor " + name + " is set up")
	sub := "certificate verified on its console"
	switch {
	case r.Reverified:
		sub = "it had these settings already (an earlier push applied them): only re-verified, nothing applied again"
	case r.CertificateNote != "":
		sub = "it kept its own certificate (test setups only)"
	}
	s.done.SetSubTitle(sub)
	host, _, err := net.SplitHostPort(r.FinalAddr)
	if err != nil {
		host = row.FinalIP()
	}
	port := row.ConsolePort
	if port == 0 {
		port = 443
	}
	s.console = &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/"}
	var b strings.Builder
	fmt.Fprintf(&b, "Its console answers at %s", s.console)
	if row.NewHostname != "" {
		fmt.Fprintf(&b, " (%s once the plant's DNS names it)", row.NewHostname)
	}
	b.WriteString(".")
	if r.Activated {
		b.WriteString(" Activated.")
	}
	fmt.Fprintf(&b, " Configuration generation %d confirmed.", r.Generation)
	switch {
	case r.Validation != nil:
		fmt.Fprintf(&b, "\nValidation: %s (Next shows every check).", r.Validation.Summary())
	case r.ValidationError != "":
		fmt.Fprintf(&b, "\nNot validated: %s.", r.ValidationError)
	}
	for _, l := range statusLines(r) {
		b.WriteString("\n" + l)
	}
	b.WriteString("\nNext sensor starts the wizard again, keeping this site's user, ports, mask, gateway, DNS and proxy.")
	s.doneText.SetText(b.String())
	s.done.Show()
	s.pushBtn.SetText(pushAgainLabel)
	s.pushBtn.Importance = widget.MediumImportance
	s.pushBtn.Refresh()
}

// showResult renders how the push ended.
func (s *pushStep) showResult(r provision.Result, wantFP string) {
	last := pushSteps.Index(r.Step)
	for i := range pushSteps {
		ok := false
		for _, st := range r.Steps {
			if st.Step == pushSteps[i].Step && st.OK {
				ok = true
			}
		}
		switch {
		case ok:
			s.icons[i].SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		case i == last && r.Outcome != provision.OutcomeDone:
			s.icons[i].SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		}
	}
	var b strings.Builder
	switch r.Outcome {
	case provision.OutcomeDone:
		s.bar.SetValue(1)
		if r.CertificateNote != "" {
			fmt.Fprintf(&b, "Done. The sensor kept its own certificate (%s): the console serves SHA-256 %s, the one apply reported. Test setups only.", r.CertificateNote, r.ServedFingerprint)
		} else {
			fmt.Fprintf(&b, "Done. The console serves certificate SHA-256 %s, the one in the bundle: verified.", r.ServedFingerprint)
		}
		if r.Activated {
			b.WriteString("\nThe sensor is activated.")
		}
		fmt.Fprintf(&b, "\nGeneration %d confirmed at %s.", r.Generation, r.FinalAddr)
	case provision.OutcomeRolledBack:
		fmt.Fprintf(&b, "Rolled back: the sensor undid the change itself and answers on generation %d. %s", r.Generation, r.RollbackReason)
	case provision.OutcomeRefused:
		fmt.Fprintf(&b, "Refused at step %s. Nothing on the sensor changed.", r.Step)
	default:
		fmt.Fprintf(&b, "Failed at step %s.", r.Step)
		if r.Transient {
			b.WriteString(" The connection was lost: retrying may help.")
		}
	}
	if r.Outcome != provision.OutcomeDone && r.ServedFingerprint != "" && r.ServedFingerprint != wantFP {
		fmt.Fprintf(&b, "\nThe console serves %s, not the bundle's %s.", r.ServedFingerprint, wantFP)
	}
	s.outcome.SetText(b.String())
	s.message.SetText("")
	if len(r.NetworkDiff) > 0 {
		s.showLiveDiff(r.NetworkDiff)
	}
	var fs []certs.Finding
	if r.Outcome != provision.OutcomeDone {
		fs = append(fs, pushProblem(r))
	}
	s.findings.set(append(fs, applianceFindings(r)...))
}

// showLiveDiff shows the network change against the sensor's live settings
// that preflight read (Result.NetworkDiff); nil hides it until then.
func (s *pushStep) showLiveDiff(lines []string) {
	if len(lines) == 0 {
		s.liveDiff.SetText("")
		s.liveCard.Hide()
		return
	}
	s.liveDiff.SetText(strings.Join(lines, "\n"))
	s.liveCard.Show()
}
