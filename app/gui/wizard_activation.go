package gui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/sensorcore/activation"
)

// activationStep chooses the sensor's activation file, shows the sensor name
// it was issued for and asks the engineer to confirm it and approve the
// terms (FIELD-FACTS.md step 3). activation.Check decides what is wrong.
type activationStep struct {
	env   Env
	wiz   *wizardScreen
	tasks tasks

	path     *widget.Entry
	browse   *widget.Button
	details  *widget.Label
	confirm  *widget.Check
	terms    *widget.Check
	findings *findingsView

	file   *activation.File
	issues []certs.Finding
}

func newActivationStep(env Env, wiz *wizardScreen) *activationStep {
	s := &activationStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui}, path: widget.NewEntry(), details: widget.NewLabel(""), findings: newFindingsView("")}
	s.path.SetPlaceHolder("the sensor's .tapact file")
	s.path.OnSubmitted = func(string) {
		if ok, _ := s.ready(); ok {
			s.wiz.onNext()
			return
		}
		s.load()
	}
	s.details.Wrapping = fyne.TextWrapWord
	s.browse = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), s.onBrowse)
	s.confirm = widget.NewCheck("This is the sensor I am setting up", func(bool) { s.wiz.update() })
	s.terms = widget.NewCheck("I approve the terms of use", func(bool) { s.wiz.update() })
	s.sync()
	return s
}

func (s *activationStep) title() string { return "Activation" }

func (s *activationStep) content() fyne.CanvasObject {
	return container.NewVBox(
		newBorder(nil, nil, nil, s.browse, s.path),
		s.details, s.findings.box, s.confirm, s.terms)
}

func (s *activationStep) enter() {}

func (s *activationStep) onBrowse() {
	s.env.openFile(func(p string) { s.path.SetText(p); s.load() })
}

// load reads and checks the file off the UI goroutine.
func (s *activationStep) load() {
	path := strings.TrimSpace(s.path.Text)
	if path == "" {
		return
	}
	roots := s.env.ActivationRoots
	now := s.env.Now()
	s.file, s.issues = nil, nil
	s.confirm.SetChecked(false)
	s.details.SetText("Reading " + filepath.Base(path) + "…")
	type out struct {
		f  *activation.File
		fs []certs.Finding
	}
	run(&s.tasks, func(context.Context) out {
		data, err := os.ReadFile(path)
		if err != nil {
			return out{fs: []certs.Finding{problemFor("Reading "+filepath.Base(path), err)}}
		}
		f, err := activation.Parse(data)
		if err != nil {
			return out{fs: []certs.Finding{problemFor("Reading "+filepath.Base(path), err)}}
		}
		if roots == nil {
			if roots, err = activation.ProductionRoots(); err != nil {
				return out{fs: []certs.Finding{problemFor("Loading the activation root of trust", err)}}
			}
		}
		// The engineer confirms the name below; the file must be valid for it.
		_, fs, err := activation.Check(data, activation.VerifyOptions{Roots: roots, SensorName: f.Payload.SensorName, Now: now})
		if err != nil && len(fs) == 0 {
			fs = []certs.Finding{problemFor("Checking "+filepath.Base(path), err)}
		}
		return out{f, fs}
	}, func(o out) {
		if strings.TrimSpace(s.path.Text) != path {
			return // another file was chosen meanwhile
		}
		s.file, s.issues = o.f, o.fs
		s.sync()
		s.wiz.update()
	})
}

func (s *activationStep) sync() {
	s.findings.set(s.issues)
	if s.file == nil {
		s.details.SetText("Choose the activation file issued for this sensor.")
		s.confirm.Disable()
		s.terms.Disable()
		return
	}
	p := s.file.Payload
	txt := fmt.Sprintf("Issued for sensor %q (ID %s), site %s, zone %s, %s, issued %s, upload by %s.",
		p.SensorName, p.SensorID, p.Site, p.Zone, p.Mode, p.IssuedAt.UTC().Format("2006-01-02"), p.UploadBy.UTC().Format("2006-01-02"))
	if p.Expires != nil {
		txt += " Expires " + p.Expires.UTC().Format("2006-01-02") + "."
	}
	s.details.SetText(txt)
	s.confirm.Text = "This is sensor " + p.SensorName
	s.confirm.Refresh()
	s.confirm.Enable()
	s.terms.Enable()
}

// sensorName is the confirmed sensor's name, "" until confirmed.
func (s *activationStep) sensorName() string {
	if s.file == nil || !s.confirm.Checked {
		return ""
	}
	return s.file.Payload.SensorName
}

func (s *activationStep) ready() (bool, []certs.Finding) {
	switch {
	case s.file == nil:
		return false, append([]certs.Finding{fieldProblem("Activation file", "Choose the sensor's activation file.")}, s.issues...)
	case hasErrorFinding(s.issues):
		return false, nil
	case !s.confirm.Checked:
		return false, []certs.Finding{fieldProblem("Sensor name", "Confirm the sensor name the file was issued for; a file for another sensor needs a new one.")}
	case !s.terms.Checked:
		return false, []certs.Finding{fieldProblem("Terms", "Approve the terms of use to activate.")}
	}
	return true, nil
}

func hasErrorFinding(fs []certs.Finding) bool {
	for _, f := range fs {
		if f.Severity == certs.SeverityError {
			return true
		}
	}
	return false
}
