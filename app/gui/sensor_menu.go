package gui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// sensorTarget is the sensor a menu acts on: its inventory row (address,
// user, sign-in) and the secrets to sign in with; ok is false when there is
// none (no row selected, not connected yet) and why says what to do.
type sensorTarget func() (row provision.Row, sec provision.Secrets, ok bool, why string)

// sensorMenu is the sensor menu: what the app does to one sensor besides
// pushing to it, over the same provisioning SSH channel and host trust. Its
// button opens the menu; Fleet has one for the selected row, the wizard one
// for the sensor it signed in to.
type sensorMenu struct {
	env    Env
	tasks  tasks
	target sensorTarget
	btn    *widget.Button

	// The last reset's outcome (the password only while its dialog is up).
	last    *provision.ConsoleReset
	lastErr []certs.Finding
	shown   dialog.Dialog
}

func newSensorMenu(env Env, target sensorTarget) *sensorMenu {
	m := &sensorMenu{env: env, tasks: tasks{ui: env.ui}, target: target}
	m.btn = widget.NewButtonWithIcon("Sensor", theme.MenuDropDownIcon(), m.open)
	m.btn.IconPlacement = widget.ButtonIconTrailingText
	return m
}

// items are the menu's entries.
func (m *sensorMenu) items() []*fyne.MenuItem {
	return []*fyne.MenuItem{
		fyne.NewMenuItem("Reset console password…", m.askReset),
	}
}

func (m *sensorMenu) open() {
	c := fyne.CurrentApp().Driver().CanvasForObject(m.btn)
	if c == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(m.btn).Add(fyne.NewPos(0, m.btn.Size().Height))
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", m.items()...), c, pos)
}

// askReset asks which privileged account to recover, saying what a reset
// does, before anything is sent.
func (m *sensorMenu) askReset() {
	row, _, ok, why := m.target()
	if !ok {
		m.say("Reset console password", []certs.Finding{fieldProblem("Sensor", why)})
		return
	}
	user := widget.NewRadioGroup(provision.ConsoleUsers, nil)
	user.Horizontal = true
	user.Required = true
	user.SetSelected(provision.ConsoleUsers[0])
	what := widget.NewLabel("The sensor gives the account a one-time password that must be changed at its next sign-in, " +
		"ends the account's console sessions and clears its sign-in lock. The reset is recorded in the sensor's account log " +
		"with your SSH user and address. Nothing else can reset a privileged account remotely.")
	what.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(widget.NewLabel("Sensor "+row.Sensor+" at "+row.SSHAddr()), &widget.Form{Items: []*widget.FormItem{{Text: "Account", Widget: user}}}, what)
	if m.env.Window == nil {
		return
	}
	d := dialog.NewCustomConfirm("Reset a console password", "Reset", "Cancel", body, func(yes bool) {
		if yes {
			m.reset(user.Selected)
		}
	}, m.env.Window)
	d.Resize(fyne.NewSize(560, 300))
	m.env.dialogs.show(d)
}

// reset recovers user's console access on the target sensor off the UI
// goroutine, then shows the one-time password once.
func (m *sensorMenu) reset(user string) {
	row, sec, ok, why := m.target()
	if !ok {
		m.say("Reset console password", []certs.Finding{fieldProblem("Sensor", why)})
		return
	}
	sess := m.env.session(sec, nil) // the host key must be trusted already
	m.last, m.lastErr = nil, nil
	m.btn.Disable()
	type out struct {
		r   provision.ConsoleReset
		err error
	}
	run(&m.tasks, func(ctx context.Context) out {
		r, err := sess.ResetConsoleUser(ctx, row, user)
		return out{r, err}
	}, func(o out) {
		m.btn.Enable()
		if o.err != nil {
			m.lastErr = []certs.Finding{problemFor("Resetting "+user+"'s console password on "+row.Sensor, o.err)}
			m.say("Reset console password", m.lastErr)
			return
		}
		r := o.r
		m.last = &r
		m.showPassword(row, r)
	})
}

// showPassword shows the one-time password once: selectable, with Copy; the
// app keeps it nowhere and drops it when the dialog closes.
func (m *sensorMenu) showPassword(row provision.Row, r provision.ConsoleReset) {
	pw := widget.NewLabel(r.Password)
	pw.TextStyle = fyne.TextStyle{Monospace: true}
	pw.Selectable = true
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if m.env.App != nil {
			m.env.App.Clipboard().SetContent(r.Password)
		}
	})
	note := widget.NewLabel("Sign in to the console as " + r.User + " with it; the sensor asks for a new password at once. " +
		"It is shown only here: the app keeps it nowhere, and the sensor keeps only its hash.")
	note.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(widget.NewLabel("One-time console password for "+r.User+" on "+row.Sensor+":"),
		newBorder(nil, nil, nil, copyBtn, pw), note)
	if m.env.Window == nil {
		return
	}
	d := dialog.NewCustom("Console password reset", "Close", body, m.env.Window)
	d.Resize(fyne.NewSize(560, 260))
	m.shown = d
	m.env.dialogs.show(d, func() {
		pw.SetText("")
		if m.last != nil {
			m.last.Password = "" // the app holds it no longer than the dialog
		}
	})
}

// say shows what went wrong in a dialog of its own.
func (m *sensorMenu) say(title string, fs []certs.Finding) {
	if m.env.Window == nil {
		return
	}
	v := newFindingsView("")
	v.set(fs)
	d := dialog.NewCustom(title, "Close", v.box, m.env.Window)
	d.Resize(fyne.NewSize(560, 220))
	m.shown = d
	m.env.dialogs.show(d)
}
