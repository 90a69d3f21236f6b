package gui

import (
	"context"
	"net"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// sensorRef is the sensor a menu acts on: its inventory row (user,
// sign-in), the secrets to sign in with, and, once a push ended, where it
// answers now and the host key that push proved there.
type sensorRef struct {
	row    provision.Row
	sec    provision.Secrets
	addr   string        // host:port now; "" is the row's own address
	pinned ssh.PublicKey // the key a push proved at addr; nil: known_hosts
}

// rowNow is the row as the sensor answers now (its address moved by a push).
func (r sensorRef) rowNow() provision.Row {
	row := r.row
	if host, port, err := net.SplitHostPort(r.addr); err == nil {
		row.Address = host
		row.SSHPort, _ = strconv.Atoi(port)
	}
	return row
}

// sensorTarget is the sensor a menu acts on; ok is false when there is
// none (no row selected, not connected yet) and why says what to do.
type sensorTarget func() (ref sensorRef, ok bool, why string)

// sensorMenu is the sensor menu: what the app does to one sensor besides
// pushing to it, over the same provisioning SSH channel and host trust:
// Validate (the post-install validation) and Reset console password. Its
// button opens the menu; Fleet has one for the selected row, the wizard one
// for the sensor it signed in to.
type sensorMenu struct {
	env    Env
	tasks  tasks
	target sensorTarget
	btn    *widget.Button
	// validated, when set, receives each validation (on the UI goroutine);
	// without it the menu shows it in a dialog.
	validated func(ref sensorRef, v *provision.Validation, err error)

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
		fyne.NewMenuItem("Validate", m.validate),
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

// validate asks the sensor to validate itself (sensorcore validate over
// SSH: sanity, gateway, DNS, NTP, each monitoring port) off the UI
// goroutine, trusting the key a push proved where it answers now, or
// known_hosts.
func (m *sensorMenu) validate() {
	ref, ok, why := m.target()
	if !ok {
		m.say("Validate", []certs.Finding{fieldProblem("Sensor", why)})
		return
	}
	sess := m.env.session(ref.sec, nil)
	t, err := sess.Target(ref.rowNow())
	if err != nil {
		m.done(ref, nil, err)
		return
	}
	t.PinnedKey = ref.pinned
	m.btn.Disable()
	type out struct {
		v   *provision.Validation
		err error
	}
	run(&m.tasks, func(ctx context.Context) out {
		v, err := sess.Validate(ctx, t)
		return out{v, err}
	}, func(o out) {
		m.btn.Enable()
		m.done(ref, o.v, o.err)
	})
}

// done hands a validation to the menu's owner, or shows it.
func (m *sensorMenu) done(ref sensorRef, v *provision.Validation, err error) {
	if m.validated != nil {
		m.validated(ref, v, err)
		return
	}
	if err != nil {
		m.say("Validate", []certs.Finding{problemFor("Validating "+ref.row.Sensor, err)})
		return
	}
	vv := newValidationView()
	vv.set(v, "")
	m.show("Validation of "+ref.row.Sensor, vv.box)
}

// askReset asks which privileged account to recover, saying what a reset
// does, before anything is sent.
func (m *sensorMenu) askReset() {
	ref, ok, why := m.target()
	if !ok {
		m.say("Reset console password", []certs.Finding{fieldProblem("Sensor", why)})
		return
	}
	row := ref.rowNow()
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
	ref, ok, why := m.target()
	if !ok {
		m.say("Reset console password", []certs.Finding{fieldProblem("Sensor", why)})
		return
	}
	row := ref.rowNow()
	sess := m.env.session(ref.sec, nil) // the host key must be trusted already
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
	m.show("Console password reset", body, func() {
		pw.SetText("")
		if m.last != nil {
			m.last.Password = "" // the app holds it no longer than the dialog
		}
	})
}

// say shows what went wrong in a dialog of its own.
func (m *sensorMenu) say(title string, fs []certs.Finding) {
	v := newFindingsView("")
	v.set(fs)
	m.show(title, v.box)
}

// show shows body in a dialog with Close; onClosed run when it closes.
func (m *sensorMenu) show(title string, body fyne.CanvasObject, onClosed ...func()) {
	if m.env.Window == nil {
		return
	}
	d := dialog.NewCustom(title, "Close", container.NewVScroll(body), m.env.Window)
	d.Resize(fyne.NewSize(620, 420))
	m.shown = d
	m.env.dialogs.show(d, onClosed...)
}
