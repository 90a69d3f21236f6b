package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/generation"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/site"
)

// CertInfo describes the certificate the console serves.
type CertInfo struct {
	FingerprintSHA256 string    `json:"fingerprint_sha256"`
	Subject           string    `json:"subject"`
	NotAfter          time.Time `json:"not_after"`
	SelfSigned        bool      `json:"self_signed"`
	// Name is the certificate name the bundle's manifest gave (cert_name).
	Name string `json:"name,omitempty"`
}

// Status is "sensorcore status --json" (docs/formats.md, "status").
type Status struct {
	SensorName string `json:"sensor_name"`
	// SensorNameSource says where the name comes from, and so whether a
	// bundle must carry it: "config" (config.json's sensor_name, binding),
	// "activation" (the activated identity: a bundle must keep its name or
	// its id), or "host" (the host name of a sensor never named: any name).
	SensorNameSource    string              `json:"sensor_name_source"`
	SensorID            string              `json:"sensor_id"`
	Version             string              `json:"version"`
	Generation          int                 `json:"generation"`
	PendingConfirmation bool                `json:"pending_confirmation"`
	RollbackDeadline    *time.Time          `json:"rollback_deadline"`
	LastRollbackReason  string              `json:"last_rollback_reason"`
	Activation          *activation.Summary `json:"activation"`
	ActivationFindings  []certs.Finding     `json:"activation_findings,omitempty"`
	Certificate         *CertInfo           `json:"certificate"`
	Network             *netconf.Network    `json:"network"`
	NetworkBackend      string              `json:"network_backend"`
	FreeBytes           uint64              `json:"free_bytes"`
	IncomingDir         string              `json:"incoming_dir"`
	// Monitor is the monitoring engine's process, when the running daemon
	// monitors interfaces (run.json).
	Monitor *MonitorState `json:"monitor,omitempty"`
	// Devices counts the devices the monitor discovered against the
	// activation file's licensed device count (present while the daemon
	// monitors); Uplink is the site stream (present with an uplink).
	Devices *site.Devices     `json:"devices,omitempty"`
	Uplink  *site.UplinkState `json:"uplink,omitempty"`
	// Plugins are the protocol plugins: the keys trusted, the files
	// installed, and what the monitoring engine loaded and refused.
	Plugins *PluginsStatus `json:"plugins,omitempty"`
}

// PluginsStatus is status's plugins member.
type PluginsStatus struct {
	Keys      []PluginKeyInfo `json:"keys"`
	Installed []string        `json:"installed"`
	// Engine says whether a running monitoring engine reported Loaded and
	// Refused (false: no daemon monitors, or its engine is restarting).
	Engine  bool             `json:"engine"`
	Loaded  []plugin.Loaded  `json:"loaded"`
	Refused []plugin.Refused `json:"refused,omitempty"`
}

// Where Status.SensorName comes from.
const (
	NameFromConfig     = "config"
	NameFromActivation = "activation"
	NameFromHost       = "host"
)

// SelfSignedPaths are the console's first-start certificate and key.
func (l Layout) SelfSignedPaths() (cert, key string) {
	return filepath.Join(l.Etc(), "console-selfsigned.crt"), filepath.Join(l.Etc(), "console-selfsigned.key")
}

// Status reads the sensor's state. It changes nothing.
func (e *Engine) Status(version string) (*Status, error) {
	now := e.Now()
	st := e.Layout.Store()
	s := &Status{Version: version, IncomingDir: e.Layout.Incoming(), NetworkBackend: e.Backend.Name(), SensorName: e.Config.SensorName}
	if s.SensorName != "" {
		s.SensorNameSource = NameFromConfig
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(e.Layout.State(), &fs); err == nil {
		s.FreeBytes = fs.Bavail * uint64(fs.Bsize)
	} else if err := syscall.Statfs(e.Layout.Root, &fs); err == nil {
		s.FreeBytes = fs.Bavail * uint64(fs.Bsize)
	}
	if r, err := st.ReadRollback(); err == nil && r != nil {
		s.LastRollbackReason = r.Reason
	}
	ri, alive := e.Layout.DaemonAlive()
	s.Plugins = e.pluginsStatus(ri, alive)
	if alive {
		s.Monitor, s.Uplink = ri.Monitor, ri.Uplink
		if ri.Discovered != nil {
			s.Devices = &site.Devices{Discovered: *ri.Discovered}
		}
	}
	defer func() {
		if s.Devices != nil && s.Activation != nil {
			s.Devices.Licensed, s.Devices.Plan = s.Activation.DeviceCount, s.Activation.PlanID
		}
	}()
	cur, err := st.Current()
	if errors.Is(err, generation.ErrNone) {
		if c, err := safefile.ReadFile(func() string { p, _ := e.Layout.SelfSignedPaths(); return p }(), MaxStateFile); err == nil {
			s.Certificate = certInfo(c, true)
		}
		if s.SensorName == "" {
			s.SensorName, _ = os.Hostname()
			s.SensorNameSource = NameFromHost
		}
		return s, nil
	}
	if err != nil {
		return s, err
	}
	s.Generation = cur
	if p, err := st.ReadPending(); err == nil && p != nil && p.Generation == cur {
		d := p.Deadline
		s.PendingConfirmation, s.RollbackDeadline = true, &d
	}
	if b, err := st.ReadFile(cur, bundle.FileName(bundle.RoleActivation)); err == nil {
		if f, err := activation.Parse(b); err == nil {
			fs, _ := f.Verify(activation.VerifyOptions{Roots: e.Roots, SensorName: f.Payload.SensorName, Now: now, SkipUploadWindow: true})
			sum := f.Summarize(now)
			s.Activation, s.ActivationFindings = &sum, fs
			s.SensorName, s.SensorID = f.Payload.SensorName, f.Payload.SensorID
			if s.SensorNameSource == "" {
				s.SensorNameSource = NameFromActivation
			}
		}
	}
	if c, err := st.ReadFile(cur, bundle.FileName(bundle.RoleCert)); err == nil {
		s.Certificate = certInfo(c, false)
	} else if c, err := safefile.ReadFile(func() string { p, _ := e.Layout.SelfSignedPaths(); return p }(), MaxStateFile); err == nil {
		s.Certificate = certInfo(c, true) // keep_certificate kept the self-signed one
	}
	if mb, err := st.ReadFile(cur, bundle.ManifestName); err == nil && s.Certificate != nil {
		if m, err := bundle.ParseManifest(mb); err == nil {
			s.Certificate.Name = m.CertName
		}
	}
	if set, err := e.settingsOf(cur); err == nil {
		s.Network = &set.Network
	}
	return s, nil
}

func certInfo(pemOrDER []byte, self bool) *CertInfo {
	cs, err := certs.ParseCertificates(pemOrDER)
	if err != nil || len(cs) == 0 {
		return nil
	}
	sum := sha256.Sum256(cs[0].Raw)
	return &CertInfo{FingerprintSHA256: hex.EncodeToString(sum[:]), Subject: cs[0].Subject.String(), NotAfter: cs[0].NotAfter.UTC(), SelfSigned: self}
}

// SanityLine is one component's state.
type SanityLine struct {
	Component string `json:"component"`
	Up        bool   `json:"up"`
	Detail    string `json:"detail"`
}

// Sanity checks each component: console, storage, activation,
// certificate, network, and capture when the daemon monitors interfaces
// (the monitoring side's line, recorded in run.json).
func (e *Engine) Sanity(ctx context.Context, version string) (out []SanityLine, err error) {
	add := func(c string, up bool, f string, a ...any) {
		out = append(out, SanityLine{Component: c, Up: up, Detail: fmt.Sprintf(f, a...)})
	}
	s, err := e.Status(version)
	if err != nil {
		return nil, err
	}
	ri, alive := e.Layout.DaemonAlive()
	defer func() {
		if alive && ri.CaptureErr != "" {
			out = append(out, SanityLine{Component: "capture", Up: false, Detail: ri.CaptureErr})
		} else if alive && ri.Capture != "" {
			out = append(out, SanityLine{Component: "capture", Up: true, Detail: ri.Capture})
		}
		if d := s.Devices; d != nil {
			switch {
			case d.Licensed == 0:
				add("licence", true, "%d devices discovered; not activated, so no licence counts them", d.Discovered)
			case d.Over():
				add("licence", true, "%d devices discovered, over the %d the licence (%s) covers: ask for a larger plan", d.Discovered, d.Licensed, d.Plan)
			default:
				add("licence", true, "%d of %d licensed devices discovered (%s)", d.Discovered, d.Licensed, d.Plan)
			}
		}
		if u := s.Uplink; u != nil {
			switch {
			case u.Connected:
				add("uplink", true, "streaming to %s; %d waiting, %d operations dropped", u.Server, u.Outbox, u.Dropped)
			case u.Error == "":
				// Started, no answer yet and no failure either (every
				// failure and disconnection leaves its error): a bundle
				// just applied is not a fault.
				add("uplink", true, "connecting to the site's servers; %d waiting in the outbox", u.Outbox)
			default:
				add("uplink", false, "not connected (%s); %d waiting in the outbox, %d operations dropped", u.Error, u.Outbox, u.Dropped)
			}
		}
	}()
	if !alive {
		add("console", false, "sensorcore serve is not running")
	} else if c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", ri.Console); err != nil {
		add("console", false, "daemon pid %d runs but %s does not answer: %v", ri.PID, ri.Console, err)
	} else {
		c.Close()
		add("console", true, "HTTPS on %s (pid %d)", ri.Console, ri.PID)
	}
	switch {
	case s.FreeBytes < 64<<20:
		add("storage", false, "%d MiB free under %s; free space", s.FreeBytes>>20, e.Layout.State())
	default:
		probe := filepath.Join(e.Layout.State(), ".sanity-probe")
		if err := os.MkdirAll(e.Layout.State(), 0o700); err != nil {
			add("storage", false, "%v", err)
		} else if err := os.WriteFile(probe, []byte("ok"), 0o600); err != nil {
			add("storage", false, "%s is not writable: %v", e.Layout.State(), err)
		} else {
			os.Remove(probe)
			add("storage", true, "%d MiB free", s.FreeBytes>>20)
		}
	}
	switch {
	case s.Activation == nil:
		add("activation", false, "not activated: apply a bundle with this sensor's activation file")
	case s.Activation.Expired:
		add("activation", true, "%s, expired %s: monitoring continues; upload a renewed file", s.Activation.Mode, s.Activation.Expires.Format("2006-01-02"))
	default:
		add("activation", true, "%s (%s)", s.Activation.SensorName, s.Activation.Mode)
	}
	switch c := s.Certificate; {
	case c == nil:
		add("certificate", false, "no certificate yet (the daemon makes a self-signed one at first start)")
	case e.Now().After(c.NotAfter):
		add("certificate", false, "expired %s: %s", c.NotAfter.Format("2006-01-02"), c.Subject)
	case c.SelfSigned:
		add("certificate", true, "self-signed (not provisioned): %s", c.Subject)
	default:
		add("certificate", true, "%s, until %s", c.Subject, c.NotAfter.Format("2006-01-02"))
	}
	if s.Network == nil {
		add("network", false, "no network settings applied yet")
	} else if e.Backend.Name() == "none" {
		add("network", true, "%s %s/%s recorded (backend none)", s.Network.Interface, s.Network.Address, s.Network.Mask)
	} else {
		m, err := e.ValidateNetwork(ctx)
		if err != nil {
			add("network", false, "%v", err)
		} else if len(m) > 0 {
			add("network", false, "%s", m[0])
		} else {
			add("network", true, "%s %s/%s matches the configuration", s.Network.Interface, s.Network.Address, s.Network.Mask)
		}
	}
	return out, nil
}

// ValidateNetwork compares the live interface with the current generation.
func (e *Engine) ValidateNetwork(ctx context.Context) ([]string, error) {
	cur, err := e.Layout.Store().Current()
	if err != nil {
		return nil, fmt.Errorf("no network settings applied yet")
	}
	s, err := e.settingsOf(cur)
	if err != nil {
		return nil, err
	}
	p, err := s.Network.Prefix()
	if err != nil {
		return nil, err
	}
	live, err := netconf.ReadLive(ctx, s.Network.Interface, p.Addr().Is6())
	if err != nil {
		return nil, err
	}
	out := live.Mismatches(s.Network)
	if e.changesLive() && s.Network.Hostname != "" {
		h, err := netconf.LiveHostname()
		if err != nil {
			return nil, err
		}
		if !netconf.HostnameMatches(h, s.Network.Hostname) {
			out = append(out, fmt.Sprintf("host name is %q, configured %s", h, s.Network.Hostname))
		}
	}
	return out, nil
}
