package daemon

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/console"
	"github.com/tapline/tapline/sensorcore/generation"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/signin"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/sensorcore/sshd"
)

// ServeOptions configure the daemon.
type ServeOptions struct {
	ConsoleAddr string // default :443
	SSHAddr     string // empty: no embedded SSH listener
	Version     string
	Hostname    string        // for the first-start self-signed certificate
	Monitor     http.Handler  // optional monitoring pages, behind sign-in
	Tick        time.Duration // how often the deadline and generation are checked; default 1 s
	BcryptCost  int           // console password hashing; 0 is bcrypt's default
	// CaptureHealth, when monitoring runs, gives the capture line of
	// sanity; the daemon records it in run.json at every tick.
	CaptureHealth func() (string, error)
	// Devices, when monitoring runs, is how many devices it discovered
	// (-1: not known yet); Uplink, the site stream's state (nil: the
	// generation has no uplink). The tick records both in run.json.
	Devices func() int
	Uplink  func() *site.UplinkState
	// MonitorState, when the monitoring engine runs as serve's child,
	// gives its process state; recorded in run.json at every tick.
	MonitorState func() MonitorState
	// CapturePorts, when monitoring runs, gives each monitoring port's
	// health; recorded in run.json at every tick (sensorcore validate).
	CapturePorts func() []CapturePort
	// Plugins, when monitoring runs, gives what the engine loaded and
	// refused of the installed protocol plugins.
	Plugins func() *plugin.Status
	// Exec runs a provisioning command that arrived over SSH.
	Exec func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// ErrRestart is Serve's answer when the daemon must restart into a newly
// installed binary (install-core): the caller execs Executable.
var ErrRestart = errors.New("daemon: restart into the installed sensorcore")

// RestartDelay lets install-core's answer reach the laptop before the
// daemon restarts (its embedded SSH sessions end with it).
const RestartDelay = 700 * time.Millisecond

// signalRestart asks the daemon pid to restart into the installed binary.
func signalRestart(pid int) { syscall.Kill(pid, syscall.SIGUSR2) }

// certState is the certificate the console serves and where it came from.
type certState struct {
	generation  int
	fingerprint string
}

// Serve runs the daemon until ctx ends: the HTTPS console, the embedded SSH
// listener when asked, and the tick that enforces the rollback deadline and
// reloads the certificate when the current generation changes. SIGHUP
// triggers a tick at once.
func (e *Engine) Serve(ctx context.Context, o ServeOptions) error {
	l := e.Layout
	for _, d := range []string{l.Etc(), l.State(), l.Incoming()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if o.ConsoleAddr == "" {
		o.ConsoleAddr = ":443"
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Hostname == "" {
		o.Hostname = e.Config.SensorName
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	scPath, skPath := l.SelfSignedPaths()
	if err := console.EnsureSelfSigned(scPath, skPath, o.Hostname, e.Now()); err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	users, err := console.LoadUsers(l.ConsoleUsers(), l.ConsoleInitialPasswords(), o.BcryptCost)
	if err != nil {
		return err
	}
	// One worker pool hashes the passwords of the console and the embedded
	// SSH listener: a sign-in flood on either takes at most half the CPUs.
	pool := signin.NewPool(0, 0)
	cs := &console.Server{Users: users, Now: e.Now, Monitor: o.Monitor, Log: e.Log,
		Guard:  &signin.Guard{Pool: pool, Now: e.Now, Accounts: console.IsUser},
		Events: &console.EventLog{Path: l.AccountsLog(), Now: e.Now, Also: e.Log}}
	var cur certState
	var ri *RunInfo // once run.json is written, reload keeps it current
	reload := func() error {
		c, st, err := e.loadCertificate()
		if err != nil {
			return err
		}
		if st != cur {
			cs.SetCertificate(c)
			if cur.fingerprint != "" {
				e.Log("console: now serving certificate %s (generation %d)", st.fingerprint, st.generation)
			}
			cur = st
			if ri != nil {
				ri.ServedGeneration, ri.ServedFingerprint = st.generation, st.fingerprint
				rb, _ := json.Marshal(ri)
				if err := safefile.WriteFile(l.RunFile(), rb, 0o644); err != nil {
					e.Log("run.json: %v", err)
				}
			}
		}
		return nil
	}
	// The factory network, recorded once before anything is applied: an
	// unconfirmed first apply returns to it.
	if err := e.recordFactory(ctx); err != nil {
		e.Log("factory network: %v", err)
	}
	// A tick before listening: a deadline that passed while the daemon was
	// down is enforced before anything is served.
	if _, err := e.Tick(ctx); err != nil {
		e.Log("tick: %v", err)
	}
	if err := reload(); err != nil {
		return err
	}
	cs.Status = func() (console.Overview, error) {
		st, err := e.Status(o.Version)
		if err == nil && st.Generation == 0 {
			st.SensorName = o.Hostname // before provisioning: the name the self-signed certificate carries
		}
		return st, err
	}

	ln, err := net.Listen("tcp", o.ConsoleAddr)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	cs.Components = func(ctx context.Context) ([]console.Component, error) {
		lines, err := e.Sanity(ctx, o.Version)
		out := make([]console.Component, len(lines))
		for i, l := range lines {
			out[i] = console.Component{Name: l.Component, Up: l.Up, Detail: l.Detail}
		}
		return out, err
	}
	var sshAt atomic.Pointer[string] // the embedded listener's address, once it listens
	cs.HostKeys = func() []console.HostKey {
		addr := ""
		if p := sshAt.Load(); p != nil {
			addr = *p
		}
		return e.hostKeys(addr)
	}
	hs := cs.HTTPServer() // timeouts, header limits
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(cs.Listener(ln)) }() // connection caps, TLS
	run := RunInfo{PID: os.Getpid(), Console: ln.Addr().String(), Started: e.Now().UTC(),
		ServedGeneration: cur.generation, ServedFingerprint: cur.fingerprint}
	run.ProcStart, _ = procStart(run.PID)

	// Signals are caught before the SSH listener takes commands: an apply
	// arriving at once must find SIGHUP handled, not fatal.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// SIGUSR2 (install-core, in this process or the ForceCommand
	// wrapper's): after a moment, so the reply to install-core gets out,
	// Serve returns ErrRestart and the caller execs the new binary.
	restart := make(chan os.Signal, 1)
	signal.Notify(restart, syscall.SIGUSR2)
	defer signal.Stop(restart)
	// Commands from the embedded listener run in this process: apply asks
	// for a reload through the context instead of a signal to itself.
	reloadNow := make(chan struct{}, 1)
	sctx, cancel := context.WithCancel(context.WithValue(ctx, reloadKey{}, func() {
		select {
		case reloadNow <- struct{}{}:
		default:
		}
	}))
	defer cancel()
	if o.SSHAddr != "" {
		hk, err := sshd.LoadOrCreateHostKey(filepath.Join(l.Etc(), "ssh_host_ed25519_key"))
		if err != nil {
			hs.Close()
			return err
		}
		sl, err := net.Listen("tcp", o.SSHAddr)
		if err != nil {
			hs.Close()
			return fmt.Errorf("ssh: %w", err)
		}
		ss := &sshd.Server{HostKey: hk, AuthorizedKeysPath: filepath.Join(l.Etc(), "authorized_keys"),
			PasswordsPath: filepath.Join(l.Etc(), "ssh_passwords"), IncomingDir: l.Incoming(), Exec: o.Exec, Log: e.Log,
			Guard: &signin.Guard{Pool: pool, Policy: signin.Policy{HardLockAfter: -1}}}
		sshDone := make(chan struct{})
		go func() {
			defer close(sshDone)
			if err := ss.Serve(sctx, sl); err != nil {
				errc <- fmt.Errorf("ssh: %w", err)
			}
		}()
		// On the way out, close the SSH listener and give running sessions
		// a moment to end, so none is cut in the middle of its reply.
		defer func() {
			cancel()
			select {
			case <-sshDone:
			case <-time.After(5 * time.Second):
			}
		}()
		run.SSH = sl.Addr().String()
		sshAt.Store(&run.SSH)
	}
	rb, _ := json.Marshal(run)
	if err := safefile.WriteFile(l.RunFile(), rb, 0o644); err != nil {
		hs.Close()
		return err
	}
	ri = &run
	defer os.Remove(l.RunFile())
	e.Log("serving console on %s%s", run.Console, map[bool]string{true: ", ssh on " + run.SSH}[run.SSH != ""])

	t := time.NewTicker(o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			shut, c := context.WithTimeout(context.Background(), 3*time.Second)
			hs.Shutdown(shut)
			c()
			return nil
		case err := <-errc:
			hs.Close()
			return err
		case <-t.C:
		case <-hup:
		case <-reloadNow:
		case <-restart:
			e.Log("restarting into the newly installed sensorcore")
			time.Sleep(RestartDelay)
			shut, c := context.WithTimeout(context.Background(), 3*time.Second)
			hs.Shutdown(shut)
			c()
			return ErrRestart
		}
		if _, err := e.Tick(ctx); err != nil {
			e.Log("tick: %v", err)
		}
		if err := reload(); err != nil {
			e.Log("reload: %v", err)
		}
		before, _ := json.Marshal(ri)
		if o.CaptureHealth != nil {
			line, err := o.CaptureHealth()
			ri.Capture, ri.CaptureErr = line, ""
			if err != nil {
				ri.Capture, ri.CaptureErr = "", err.Error()
			}
		}
		if o.MonitorState != nil {
			ms := o.MonitorState()
			ri.Monitor = &ms
		}
		if o.CapturePorts != nil {
			ri.CapturePorts = o.CapturePorts()
		}
		if o.Plugins != nil {
			ri.Plugins = o.Plugins()
		}
		if o.Devices != nil {
			if n := o.Devices(); n >= 0 {
				ri.Discovered = &n
			}
		}
		if o.Uplink != nil {
			ri.Uplink = o.Uplink()
		}
		if rb, _ := json.Marshal(ri); string(rb) != string(before) {
			safefile.WriteFile(l.RunFile(), rb, 0o644)
		}
	}
}

// hostKeys are the SSH host keys a laptop may meet: the embedded
// listener's (when it runs) and OpenSSH's under R/etc/ssh.
func (e *Engine) hostKeys(sshAddr string) []console.HostKey {
	var out []console.HostKey
	if sshAddr != "" {
		where := "sensorcore's SSH listener"
		if _, port, err := net.SplitHostPort(sshAddr); err == nil {
			where += ", port " + port
		}
		if k, err := console.ReadHostKey(filepath.Join(e.Layout.Etc(), "ssh_host_ed25519_key.pub"), where); err == nil {
			out = append(out, k)
		}
	}
	for _, t := range []string{"ed25519", "ecdsa", "rsa"} {
		if k, err := console.ReadHostKey(filepath.Join(e.Layout.Root, "etc", "ssh", "ssh_host_"+t+"_key.pub"), "OpenSSH"); err == nil {
			out = append(out, k)
		}
	}
	return out
}

// loadCertificate returns the current generation's certificate, or the
// self-signed one when none is applied.
func (e *Engine) loadCertificate() (*tls.Certificate, certState, error) {
	st := e.Layout.Store()
	n, err := st.Current()
	if err == nil {
		c, err := st.ReadFile(n, bundle.FileName(bundle.RoleCert))
		if errors.Is(err, fs.ErrNotExist) {
			// keep_certificate with the self-signed one served: it stays.
			pair, st, err := e.selfSigned()
			st.generation = n
			return pair, st, err
		}
		if err != nil {
			return nil, certState{}, err
		}
		k, err := st.ReadFile(n, bundle.FileName(bundle.RoleKey))
		if err != nil {
			return nil, certState{}, err
		}
		ch, _ := st.ReadFile(n, bundle.FileName(bundle.RoleChain))
		kp, err := console.LoadKeyPair(c, ch, k)
		if err != nil {
			return nil, certState{}, fmt.Errorf("generation %d: %w", n, err)
		}
		return kp, certState{n, console.Fingerprint(kp.Certificate[0])}, nil
	}
	if !errors.Is(err, generation.ErrNone) {
		return nil, certState{}, err
	}
	return e.selfSigned()
}

// selfSigned loads the console's first-start certificate (generation 0).
func (e *Engine) selfSigned() (*tls.Certificate, certState, error) {
	cp, kp := e.Layout.SelfSignedPaths()
	c, err := safefile.ReadFile(cp, MaxStateFile)
	if err != nil {
		return nil, certState{}, err
	}
	k, err := safefile.ReadFile(kp, MaxStateFile)
	if err != nil {
		return nil, certState{}, err
	}
	pair, err := console.LoadKeyPair(c, nil, k)
	if err != nil {
		return nil, certState{}, err
	}
	return pair, certState{0, console.Fingerprint(pair.Certificate[0])}, nil
}
