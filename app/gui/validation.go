package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/provision"
)

// checkTitles are the validation's checks in the field's words (the
// vendor's post-install validation: sanity, network validate, gateway,
// DNS, time; and the capture health of each monitoring port).
var checkTitles = map[string]string{
	"sanity":  "Component",
	"gateway": "Gateway",
	"dns":     "DNS server",
	"ntp":     "Clock",
	"capture": "Monitoring port",
}

// validationView shows a sensor's validation as the sensor reported it: its
// verdict, then a line per check (an icon for its status, the check and
// what it checked, the detail), the problems first.
type validationView struct {
	box     *fyne.Container
	verdict *widget.Label
	checks  *fyne.Container
	shown   *provision.Validation
}

func newValidationView() *validationView {
	v := &validationView{verdict: widget.NewLabel(""), checks: container.NewVBox()}
	v.verdict.Wrapping = fyne.TextWrapWord
	v.verdict.TextStyle = fyne.TextStyle{Bold: true}
	v.box = container.NewVBox(v.verdict, v.checks)
	return v
}

// set shows val; with none, why says why there is none ("" hides the view).
func (v *validationView) set(val *provision.Validation, why string) {
	v.shown = val
	v.checks.RemoveAll()
	if val == nil {
		v.verdict.SetText(why)
		v.verdict.Importance = widget.WarningImportance
		v.verdict.Refresh()
		return
	}
	v.verdict.SetText(validationHeadline(val))
	switch {
	case !val.OK:
		v.verdict.Importance = widget.DangerImportance
	case len(val.Problems()) > 0:
		v.verdict.Importance = widget.WarningImportance
	default:
		v.verdict.Importance = widget.SuccessImportance
	}
	v.verdict.Refresh()
	problems := val.Problems()
	for _, c := range problems {
		v.checks.Add(checkRow(c))
	}
	for _, c := range val.Checks {
		if c.Status != "failed" && c.Status != "warning" {
			v.checks.Add(checkRow(c))
		}
	}
}

// validationHeadline is the verdict with the sensor and the time it ran.
func validationHeadline(val *provision.Validation) string {
	s := "Validation: " + val.Verdict
	if val.SensorName != "" {
		s = val.SensorName + ": " + val.Verdict
	}
	if !val.At.IsZero() {
		s += " (" + val.At.Local().Format("15:04:05") + ")"
	}
	return s
}

// checkRow is one check: its status icon, "Gateway 192.0.2.1", the detail.
func checkRow(c provision.ValidationCheck) fyne.CanvasObject {
	icon := widget.NewIcon(theme.InfoIcon())
	imp := widget.MediumImportance
	switch c.Status {
	case "ok":
		icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	case "warning":
		icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		imp = widget.WarningImportance
	case "failed":
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		imp = widget.DangerImportance
	default: // not_configured, not_applied: said, not flagged
	}
	title := checkTitles[c.Check]
	if title == "" {
		title = c.Check
	}
	if c.Target != "" {
		title += " " + c.Target
	}
	head := widget.NewLabel(title + ": " + statusWords(c.Status))
	head.TextStyle = fyne.TextStyle{Bold: true}
	head.Importance = imp
	detail := widget.NewLabel(c.Detail)
	detail.Wrapping = fyne.TextWrapWord
	return newBorder(nil, nil, container.NewVBox(icon), nil, container.NewVBox(head, detail))
}

// statusWords is a check's status as the page says it.
func statusWords(s string) string {
	switch s {
	case "ok":
		return "ok"
	case "warning":
		return "warning"
	case "failed":
		return "failed"
	case "not_configured":
		return "not configured"
	case "not_applied":
		return "not applied (settings recorded only)"
	}
	return s
}
