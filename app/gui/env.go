package gui

import (
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tapline/tapline/app/preset"
)

// Env is what the screens may touch of the outside world. The desktop
// launcher wires the real clock, randomness and folders; tests pin them.
type Env struct {
	App    fyne.App
	Window fyne.Window // parent of dialogs; may be nil in tests of a bare screen
	Now    func() time.Time
	Rand   io.Reader
	// FilesDir is where the local CA and reports live when the
	// Settings name no folder.
	FilesDir string
	// KnownHosts is the known_hosts file pushes trust (default: Tapline's
	// own file under FilesDir, so the engineer's ~/.ssh is never touched).
	KnownHosts string
	// ActivationRoots verify activation files; nil means the production root.
	ActivationRoots []ed25519.PublicKey
	// Inventory, when set, is opened by the Fleet screen at start.
	Inventory string
	// Getenv reads the environment (default os.Getenv): the ssh-agent
	// socket for rows with auth agent.
	Getenv func(string) string
	// Preset, when set, is what the screens start filled in with (the demo
	// fleet hands its own): the wizard for its first sensor, Fleet's
	// password and first-contact trust, and Inventory, FilesDir and
	// KnownHosts where those are not set. Its secrets stay in memory.
	Preset *preset.Preset

	dialogs *dialogs
	ui      *uiQueue // nil: Fyne's own; tests set a queue they drain
	// urls, when set, receives the links the app would open in the
	// browser (tests); nil opens them with the App.
	urls func(*url.URL)
	// caKDF is the PBKDF2 count for a new local CA's keys; 0 is the certs
	// default (tests lower it to stay inside their time budget).
	caKDF int
}

// withDefaults fills the zero fields of e from a.
func (e Env) withDefaults(a fyne.App) Env {
	e.App = a
	if p := e.Preset; p != nil {
		e.Inventory = cmp.Or(e.Inventory, p.Inventory)
		e.FilesDir = cmp.Or(e.FilesDir, p.FilesDir)
		e.KnownHosts = cmp.Or(e.KnownHosts, p.KnownHosts)
	}
	if e.dialogs == nil {
		e.dialogs = &dialogs{}
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Rand == nil {
		e.Rand = rand.Reader
	}
	if e.FilesDir == "" && a != nil && a.Storage() != nil && a.Storage().RootURI() != nil {
		e.FilesDir = a.Storage().RootURI().Path()
	}
	if e.KnownHosts == "" && e.FilesDir != "" {
		e.KnownHosts = filepath.Join(e.FilesDir, "known_hosts")
	}
	return e
}

// openURL opens u in the engineer's browser.
func (e Env) openURL(u *url.URL) {
	switch {
	case e.urls != nil:
		e.urls(u)
	case e.App != nil:
		_ = e.App.OpenURL(u) // the console's address is on the page as well
	}
}

// filesDir is where the engineer's files go: the Settings folder when set,
// else the Env's.
func (e Env) filesDir() string {
	if e.App != nil {
		if d := LoadSettings(e.App.Preferences()).FilesDir; d != "" {
			return d
		}
	}
	return e.FilesDir
}
