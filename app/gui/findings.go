package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
)

// findingsView shows findings the way engineers read them out over the
// phone: severity, stable code and message on one line, the fix below.
type findingsView struct {
	box   *fyne.Container
	empty string
	shown []certs.Finding
}

func newFindingsView(empty string) *findingsView {
	v := &findingsView{box: container.NewVBox(), empty: empty}
	v.set(nil)
	return v
}

// set replaces the findings shown; nil shows the empty text.
func (v *findingsView) set(fs []certs.Finding) {
	v.shown = fs
	v.box.RemoveAll()
	// An empty view takes no room: a hidden box adds no padding to the
	// form or list it sits in.
	if len(fs) == 0 {
		if v.empty == "" {
			v.box.Hide()
			return
		}
		l := widget.NewLabel(v.empty)
		l.Wrapping = fyne.TextWrapWord
		v.box.Add(l)
		v.box.Show()
		return
	}
	for _, f := range fs {
		v.box.Add(findingRow(f))
	}
	v.box.Show()
}

func findingRow(f certs.Finding) fyne.CanvasObject {
	icon := widget.NewIcon(theme.InfoIcon())
	imp := widget.LowImportance
	switch f.Severity {
	case certs.SeverityError:
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		imp = widget.DangerImportance
	case certs.SeverityWarning:
		icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		imp = widget.WarningImportance
	}
	head := widget.NewLabel(f.Code + "  " + f.Message)
	head.TextStyle = fyne.TextStyle{Bold: true}
	head.Importance = imp
	head.Wrapping = fyne.TextWrapWord
	fix := widget.NewLabel("Fix: " + f.Hint)
	fix.Wrapping = fyne.TextWrapWord
	return newBorder(nil, nil, container.NewVBox(icon), nil, container.NewVBox(head, fix))
}

// hasErrors reports whether any finding shown is an error.
func (v *findingsView) hasErrors() bool {
	for _, f := range v.shown {
		if f.Severity == certs.SeverityError {
			return true
		}
	}
	return false
}
