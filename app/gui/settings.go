package gui

import (
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tapline/tapline/provision"
)

// Settings are the engineer's defaults. They are kept in Fyne's preferences
// store; no password or passphrase is ever among them.
type Settings struct {
	Concurrency      int           // sensors provisioned at once in a batch
	ConnectTimeout   time.Duration // SSH connect timeout
	RollbackDeadline time.Duration // how long a sensor waits for confirmation of an address change
	DefaultUser      string        // SSH user offered in new forms
	Validation       bool          // "Enable certificate validation" preselected
	FilesDir         string        // where reports and the local CA are kept
}

// DefaultSettings are used for any value not stored yet.
func DefaultSettings() Settings {
	return Settings{
		Concurrency:      8,
		ConnectTimeout:   provision.DefaultConnectTimeout, // the CLI's --connect-timeout default too
		RollbackDeadline: 120 * time.Second,
		DefaultUser:      "admin",
		Validation:       false,
	}
}

const (
	prefConcurrency = "settings.concurrency"
	prefConnect     = "settings.connect_timeout_s"
	prefRollback    = "settings.rollback_deadline_s"
	prefUser        = "settings.default_user"
	prefValidation  = "settings.validation"
	prefFilesDir    = "settings.files_dir"
)

// LoadSettings reads Settings from p, falling back to the defaults.
func LoadSettings(p fyne.Preferences) Settings {
	d := DefaultSettings()
	return Settings{
		Concurrency:      p.IntWithFallback(prefConcurrency, d.Concurrency),
		ConnectTimeout:   time.Duration(p.IntWithFallback(prefConnect, int(d.ConnectTimeout/time.Second))) * time.Second,
		RollbackDeadline: time.Duration(p.IntWithFallback(prefRollback, int(d.RollbackDeadline/time.Second))) * time.Second,
		DefaultUser:      p.StringWithFallback(prefUser, d.DefaultUser),
		Validation:       p.BoolWithFallback(prefValidation, d.Validation),
		FilesDir:         p.StringWithFallback(prefFilesDir, d.FilesDir),
	}
}

// Save writes s to p.
func (s Settings) Save(p fyne.Preferences) {
	p.SetInt(prefConcurrency, s.Concurrency)
	p.SetInt(prefConnect, int(s.ConnectTimeout/time.Second))
	p.SetInt(prefRollback, int(s.RollbackDeadline/time.Second))
	p.SetString(prefUser, s.DefaultUser)
	p.SetBool(prefValidation, s.Validation)
	p.SetString(prefFilesDir, s.FilesDir)
}

// parseBounded reads a whole number for the named field within [lo, hi].
func parseBounded(field, text string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(text)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: enter a whole number from %d to %d", field, lo, hi)
	}
	return n, nil
}
