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
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/activation"
)

// activationStep chooses the sensor's activation file, shows the sensor name
// it was issued for beside the name the sensor signed in to gives itself,
// and asks the engineer to confirm it and approve the terms (docs/field-facts.md
// step 3). activation.Check decides what is wrong with the file;
// identityProblem whether it is for this sensor.
type activationStep struct {
	env   Env
	wiz   *wizardScreen
	tasks tasks

	path    *widget.Entry
	browse  *widget.Button
	details *widget.Label
	confirm *widget.Check
	terms   *widget.Check
	notes   notes
	page    *fyne.Container

	file    *activation.File
	issues  []certs.Finding // activation.Check's findings for file
	loading string          // the path being read, "" when none
}

func newActivationStep(env Env, wiz *wizardScreen) *activationStep {
	s := &activationStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui}, path: widget.NewEntry(), details: widget.NewLabel("")}
	s.path.SetPlaceHolder("the sensor's .tapact file")
	s.path.OnChanged = func(string) { s.invalidate() }
	s.path.OnSubmitted = func(string) { s.wiz.onNext() }
	s.details.Wrapping = fyne.TextWrapWord
	s.browse = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), s.onBrowse)
	s.confirm = widget.NewCheck("This is the sensor I am setting up", func(bool) { s.notes.clear("Sensor name"); s.wiz.update() })
	s.terms = widget.NewCheck("I approve the terms of use", func(bool) { s.notes.clear("Terms"); s.wiz.update() })
	n := &s.notes
	s.page = container.NewVBox(
		n.under("Activation file", newBorder(nil, nil, nil, s.browse, s.path), s.path),
		s.details, n.at("Sensor", nil),
		s.confirm, n.at("Sensor name", nil),
		s.terms, n.at("Terms", nil))
	s.sync()
	return s
}

func (s *activationStep) title() string { return "Activation" }

func (s *activationStep) content() fyne.CanvasObject { return s.page }

func (s *activationStep) enter() {}

func (s *activationStep) onBrowse() {
	s.env.openFile(func(p string) { s.path.SetText(p); s.load() })
}

// invalidate forgets the file read and its confirmation when the path is
// edited: what was checked and confirmed was another file.
func (s *activationStep) invalidate() {
	s.file, s.issues, s.loading = nil, nil, ""
	s.confirm.SetChecked(false)
	s.notes.clear()
	s.sync()
	s.wiz.update()
}

// load reads and checks the file off the UI goroutine.
func (s *activationStep) load() {
	path := strings.TrimSpace(s.path.Text)
	if path == "" {
		return
	}
	roots := s.env.ActivationRoots
	now := s.env.Now()
	s.file, s.issues, s.loading = nil, nil, path
	s.confirm.SetChecked(false)
	s.notes.clear()
	s.sync()
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
		if s.loading != path || strings.TrimSpace(s.path.Text) != path {
			return // another file was chosen meanwhile
		}
		s.file, s.issues, s.loading = o.f, o.fs, ""
		s.sync()
		s.wiz.update()
		s.wiz.reveal(s.notes.first())
	})
}

// liveChanged compares the file again when the sensor signed in to changed
// (Connect, or the engineer edited the Connect page).
func (s *activationStep) liveChanged() {
	s.sync()
}

// mismatch is the identity finding for the file and the sensor signed in
// to; nil when they agree, or when either is unknown.
func (s *activationStep) mismatch() *certs.Finding {
	if s.file == nil {
		return nil
	}
	return identityProblem(s.wiz.conn.live, s.wiz.conn.liveAddr, s.file.Payload)
}

func (s *activationStep) sync() {
	s.notes.set("Activation file", s.issues...)
	bad := s.mismatch()
	if bad != nil {
		s.notes.set("Sensor", *bad)
	} else {
		s.notes.clear("Sensor")
	}
	switch {
	case s.loading != "":
		s.details.SetText("Reading " + filepath.Base(s.loading) + "…")
	case s.file == nil && strings.TrimSpace(s.path.Text) != "" && len(s.issues) == 0:
		s.details.SetText("Press Enter or Next to read " + filepath.Base(strings.TrimSpace(s.path.Text)) + ".")
	case s.file == nil:
		s.details.SetText("Choose the activation file issued for this sensor.")
	}
	if s.file == nil {
		s.confirm.Text = "This is the sensor I am setting up"
		s.confirm.Refresh()
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
	if live := s.wiz.conn.live; live != nil && bad == nil {
		if isUnnamed(live) {
			txt += fmt.Sprintf("\nThe sensor at %s has no name yet (host name %q): this file names it %q.", s.wiz.conn.liveAddr, live.SensorName, p.SensorName)
		} else {
			txt += fmt.Sprintf("\nThe sensor at %s says it is %q: this file is for it.", s.wiz.conn.liveAddr, live.SensorName)
		}
	}
	s.details.SetText(txt)
	s.confirm.Text = "This is sensor " + p.SensorName
	s.confirm.Refresh()
	if bad != nil && bad.Severity == certs.SeverityError {
		s.confirm.SetChecked(false) // never confirm a file the sensor would refuse
		s.confirm.Disable()
	} else {
		s.confirm.Enable()
	}
	s.terms.Enable()
}

// isUnnamed reports whether the sensor has no name a bundle must carry:
// never named (it reports its host name), or an older sensorcore that does
// not say and was never provisioned (provision's preflight rule).
func isUnnamed(st *provision.Status) bool {
	switch st.SensorNameSource {
	case provision.NameFromHost:
		return true
	case "":
		return st.Generation == 0 && st.SensorID == ""
	}
	return false
}

// identityProblem compares an activation file with the sensor signed in to
// as the sensor's apply will: config.json's name must be the file's; an
// activated sensor keeps its name or its id (a rename keeps the id, a
// re-issued file the name); a sensor never named takes any. nil when they
// agree or the sensor is unknown.
func identityProblem(live *provision.Status, addr string, p activation.Payload) *certs.Finding {
	if live == nil || isUnnamed(live) || p.SensorName == live.SensorName {
		return nil
	}
	them := fmt.Sprintf("%q", live.SensorName)
	if live.SensorID != "" {
		them += " (ID " + live.SensorID + ")"
	}
	msg := fmt.Sprintf("This file is for sensor %q (ID %s), but the sensor at %s is %s", p.SensorName, p.SensorID, addr, them)
	fix := fmt.Sprintf("Choose the activation file issued for %s, or go back to Connect if you meant to set up %s; the sensor would refuse this file (TL-APP-004).",
		live.SensorName, p.SensorName)
	if live.SensorNameSource != provision.NameFromConfig && live.SensorID != "" && live.SensorID == p.SensorID {
		f := certs.Finding{Code: codeIdentity, Severity: certs.SeverityWarning,
			Message: fmt.Sprintf("This file renames sensor %q (ID %s) at %s to %q", live.SensorName, live.SensorID, addr, p.SensorName),
			Hint:    "Go ahead if the sensor is being renamed; otherwise choose the file issued for " + live.SensorName + "."}
		return &f
	}
	f := problem(codeIdentity, msg, fix)
	return &f
}

// sensorName is the confirmed sensor's name, "" until confirmed.
func (s *activationStep) sensorName() string {
	if s.file == nil || !s.confirm.Checked {
		return ""
	}
	return s.file.Payload.SensorName
}

func (s *activationStep) ready() (bool, fyne.CanvasObject) {
	path := strings.TrimSpace(s.path.Text)
	switch {
	case path == "":
		s.notes.set("Activation file", fieldProblem("Activation file", "Choose the sensor's activation file."))
	case s.loading != "":
		return false, s.details
	case s.file == nil && len(s.issues) == 0:
		s.load() // typed or pasted, not read yet
		return false, s.details
	case s.file == nil || hasErrorFinding(s.issues):
	case hasErrorFinding(s.notes.of("Sensor")):
	case !s.confirm.Checked:
		s.notes.set("Sensor name", fieldProblem("Sensor name", "Tick that this is sensor "+s.file.Payload.SensorName+"; a file for another sensor needs a new one."))
	case !s.terms.Checked:
		s.notes.set("Terms", fieldProblem("Terms", "Approve the terms of use to activate."))
	default:
		return true, nil
	}
	return false, s.notes.first()
}

func hasErrorFinding(fs []certs.Finding) bool {
	for _, f := range fs {
		if f.Severity == certs.SeverityError {
			return true
		}
	}
	return false
}
