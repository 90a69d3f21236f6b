package daemon

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/site"
)

// Engine runs provisioning operations on one sensor root.
type Engine struct {
	Layout Layout
	Config Config
	Roots  []ed25519.PublicKey
	// ReleaseRoots are the roots install-core trusts release keys under.
	ReleaseRoots []ed25519.PublicKey
	Backend      netconf.Backend
	Now          func() time.Time
	// ConfineToIncoming refuses bundle paths outside the incoming directory
	// (set for commands that arrive over SSH).
	ConfineToIncoming bool
	// Crash is the test hook for crash-safety tests: called with the name
	// of each apply step; see StepHook.
	Crash func(step string)
	// Log receives one line per event; never secrets.
	Log func(format string, args ...any)
}

// Options for NewEngine.
type Options struct {
	Root       string
	TrustRoots []string // LAB/DEMO ONLY: root public key files (--trust-root)
	// ReleaseRoots: LAB/DEMO ONLY: root public key files for releases
	// (--release-root).
	ReleaseRoots []string
	Backend      string // overrides config.json network_backend
	Now          func() time.Time
}

// NewEngine loads the configuration under root.
func NewEngine(o Options) (*Engine, error) {
	root := o.Root
	if root == "" {
		root = "/"
	}
	// Absolute, so paths in messages and status mean the same from any
	// working directory (and the SSH confinement compares like with like).
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", o.Root, err)
	}
	l := Layout{Root: root}
	c, err := LoadConfig(l)
	if err != nil {
		return nil, err
	}
	roots, err := l.Roots(c, o.TrustRoots)
	if err != nil {
		return nil, err
	}
	rroots, err := l.ReleaseRoots(c, o.ReleaseRoots)
	if err != nil {
		return nil, err
	}
	name := c.NetworkBackend
	if o.Backend != "" {
		name = o.Backend
	}
	be, err := netconf.BackendByName(name)
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Engine{Layout: l, Config: c, Roots: roots, ReleaseRoots: rroots, Backend: be, Now: now,
		Crash: StepHook(os.Getenv(CrashEnv)), Log: func(string, ...any) {}}, nil
}

// CrashEnv names the environment variable the crash-safety tests set to
// "STEP" or "STEP:pause": apply then exits with status 99 (or sleeps until
// killed) when it reaches STEP. It is for tests; setting it on an appliance
// only makes apply stop early, which the generation design tolerates.
const CrashEnv = "SENSORCORE_TEST_CRASH_AT"

// Apply steps, in order, as the crash hook names them.
const (
	StepChecked  = "checked"   // every check passed, nothing written
	StepStaged   = "staged"    // the new generation is in a staging directory
	StepCommited = "committed" // renamed to generations/N, not current
	StepPending  = "pending"   // rollback deadline armed (address change only)
	StepSwitched = "switched"  // current points at N; network not applied
	StepNetwork  = "network"   // network applied; daemon not yet told
)

// StepHook returns the crash hook for a CrashEnv value.
func StepHook(v string) func(string) {
	if v == "" {
		return nil
	}
	step, mode := v, ""
	if i := len(v) - len(":pause"); i > 0 && v[i:] == ":pause" {
		step, mode = v[:i], "pause"
	}
	return func(s string) {
		if s != step {
			return
		}
		fmt.Fprintf(os.Stderr, "sensorcore: test hook: stopping at step %s\n", s)
		if mode == "pause" {
			for {
				time.Sleep(time.Hour)
			}
		}
		os.Exit(99)
	}
}

func (e *Engine) step(s string) {
	if e.Crash != nil {
		e.Crash(s)
	}
}

// RunInfo is run.json, written by the running daemon.
type RunInfo struct {
	PID     int       `json:"pid"`
	Console string    `json:"console"`
	SSH     string    `json:"ssh,omitempty"`
	Started time.Time `json:"started"`
	// ProcStart is the daemon's start time in clock ticks since boot
	// (/proc/PID/stat field 22): with the pid it names one process, so a
	// stale run.json whose pid was reused (after a crash or a reboot) is
	// not taken for the daemon, and that stranger is never sent SIGHUP.
	ProcStart string `json:"proc_start,omitempty"`
	// Capture and CaptureErr are the monitoring side's sanity line, when
	// the daemon monitors interfaces.
	Capture    string `json:"capture,omitempty"`
	CaptureErr string `json:"capture_error,omitempty"`
	// Monitor is the monitoring engine's process (restarts, last fault).
	Monitor *MonitorState `json:"monitor,omitempty"`
	// CapturePorts is each monitoring port's health (sensorcore validate).
	CapturePorts []CapturePort `json:"capture_ports,omitempty"`
	// Discovered is how many devices the monitor has discovered (-1 or
	// absent: not known yet), counted against the activation's licence.
	Discovered *int `json:"devices_discovered,omitempty"`
	// Uplink is the site stream's state, when the generation has one.
	Uplink *site.UplinkState `json:"uplink,omitempty"`
	// Plugins is what the monitoring engine loaded and refused of the
	// installed protocol plugins.
	Plugins *plugin.Status `json:"plugins,omitempty"`
	// ServedGeneration and ServedFingerprint are what the console serves
	// now (generation 0: the self-signed certificate); the daemon rewrites
	// run.json whenever it switches, and apply waits on them.
	ServedGeneration  int    `json:"served_generation"`
	ServedFingerprint string `json:"served_fingerprint_sha256,omitempty"`
}

// ReadRunInfo reads run.json; ok is false when no daemon recorded itself.
func (l Layout) ReadRunInfo() (RunInfo, bool) {
	var r RunInfo
	b, err := safefile.ReadFile(l.RunFile(), MaxStateFile)
	if err != nil || json.Unmarshal(b, &r) != nil || r.PID <= 0 {
		return r, false
	}
	return r, true
}

// DaemonAlive reports whether the pid in run.json is a live process.
func (l Layout) DaemonAlive() (RunInfo, bool) {
	r, ok := l.ReadRunInfo()
	if !ok {
		return r, false
	}
	err := syscall.Kill(r.PID, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return r, false
	}
	if r.ProcStart != "" {
		if st, ok := procStart(r.PID); ok && st != r.ProcStart {
			return r, false // the pid now belongs to another process
		}
	}
	return r, true
}

// procStart reads a process's start time (clock ticks since boot) from
// /proc/PID/stat, field 22 (proc(5)); ok is false where there is no /proc.
func procStart(pid int) (string, bool) {
	b, err := safefile.ReadFile(fmt.Sprintf("/proc/%d/stat", pid), MaxStateFile)
	if err != nil {
		return "", false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", false
	}
	return f[19], true // fields 3.. follow the name: field 22 is f[19]
}

// signalReload tells a running daemon to reload now (it also polls).
func (e *Engine) signalReload() {
	if r, ok := e.Layout.DaemonAlive(); ok && r.PID != os.Getpid() {
		syscall.Kill(r.PID, syscall.SIGHUP)
	}
}

func (e *Engine) keep() int {
	if e.Config.KeepGenerations > 1 {
		return e.Config.KeepGenerations
	}
	return 5
}
