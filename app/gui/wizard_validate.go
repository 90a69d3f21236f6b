package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/provision"
)

// validateStep is the wizard's last page: the sensor's validation after the
// push (docs/field-facts.md "First setup", step 5), as the push's validate
// step read it over the same SSH session, and Validate again once the
// engineer fixed something (a SPAN port that mirrors no OT traffic is the
// commonest site mistake).
type validateStep struct {
	env Env
	wiz *wizardScreen

	intro    *widget.Label
	view     *validationView
	againBtn *widget.Button
	notes    notes
	page     *fyne.Container
	// shownFor is the push whose validation the page shows, or showed
	// before the engineer validated again.
	shownFor *provision.Result
}

func newValidateStep(env Env, wiz *wizardScreen) *validateStep {
	s := &validateStep{env: env, wiz: wiz, intro: widget.NewLabel(""), view: newValidationView()}
	s.intro.Wrapping = fyne.TextWrapWord
	s.againBtn = widget.NewButtonWithIcon("Validate again", theme.ViewRefreshIcon(), wiz.menu.validate)
	s.page = container.NewVBox(s.intro, container.NewHBox(s.againBtn), s.notes.at("Validate", nil), s.view.box)
	return s
}

func (s *validateStep) title() string { return "Validate" }

func (s *validateStep) content() fyne.CanvasObject { return s.page }

// enter shows what the push's validate step found, unless the engineer
// validated again since.
func (s *validateStep) enter() {
	r := s.wiz.push.Result()
	if r == nil || r.Outcome != provision.OutcomeDone {
		s.intro.SetText("Push the settings first; the push ends with the sensor's validation.")
		s.view.set(nil, "")
		setEnabled(s.againBtn, s.wiz.conn.connected != "")
		return
	}
	s.againBtn.Enable()
	if r == s.shownFor {
		return // this push's, or a validation asked for since
	}
	s.shownFor = r
	s.intro.SetText(validateIntro)
	s.show(r.Validation, r.ValidationError)
}

const validateIntro = "The sensor checked itself after the push: every component running, the gateway answering, " +
	"each DNS server knowing its name, its clock synchronised, and each monitoring port seeing OT traffic. " +
	"Fix what is flagged (at the sensor, the switch's SPAN port or the plant's DNS), then Validate again."

// show puts a validation on the page; errText says why there is none.
func (s *validateStep) show(v *provision.Validation, errText string) {
	s.notes.clear()
	why := ""
	if v == nil {
		why = "Not validated"
		if errText != "" {
			why += ": " + errText
		}
	}
	s.view.set(v, why)
	s.wiz.update()
}

// validated receives a validation the sensor menu or Validate again asked
// for, and shows this page with it.
func (s *validateStep) validated(_ sensorRef, v *provision.Validation, err error) {
	s.shownFor = s.wiz.push.Result()
	if s.wiz.steps[s.wiz.cur] != wizardStep(s) {
		s.wiz.show(len(s.wiz.steps) - 1)
	}
	s.intro.SetText(validateIntro)
	if err != nil {
		s.view.set(nil, "")
		s.notes.set("Validate", problemFor("Validating", err))
		s.wiz.reveal(s.notes.first())
		return
	}
	s.show(v, "")
}

func (s *validateStep) ready() (bool, fyne.CanvasObject) { return false, nil }
