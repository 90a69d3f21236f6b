package gui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
)

// Auth choices on the Connect page.
const (
	authPassword = "Password"
	authKey      = "Key file"
)

// connectStep signs in to the sensor over SSH, shows the host key's
// fingerprint to confirm on first contact (sshconn.KnownHosts) and reads the
// sensor's own name and id (sensorcore status) for the Activation page. The
// password lives only in the entry.
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
	keyUse      *widget.Label // which key an empty key file signs in with
	keyBrowse   *widget.Button
	keyPass     *widget.Entry
	connectBtn  *widget.Button
	trustBtn    *widget.Button
	cancelBtn   *widget.Button
	state       *widget.Label
	form        *widget.Form
	notes       notes
	page        *fyne.Container

	unknown   *sshconn.UnknownHostError // first contact waiting for the engineer
	connected string                    // host key fingerprint once signed in
	// live is what the sensor said about itself once signed in; nil when
	// not connected or when its status could not be read.
	live     *provision.Status
	liveAddr string // where live was read
}

func newConnectStep(env Env, wiz *wizardScreen) *connectStep {
	s := &connectStep{env: env, wiz: wiz, tasks: tasks{ui: env.ui},
		address: widget.NewSelectEntry(nil), sshPort: widget.NewEntry(), consolePort: widget.NewEntry(),
		user: widget.NewEntry(), password: widget.NewPasswordEntry(), keyFile: widget.NewEntry(),
		keyPass: widget.NewPasswordEntry(), state: widget.NewLabel("")}
	s.state.Wrapping = fyne.TextWrapWord
	s.address.SetPlaceHolder("192.0.2.10 or sensor-01.plant.example")
	s.address.SetOptions(recentHostOptions(env))
	s.sshPort.SetPlaceHolder("22")
	s.consolePort.SetText("443")
	user := DefaultSettings().DefaultUser
	if env.App != nil {
		user = LoadSettings(env.App.Preferences()).DefaultUser
	}
	s.user.SetText(user)
	s.keyFile.SetPlaceHolder("optional")
	s.keyBrowse = widget.NewButtonWithIcon("", theme.FolderOpenIcon(), s.onBrowse)
	s.keyUse = &widget.Label{SizeName: theme.SizeNameCaptionText, Wrapping: fyne.TextWrapWord}
	s.auth = widget.NewRadioGroup([]string{authPassword, authKey}, func(string) { s.syncAuth(); s.reset() })
	s.auth.Horizontal = true
	s.auth.Required = true // a sign-in method is always chosen
	s.auth.SetSelected(authPassword)
	s.connectBtn = widget.NewButtonWithIcon("Connect", theme.LoginIcon(), s.onConnect)
	wiz.menu.btn.Hide() // until signed in
	s.trustBtn = widget.NewButtonWithIcon("Trust this host key", theme.ConfirmIcon(), s.onTrust)
	s.trustBtn.Hide()
	s.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.tasks.Cancel)
	s.cancelBtn.Hide()
	for _, e := range []*widget.Entry{&s.address.Entry, s.sshPort, s.consolePort, s.user, s.password, s.keyFile, s.keyPass} {
		e.OnChanged = func(string) { s.reset() }
		e.OnSubmitted = func(string) { s.onEnter() }
	}
	for _, e := range []*widget.Entry{&s.address.Entry, s.user, s.keyFile} {
		e.OnChanged = func(string) { s.reset(); s.showKey() }
	}
	s.syncAuth()
	return s
}

// recentHostOptions are the hosts signed in to lately, for the address's
// list.
func recentHostOptions(env Env) []string {
	if env.App == nil {
		return nil
	}
	var opts []string
	for _, h := range recentHosts(env.App.Preferences()) {
		if host, _, err := net.SplitHostPort(h); err == nil {
			opts = append(opts, host)
		}
	}
	return slices.Compact(opts)
}

// syncAuth enables the fields of the chosen sign-in method only: the key
// file and its passphrase while Key file is chosen, the password while
// Password is.
func (s *connectStep) syncAuth() {
	key := s.auth.Selected == authKey
	setEnabled(s.password, !key)
	setEnabled(s.keyFile, key)
	setEnabled(s.keyBrowse, key)
	setEnabled(s.keyPass, key)
	if key {
		s.notes.clear("Password")
	} else {
		s.notes.clear("Key file")
	}
	s.showKey()
	if s.form != nil {
		s.form.Refresh() // the labels of the fields turned on or off
	}
}

// signIn is how a Key file sign-in goes: the file typed, or with the
// field empty the same defaults as the CLI's inventory rows: the first
// IdentityFile of ~/.ssh/config for the host that exists, else the first
// of ~/.ssh/id_ed25519, id_ecdsa and id_rsa, else the ssh-agent with its
// keys. use says which, for the field's hint.
func (s *connectStep) signIn(hs sshconn.HostSettings) (auth sshconn.Auth, use string, err error) {
	pass := keyPassphrase(s.keyPass.Text)
	if k := strings.TrimSpace(s.keyFile.Text); k != "" {
		return sshconn.Auth{KeyFile: k, Passphrase: pass}, k, nil
	}
	ks, kerr := sshconn.KeysFor(hs)
	if kerr == nil {
		use = tildePath(ks[0])
		for _, k := range ks[1:] {
			use += ", then " + tildePath(k)
		}
		return sshconn.Auth{KeyFile: ks[0], MoreKeyFiles: ks[1:], Passphrase: pass}, use, nil
	}
	getenv := s.env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if sock := sshconn.FindAgent(getenv); sock != "" && (!hs.IdentitiesOnly || len(hs.AgentKeys()) > 0) {
		keys, err := sshconn.AgentKeys(sock)
		if err == nil && len(keys) > 0 {
			use = fmt.Sprintf("the agent: %d keys", len(keys))
			if len(keys) == 1 {
				use = "the agent: 1 key"
			}
			return sshconn.Auth{AgentSocket: sock, AgentKeys: hs.AgentKeys()}, use, nil
		}
	}
	why, _, _ := strings.Cut(kerr.Error(), ": name the key file")
	return sshconn.Auth{}, "", fmt.Errorf("%s and no ssh-agent with keys runs", why)
}

// hostSettings are the host's settings: what the form says, completed
// from ~/.ssh/config (HostName, Port, IdentityFile, IdentitiesOnly...),
// then the defaults (port 22). port 0 is an empty field.
func (s *connectStep) hostSettings(host string, port int, user string) (sshconn.HostSettings, error) {
	hs := sshconn.HostSettings{Port: port, User: user}
	var err error
	if host != "" {
		var cfg *sshconn.SSHConfig
		if cfg, err = sshconn.LoadSSHConfig(); err == nil {
			hs, err = cfg.Resolve(host, hs)
		}
	}
	if hs.Port == 0 {
		hs.Port = 22
	}
	return hs, err
}

// tildePath writes a path under the home folder as ~/..., as the
// engineer knows it.
func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return filepath.Join("~", rel)
	}
	return p
}

// showKey says under the key file which key an empty field signs in with.
func (s *connectStep) showKey() {
	hint := ""
	if s.auth.Selected == authKey && strings.TrimSpace(s.keyFile.Text) == "" {
		port, _ := s.port()
		hs, err := s.hostSettings(strings.TrimSpace(s.address.Text), port, strings.TrimSpace(s.user.Text))
		if err == nil {
			var use string
			if _, use, err = s.signIn(hs); err == nil {
				hint = "Empty: signs in with " + tildePath(use)
			}
		}
		if err != nil {
			hint = "Empty: " + err.Error()
		}
	}
	s.keyUse.SetText(hint)
	s.keyUse.Hidden = hint == ""
	s.keyUse.Refresh()
}

func (s *connectStep) title() string { return "Connect" }

func (s *connectStep) content() fyne.CanvasObject {
	if s.form == nil {
		n := &s.notes
		s.form = &widget.Form{Items: []*widget.FormItem{
			{Text: "Sensor address", Widget: n.under("Sensor address", s.address, &s.address.Entry), HintText: "where the sensor answers now"},
			{Text: "SSH port", Widget: n.under("SSH port", s.sshPort, s.sshPort), HintText: "empty: the Port ~/.ssh/config gives for the address, else 22"},
			{Text: "Console port", Widget: n.under("Console port", s.consolePort, s.consolePort), HintText: "the HTTPS console, checked at the end"},
			{Text: "User", Widget: n.under("User", s.user, s.user), HintText: "admin on new images, support on older ones"},
			{Text: "Sign in with", Widget: s.auth},
			{Text: "Password", Widget: n.under("Password", s.password, s.password), HintText: "kept in memory only"},
			{Text: "Key file", Widget: n.under("Key file", container.NewVBox(newBorder(nil, nil, nil, s.keyBrowse, s.keyFile), s.keyUse), s.keyFile)},
			{Text: "Key passphrase", Widget: s.keyPass, HintText: "if the key is encrypted; kept in memory only"},
		}}
		s.page = container.NewVBox(s.form, container.NewHBox(s.connectBtn, s.trustBtn, s.cancelBtn, s.wiz.menu.btn), s.state, n.at("Connect", nil))
	}
	return s.page
}

func (s *connectStep) enter() {}

func (s *connectStep) ready() (bool, fyne.CanvasObject) {
	if s.connected != "" {
		return true, nil
	}
	if s.unknown != nil {
		s.notes.set("Connect", fieldProblem("Connect", "Compare the fingerprint above with the sensor's, then press Trust this host key."))
	} else {
		s.notes.set("Connect", fieldProblem("Connect", "Press Connect and confirm the sensor's host key first."))
	}
	return false, s.notes.first()
}

// reset forgets a connection, and the problems it had, when the engineer
// edits the form.
func (s *connectStep) reset() {
	s.notes.clear()
	if s.connected == "" && s.unknown == nil {
		return
	}
	s.connected, s.unknown, s.live, s.liveAddr = "", nil, nil, ""
	s.trustBtn.Hide()
	s.wiz.menu.btn.Hide()
	s.state.SetText("")
	s.wiz.act.liveChanged()
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

// endpoint reads the form; a field in error gets its note, and ok is false.
// knownHosts are the known_hosts files ~/.ssh/config names for the host
// (UserKnownHostsFile), nil for Tapline's own.
func (s *connectStep) endpoint() (ep sshconn.Endpoint, knownHosts []string, ok bool) {
	ok = true
	bad := func(field, fix string) {
		s.notes.set(field, fieldProblem(field, fix))
		ok = false
	}
	host := strings.TrimSpace(s.address.Text)
	if host == "" {
		bad("Sensor address", "Enter the sensor's address, for example 192.0.2.10.")
	}
	port, pok := s.port()
	if !pok {
		bad("SSH port", "Enter a port from 1 to 65535, or leave it empty for 22 (or the Port ~/.ssh/config gives).")
	}
	if p, err := strconv.Atoi(strings.TrimSpace(s.consolePort.Text)); err != nil || p < 1 || p > 65535 {
		bad("Console port", "Enter a port from 1 to 65535 (443 unless the sensor says otherwise).")
	}
	hs, err := s.hostSettings(host, port, strings.TrimSpace(s.user.Text))
	if err != nil {
		bad("Sensor address", err.Error()+".")
	}
	if hs.User == "" {
		bad("User", "Enter the sensor's privileged user, admin or support.")
	}
	var auth sshconn.Auth
	switch s.auth.Selected {
	case authKey:
		if auth, _, err = s.signIn(hs); err != nil {
			bad("Key file", "Choose the private key file that signs in to the sensor ("+err.Error()+").")
		}
	default:
		if s.password.Text == "" {
			bad("Password", "Enter the sensor's password.")
		}
		auth = sshconn.Auth{Password: s.password.Text}
	}
	if hs.HostName != "" {
		host = hs.HostName
	}
	return sshconn.Endpoint{Addr: net.JoinHostPort(host, strconv.Itoa(hs.Port)), User: hs.User, Auth: auth}, hs.KnownHostsFiles, ok
}

// port is the SSH port typed, 0 when the field is empty; ok is false for
// anything but a port.
func (s *connectStep) port() (int, bool) {
	t := strings.TrimSpace(s.sshPort.Text)
	if t == "" {
		return 0, true
	}
	n, err := strconv.Atoi(t)
	return n, err == nil && n >= 1 && n <= 65535
}

// secrets are the sign-in's secrets as typed, for a session.
func (s *connectStep) secrets() provision.Secrets {
	if s.auth.Selected == authKey {
		return provision.Secrets{KeyPassphrase: keyPassphrase(s.keyPass.Text)}
	}
	return provision.Secrets{SSHPassword: s.password.Text}
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
	s.notes.clear()
	ep, files, ok := s.endpoint()
	if !ok {
		s.wiz.reveal(s.notes.first())
		return
	}
	// As the Fleet and the CLI do: the known_hosts files ~/.ssh/config
	// names for the host, read in full and a confirmed key appended to the
	// first; else Tapline's own file. The push (row) uses the same files.
	trust := &sshconn.KnownHosts{File: s.env.KnownHosts, Accept: func(u *sshconn.UnknownHostError) bool {
		return accept != "" && u.Fingerprint == accept
	}}
	if len(files) > 0 {
		trust.File, trust.Also = files[0], files[1:]
	}
	timeout := DefaultSettings().ConnectTimeout
	if s.env.App != nil {
		timeout = LoadSettings(s.env.App.Preferences()).ConnectTimeout
	}
	s.connectBtn.Disable()
	s.trustBtn.Hide()
	s.cancelBtn.Show() // a sensor that does not answer holds the dial up to the connect timeout
	s.state.SetText("Connecting to " + ep.Addr + "…")
	type out struct {
		fp        string
		st        provision.Status
		err       error
		statusErr error
	}
	run(&s.tasks, func(ctx context.Context) out {
		c, err := sshconn.Dial(ctx, ep, trust, sshconn.Options{Timeout: timeout})
		if err != nil {
			if ctx.Err() != nil {
				return out{err: ctx.Err()} // the engineer pressed Cancel
			}
			return out{err: err}
		}
		defer c.Close()
		o := out{fp: ssh.FingerprintSHA256(c.HostKey)}
		// Who the sensor says it is, for the Activation page.
		o.st, o.statusErr = provision.ReadStatus(ctx, c.Client, "")
		return o
	}, func(o out) {
		s.connectBtn.Enable()
		s.cancelBtn.Hide()
		var unknown *sshconn.UnknownHostError
		var auth *sshconn.AuthError
		switch {
		case o.err == nil:
			s.unknown = nil
			s.connected = o.fp
			s.wiz.menu.btn.Show()
			if s.env.App != nil {
				rememberHost(s.env.App.Preferences(), ep.Addr)
			}
			txt := "Signed in to " + ep.Addr + " as " + ep.User + ". Host key " + o.fp + " is trusted."
			if o.statusErr == nil {
				st := o.st
				s.live, s.liveAddr = &st, ep.Addr
				txt += "\n" + describeLive(st)
			} else {
				s.notes.set("Connect", problem(codeStatus, "Signed in, but the sensor's name could not be read (sensorcore status)",
					"The Activation page cannot compare the file with this sensor; check that sensorcore runs on it. "+problemFor("Reading the status", o.statusErr).Hint))
			}
			s.state.SetText(txt)
		case errors.As(o.err, &unknown):
			// The fingerprint is shown once, here, beside the button that trusts it.
			s.unknown = unknown
			s.state.SetText("First contact with " + unknown.Host + ". Compare this fingerprint with the one on the sensor's console " +
				"(its overview page) or its label, then trust it:\n" + unknown.KeyType + " " + unknown.Fingerprint)
			s.trustBtn.Show()
		case errors.As(o.err, &auth), errors.Is(o.err, sshconn.ErrNoAuth):
			s.state.SetText("")
			field := "Password"
			if s.auth.Selected == authKey {
				field = "Key file"
			}
			s.notes.set(field, problemFor("Signing in to "+ep.Addr, o.err))
		default:
			s.state.SetText("")
			s.notes.set("Connect", problemFor("Connecting to "+ep.Addr, o.err))
		}
		s.wiz.act.liveChanged()
		s.wiz.update()
		s.wiz.reveal(s.notes.first())
	})
}

// describeLive is the sensor's own account of itself, in one line.
func describeLive(st provision.Status) string {
	var b strings.Builder
	switch st.SensorNameSource {
	case provision.NameFromHost:
		fmt.Fprintf(&b, "The sensor has no name yet (host name %q)", st.SensorName)
	default:
		fmt.Fprintf(&b, "The sensor says it is %q", st.SensorName)
		if st.SensorID != "" {
			fmt.Fprintf(&b, " (ID %s)", st.SensorID)
		}
	}
	fmt.Fprintf(&b, ", sensorcore %s, ", st.Version)
	if st.Generation == 0 {
		b.WriteString("never provisioned.")
	} else {
		fmt.Fprintf(&b, "configuration generation %d.", st.Generation)
	}
	return b.String()
}
