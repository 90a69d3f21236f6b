package gui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// reviewStep shows every finding of provision.Check for the wizard's row
// (network, activation, certificate) and the network change as before and
// after, and asks the engineer to accept warnings before the push.
type reviewStep struct {
	env   Env
	wiz   *wizardScreen
	tasks tasks

	summary  *widget.Label
	diff     *widget.TextGrid
	findings *findingsView
	accept   *widget.Check
	diffCard *widget.Card
	notes    notes
	page     *fyne.Container

	rep *provision.RowCheck
}

func newReviewStep(env Env, wiz *wizardScreen) *reviewStep {
	s := &reviewStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui}, summary: widget.NewLabel(""), diff: widget.NewTextGrid(),
		findings: newFindingsView("No findings: every check passed.")}
	s.summary.Wrapping = fyne.TextWrapWord
	s.accept = widget.NewCheck("I have read the warnings and accept them", func(bool) { s.notes.clear(); s.wiz.update() })
	// The offline check only knows the settings entered here; the Push page
	// shows the sensor's live ones once preflight has read them.
	s.diffCard = widget.NewCard("Network change", "offline, from the settings entered: before (-) and after (+); the push shows the sensor's live before", s.diff)
	return s
}

func (s *reviewStep) title() string { return "Review" }

func (s *reviewStep) content() fyne.CanvasObject {
	if s.page == nil {
		s.page = container.NewVBox(s.summary,
			s.diffCard,
			widget.NewCard("Findings", "", s.findings.box), s.notes.at("Review", nil), s.accept, s.notes.at("Warnings", nil))
	}
	return s.page
}

// enter runs the offline check off the UI goroutine.
func (s *reviewStep) enter() {
	row := s.wiz.row()
	inv := &provision.Inventory{Path: "setup wizard", Dir: s.env.filesDir(), Rows: []provision.Row{row}}
	o := provision.CheckOptions{Now: s.env.Now(), ActivationRoots: s.env.ActivationRoots, CertPassphrase: []byte(s.wiz.cert.passphrase.Text)}
	s.rep = nil
	s.notes.clear()
	s.accept.SetChecked(false)
	s.accept.Hide()
	s.summary.SetText("Checking everything once more…")
	run(&s.tasks, func(context.Context) *provision.CheckReport {
		return provision.Check(inv, o)
	}, func(r *provision.CheckReport) {
		rc := r.Rows[0]
		rc.Findings = append(rc.Findings, r.Fleet...)
		s.rep = &rc
		s.summary.SetText("Sensor " + row.Sensor + " at " + row.SSHAddr() + " (host key " + s.wiz.conn.connected + ")" +
			"\nAfter the push it answers at " + rc.FinalIP + " as " + row.NewHostname +
			"\nCertificate " + rc.CN + ", SHA-256 " + rc.CertFingerprint)
		s.diff.SetText(strings.Join(rc.Diff, "\n"))
		s.findings.set(rc.Findings)
		if hasWarning(rc.Findings) {
			s.accept.Show()
		}
		s.wiz.update()
	})
}

func hasWarning(fs []certs.Finding) bool {
	for _, f := range fs {
		if f.Severity == certs.SeverityWarning {
			return true
		}
	}
	return false
}

func (s *reviewStep) ready() (bool, fyne.CanvasObject) {
	switch {
	case s.rep == nil:
		return false, nil
	case hasErrorFinding(s.rep.Findings):
		s.notes.set("Review", fieldProblem("Review", "Go back and fix every error above before pushing."))
	case hasWarning(s.rep.Findings) && !s.accept.Checked:
		s.notes.set("Warnings", fieldProblem("Warnings", "Read the warnings above and tick that you accept them, or go back and fix them."))
	default:
		return true, nil
	}
	return false, s.notes.first()
}
