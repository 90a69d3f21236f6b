package gui

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision/sshconn"
)

// Auth choices on the Connect page.
const (
	authPassword = "Password"
	authKey      = "Key file"
)

// connectStep signs in to the sensor over SSH and shows the host key's
// fingerprint to confirm on first contact (sshconn.KnownHosts). The password
// lives only in the entry.
type connectStep struct {
	env   Env
	wiz   *wizardScreen
	tasks tasks

	address     *widget.SelectEntry // recent hosts offered
	sshPort     *widget.Entry
	consolePort *widget.Entry
	user        *widget.Entry
	auth        *widget.RadioGroup
	password    *widget.Entry
	keyFile     *widget.Entry
	keyPass     *widget.Entry
	connectBtn  *widget.Button
	trustBtn    *widget.Button
	cancelBtn   *widget.Button
	state       *widget.Label
	form        *widget.Form

	unknown   *sshconn.UnknownHostError // first contact waiting for the engineer
	connected string                    // host key fingerprint once signed in
}

func newConnectStep(env Env, wiz *wizardScreen) *connectStep {
	s := &connectStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui},
		address: widget.NewSelectEntry(nil), sshPort: widget.NewEntry(), consolePort: widget.NewEntry(),
		user: widget.NewEntry(), password: widget.NewPasswordEntry(), keyFile: widget.NewEntry(),
		keyPass: widget.NewPasswordEntry(), state: widget.NewLabel("")}
	s.state.Wrapping = fyne.TextWrapWord
	s.address.SetPlaceHolder("192.0.2.10 or sensor-01.plant.example")
	if env.App != nil {
		var opts []string
		for _, h := range recentHosts(env.App.Preferences()) {
			if host, _, err := net.SplitHostPort(h); err == nil {
				opts = append(opts, host)
			}
		}
		s.address.SetOptions(slices.Compact(opts))
	}
	s.sshPort.SetText("22")
	s.consolePort.SetText("443")
	user := DefaultSettings().DefaultUser
	if env.App != nil {
		user = LoadSettings(env.App.Preferences()).DefaultUser
	}
	s.user.SetText(user)
	s.keyFile.SetPlaceHolder("~/.ssh/id_ed25519")
	s.auth = widget.NewRadioGroup([]string{authPassword, authKey}, func(string) { s.reset() })
	s.auth.Horizontal = true
	s.auth.SetSelected(authPassword)
	s.connectBtn = widget.NewButtonWithIcon("Connect", theme.LoginIcon(), s.onConnect)
	s.trustBtn = widget.NewButtonWithIcon("Trust this host key", theme.ConfirmIcon(), s.onTrust)
	s.trustBtn.Hide()
	s.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.tasks.Cancel)
	s.cancelBtn.Hide()
	for _, e := range []*widget.Entry{&s.address.Entry, s.sshPort, s.consolePort, s.user, s.password, s.keyFile, s.keyPass} {
		e.OnChanged = func(string) { s.reset() }
		e.OnSubmitted = func(string) { s.onEnter() }
	}
	return s
}

func (s *connectStep) title() string { return "Connect" }

func (s *connectStep) content() fyne.CanvasObject {
	if s.form == nil {
		browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), s.onBrowse)
		s.form = &widget.Form{Items: []*widget.FormItem{
			{Text: "Sensor address", Widget: s.address, HintText: "where the sensor answers now"},
			{Text: "SSH port", Widget: s.sshPort},
			{Text: "Console port", Widget: s.consolePort, HintText: "the HTTPS console, checked at the end"},
			{Text: "User", Widget: s.user, HintText: "admin on new images, support on older ones"},
			{Text: "Sign in with", Widget: s.auth},
			{Text: "Password", Widget: s.password, HintText: "kept in memory only"},
			{Text: "Key file", Widget: newBorder(nil, nil, nil, browse, s.keyFile)},
			{Text: "Key passphrase", Widget: s.keyPass},
		}}
	}
	return container.NewVBox(s.form, container.NewHBox(s.connectBtn, s.trustBtn, s.cancelBtn), s.state)
}

func (s *connectStep) enter() {}

func (s *connectStep) ready() (bool, []certs.Finding) {
	if s.connected == "" {
		return false, []certs.Finding{fieldProblem("Connect", "Press Connect and confirm the sensor's host key first.")}
	}
	return true, nil
}

// reset forgets a connection when the engineer edits the form.
func (s *connectStep) reset() {
	if s.connected == "" && s.unknown == nil {
		return
	}
	s.connected, s.unknown = "", nil
	s.trustBtn.Hide()
	s.state.SetText("")
	s.wiz.update()
}

func (s *connectStep) onEnter() {
	if s.connected != "" {
		s.wiz.onNext()
		return
	}
	s.onConnect()
}

func (s *connectStep) onBrowse() {
	s.env.openFile(func(p string) { s.keyFile.SetText(p) })
}

// endpoint reads the form; a problem names the field.
func (s *connectStep) endpoint() (sshconn.Endpoint, *certs.Finding) {
	host := strings.TrimSpace(s.address.Text)
	if host == "" {
		f := fieldProblem("Sensor address", "Enter the sensor's address, for example 192.0.2.10.")
		return sshconn.Endpoint{}, &f
	}
	port, err := strconv.Atoi(strings.TrimSpace(s.sshPort.Text))
	if err != nil || port < 1 || port > 65535 {
		f := fieldProblem("SSH port", "Enter a port from 1 to 65535 (22 unless the sensor says otherwise).")
		return sshconn.Endpoint{}, &f
	}
	if p, err := strconv.Atoi(strings.TrimSpace(s.consolePort.Text)); err != nil || p < 1 || p > 65535 {
		f := fieldProblem("Console port", "Enter a port from 1 to 65535 (443 unless the sensor says otherwise).")
		return sshconn.Endpoint{}, &f
	}
	user := strings.TrimSpace(s.user.Text)
	if user == "" {
		f := fieldProblem("User", "Enter the sensor's privileged user, admin or support.")
		return sshconn.Endpoint{}, &f
	}
	ep := sshconn.Endpoint{Addr: net.JoinHostPort(host, strconv.Itoa(port)), User: user}
	switch s.auth.Selected {
	case authKey:
		if strings.TrimSpace(s.keyFile.Text) == "" {
			f := fieldProblem("Key file", "Choose the private key file that signs in to the sensor.")
			return ep, &f
		}
		ep.Auth = s.sshAuth()
	default:
		if s.password.Text == "" {
			f := fieldProblem("Password", "Enter the sensor's password.")
			return ep, &f
		}
		ep.Auth = s.sshAuth()
	}
	return ep, nil
}

// sshAuth is the sign-in as typed; the secrets stay in memory.
func (s *connectStep) sshAuth() sshconn.Auth {
	if s.auth.Selected == authKey {
		return sshconn.Auth{KeyFile: strings.TrimSpace(s.keyFile.Text), Passphrase: keyPassphrase(s.keyPass.Text)}
	}
	return sshconn.Auth{Password: s.password.Text}
}

func (s *connectStep) onConnect() { s.dial("") }

// onTrust accepts exactly the fingerprint the engineer was shown.
func (s *connectStep) onTrust() {
	if s.unknown != nil {
		s.dial(s.unknown.Fingerprint)
	}
}

// dial connects off the UI goroutine; accept is the one fingerprint the
// engineer confirmed ("" accepts none).
func (s *connectStep) dial(accept string) {
	ep, bad := s.endpoint()
	if bad != nil {
		s.wiz.findings.set([]certs.Finding{*bad})
		return
	}
	trust := &sshconn.KnownHosts{File: s.env.KnownHosts, Accept: func(u *sshconn.UnknownHostError) bool {
		return accept != "" && u.Fingerprint == accept
	}}
	timeout := DefaultSettings().ConnectTimeout
	if s.env.App != nil {
		timeout = LoadSettings(s.env.App.Preferences()).ConnectTimeout
	}
	s.connectBtn.Disable()
	s.trustBtn.Hide()
	s.cancelBtn.Show() // a sensor that does not answer holds the dial up to the connect timeout
	s.state.SetText("Connecting to " + ep.Addr + "…")
	s.wiz.findings.set(nil)
	type out struct {
		fp  string
		err error
	}
	run(&s.tasks, func(ctx context.Context) out {
		c, err := sshconn.Dial(ctx, ep, trust, sshconn.Options{Timeout: timeout})
		if err != nil {
			if ctx.Err() != nil {
				return out{err: ctx.Err()} // the engineer pressed Cancel
			}
			return out{err: err}
		}
		fp := ssh.FingerprintSHA256(c.HostKey)
		c.Close()
		return out{fp: fp}
	}, func(o out) {
		s.connectBtn.Enable()
		s.cancelBtn.Hide()
		var unknown *sshconn.UnknownHostError
		switch {
		case o.err == nil:
			s.unknown = nil
			s.connected = o.fp
			if s.env.App != nil {
				rememberHost(s.env.App.Preferences(), ep.Addr)
			}
			s.state.SetText("Signed in to " + ep.Addr + " as " + ep.User + ". Host key " + o.fp + " is trusted.")
		case errors.As(o.err, &unknown):
			s.unknown = unknown
			s.state.SetText("First contact. Compare this fingerprint with the sensor's console or label before trusting it:\n" +
				unknown.KeyType + " " + unknown.Fingerprint)
			s.trustBtn.Show()
			s.wiz.findings.set([]certs.Finding{problemFor("Connecting", o.err)})
		default:
			s.state.SetText("")
			s.wiz.findings.set([]certs.Finding{problemFor("Connecting to "+ep.Addr, o.err)})
		}
		s.wiz.update()
	})
}
