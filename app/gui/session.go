package gui

import (
	"errors"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
)

// appValidates: every push from the app ends with the sensor's validation
// (the validate step: sanity, gateway, DNS, NTP, each monitoring port),
// which the field does after every setup.
const appValidates = true

// session is the app's push setup (provision.Session), the same for the
// wizard and Fleet: the app's known_hosts, its activation roots and clock,
// the Settings' timeouts and files folder, and the ssh-agent from the
// environment; sec adds the secrets typed into the screen (memory only).
// acceptNew is the trust policy for first contacts (nil: refused).
func (e Env) session(sec provision.Secrets, acceptNew func(*sshconn.UnknownHostError) bool) *provision.Session {
	settings := DefaultSettings()
	if e.App != nil {
		settings = LoadSettings(e.App.Preferences())
	}
	getenv := e.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if sec.AgentSocket == "" {
		sec.AgentSocket = provision.SecretsFromEnv(getenv).AgentSocket
	}
	return &provision.Session{
		KnownHosts: e.KnownHosts,
		AcceptNew:  acceptNew,
		Secrets:    sec,
		Check:      provision.CheckOptions{Now: e.Now(), ActivationRoots: e.ActivationRoots},
		Creator:    "tapline desktop",
		WorkDir:    e.filesDir(),
		Now:        e.Now,
		PushOptions: provision.Options{
			SSH:            sshconn.Options{Timeout: settings.ConnectTimeout},
			ConfirmTimeout: settings.RollbackDeadline,
			Validate:       appValidates,
		},
	}
}

// keyPassphrase is the passphrase source for an encrypted SSH key file,
// from what the engineer typed; each call returns a fresh copy (the reader
// wipes it after use).
func keyPassphrase(typed string) func(string) ([]byte, error) {
	return func(string) ([]byte, error) {
		if typed == "" {
			return nil, errors.New("the key is encrypted: enter its passphrase")
		}
		return []byte(typed), nil
	}
}
