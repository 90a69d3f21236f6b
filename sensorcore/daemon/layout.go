package daemon

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/generation"
)

// Layout is where a sensor's files live under its root ("/" on an appliance).
type Layout struct {
	Root string
}

// Etc is the configuration directory, root/etc/sensorcore.
func (l Layout) Etc() string { return filepath.Join(l.Root, "etc", "sensorcore") }

// State is the state directory, root/var/lib/sensorcore.
func (l Layout) State() string { return filepath.Join(l.Root, "var", "lib", "sensorcore") }

// Incoming is the SFTP upload directory; files ending in .part are ignored.
func (l Layout) Incoming() string { return filepath.Join(l.State(), "incoming") }

// MonitorState is the monitoring engine's own state directory (its store),
// owned by the engine's user; the same place as monitor.StateSubdir.
func (l Layout) MonitorState() string { return filepath.Join(l.State(), "monitor") }

// Store is the generation store in the state directory.
func (l Layout) Store() generation.Store { return generation.Store{Dir: l.State()} }

// ConsoleUsers is the console's account file (0600).
func (l Layout) ConsoleUsers() string { return filepath.Join(l.Etc(), "console-users.json") }

// ConsoleInitialPasswords holds the accounts' first-start passwords (0600).
func (l Layout) ConsoleInitialPasswords() string {
	return filepath.Join(l.Etc(), "console-initial-passwords")
}

// AccountsLog is the record of account events: locks, unlocks, resets,
// password changes (0600).
func (l Layout) AccountsLog() string { return filepath.Join(l.State(), "accounts.log") }

// RunFile is where the running daemon records its pid and listeners.
func (l Layout) RunFile() string { return filepath.Join(l.State(), "run.json") }

// MaxStateFile bounds every small file the daemon reads: config.json,
// run.json, factory-network.json, the self-signed certificate and key,
// /proc/PID/stat (docs/appliance.md, "Limits").
const MaxStateFile = 1 << 20

// Config is etc/sensorcore/config.json. Every field is optional.
type Config struct {
	// SensorName is this appliance's name; when set, a bundle or activation
	// file for another name is refused. Empty: the bundle's name is used.
	SensorName string `json:"sensor_name,omitempty"`
	// NetworkBackend is netplan, networkd, iproute or none (default none).
	NetworkBackend string `json:"network_backend,omitempty"`
	// ManagementMode, when set (locally-managed or cloud-connected), refuses
	// activation files for the other mode: that change needs a new file.
	ManagementMode activation.Mode `json:"management_mode,omitempty"`
	// ActivationTrustRoots: LAB/DEMO ONLY. Root public key files trusted
	// instead of the production root shipped in the binary. Relative paths
	// are relative to etc/sensorcore.
	ActivationTrustRoots []string `json:"activation_trust_roots,omitempty"`
	// ReleaseTrustRoots: LAB/DEMO ONLY. Root public key files whose
	// release keys install-core trusts instead of the production root
	// (a lab build's, `make build`). Relative paths are relative to
	// etc/sensorcore.
	ReleaseTrustRoots []string `json:"release_trust_roots,omitempty"`
	// MonitorUser is who the monitoring engine runs as (a user name or
	// "UID:GID"; never root). Default: sensorcore-monitor, else nobody.
	MonitorUser string `json:"monitor_user,omitempty"`
	// KeepGenerations bounds how many generations stay on disk (default 5).
	KeepGenerations int `json:"keep_generations,omitempty"`
}

// LoadConfig reads config.json; a missing file is the zero Config.
func LoadConfig(l Layout) (Config, error) {
	var c Config
	p := filepath.Join(l.Etc(), "config.json")
	b, err := safefile.ReadFile(p, MaxStateFile)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %v", p, err)
	}
	if c.ManagementMode != "" && !c.ManagementMode.Valid() {
		return c, fmt.Errorf("%s: management_mode %q is not %q or %q", p, c.ManagementMode, activation.ModeLocal, activation.ModeCloud)
	}
	return c, nil
}

// Roots returns the activation roots to trust: override files when given
// (lab/demo), else the config's lab roots, else the production root.
func (l Layout) Roots(c Config, override []string) ([]ed25519.PublicKey, error) {
	return l.roots(c.ActivationTrustRoots, override)
}

// ReleaseRoots returns the roots install-core trusts release keys under:
// override files when given (lab/demo), else the config's lab release
// roots, else the production root (the same as activation files').
func (l Layout) ReleaseRoots(c Config, override []string) ([]ed25519.PublicKey, error) {
	return l.roots(c.ReleaseTrustRoots, override)
}

func (l Layout) roots(configured, override []string) ([]ed25519.PublicKey, error) {
	paths := override
	if len(paths) == 0 {
		for _, p := range configured {
			if !filepath.IsAbs(p) {
				p = filepath.Join(l.Etc(), p)
			}
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return activation.ProductionRoots()
	}
	var out []ed25519.PublicKey
	for _, p := range paths {
		k, err := activation.ReadPublicKey(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}
