package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"

	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/inventory"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/sensorcore/sshd"
	"github.com/tapline/tapline/sensorcore/uplink"
)

// Provisioning commands (docs/appliance.md).
var (
	cmdServe    = func(a []string, o, e io.Writer) int { return runServe(a, o, e) }
	cmdApply    = provision("apply")
	cmdConfirm  = provision("confirm")
	cmdRollback = provision("rollback")
	cmdStatus   = provision("status")
	cmdSanity   = provision("sanity")
	cmdNetwork  = provision("network")
	// cmdInstallCore installs an uploaded sensorcore binary (tapline push --install-core).
	cmdInstallCore = provision("install-core")
)

// common holds the flags every provisioning command takes.
// rootEnv names the environment variable that sets --root's default: an
// appliance whose sensor files live elsewhere than / sets it for every
// command, including those a provisioning SSH session runs.
const rootEnv = "SENSORCORE_ROOT"

func defaultRoot() string {
	if r := os.Getenv(rootEnv); r != "" {
		return r
	}
	return "/"
}

type common struct {
	root         string
	trustRoots   multi
	releaseRoots multi
	backend      string
	asJSON       bool
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.root, "root", defaultRoot(), "the sensor's root directory (default $"+rootEnv+", else /; tests and the demo use a temporary one)")
	fs.Var(&c.trustRoots, "trust-root", "LAB/DEMO ONLY: trust this activation root public key instead of the shipped production root")
	fs.Var(&c.releaseRoots, "release-root", "LAB/DEMO ONLY: install-core trusts releases signed under this root public key instead of the shipped production root")
	fs.StringVar(&c.backend, "network-backend", "", "netplan, networkd, iproute or none (default: config.json, else none)")
	fs.BoolVar(&c.asJSON, "json", false, "print one JSON object")
}

// parse parses flags placed before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// invocation is how a provisioning command runs: from the command line, or
// over SSH (confined to the incoming directory, root and trust fixed by the
// daemon).
type invocation struct {
	fixed   *common
	confine bool
}

// engine opens the sensor's engine for a provisioning command: an SSH
// session's fixed root and trust, confined to the incoming directory, and
// its log on stderr (none with --json).
func (inv invocation) engine(c *common, stderr io.Writer) (*daemon.Engine, error) {
	if inv.fixed != nil {
		c.root, c.trustRoots, c.releaseRoots, c.backend = inv.fixed.root, inv.fixed.trustRoots, inv.fixed.releaseRoots, inv.fixed.backend
	}
	e, err := daemon.NewEngine(daemon.Options{Root: c.root, TrustRoots: c.trustRoots, ReleaseRoots: c.releaseRoots, Backend: c.backend})
	if err != nil {
		return nil, err
	}
	e.ConfineToIncoming = inv.confine
	e.Log = func(f string, a ...any) { fmt.Fprintf(stderr, "sensorcore: "+f+"\n", a...) }
	if c.asJSON {
		e.Log = func(string, ...any) {}
	}
	return e, nil
}

func provision(name string) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		return invocation{}.run(context.Background(), name, args, stdout, stderr)
	}
}

func (inv invocation) run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	if name == "console" {
		return inv.console(ctx, args, stdout, stderr)
	}
	if name == "validate" {
		return inv.validate(ctx, args, stdout, stderr)
	}
	if name == "plugin" {
		return inv.plugin(args, stdout, stderr)
	}
	fs := flag.NewFlagSet("sensorcore "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	timeout := fs.Duration("confirm-timeout", daemon.DefaultConfirmTimeout, "apply: the rollback deadline when the address changes")
	newIdentity := fs.Bool("new-identity", false, "apply: accept a bundle for another sensor id than the one this appliance is activated as (re-purposing)")
	coreSig := fs.String("signature", "", "install-core: the binary's release signature (default: PATH.sig)")
	coreSum := fs.String("sha256", "", "install-core: optional: the SHA-256 the signed release must have")
	coreVersion := fs.String("version", "", "install-core: optional: the version the signed release must be")
	coreTarget := fs.String("target", "", "install-core: the binary to replace (default: this sensorcore; not over SSH)")
	coreService := fs.Bool("service", false, "install-core: a first install: also make the sensor's directories, write the systemd unit and start it (not over SSH)")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	e, err := inv.engine(&c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore %s: %v\n", name, err)
		return 2
	}
	switch name {
	case "apply":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "sensorcore apply: usage: sensorcore apply [--json] [--confirm-timeout 120s] [--new-identity] BUNDLE")
			return 2
		}
		res, err := e.Apply(ctx, daemon.ApplyOptions{Path: pos[0], ConfirmTimeout: *timeout, NewIdentity: *newIdentity})
		return report(stdout, stderr, c.asJSON, res, err, func() {
			fmt.Fprintf(stdout, "applied generation %d (previous %d)\ncertificate SHA-256 %s\n", res.Generation, res.PreviousGeneration, res.Fingerprint)
			if a := res.Activation; a != nil {
				fmt.Fprintf(stdout, "activated as %s (id %s), %s, %s/%s, plan %s, %d devices", a.SensorName, a.SensorID, a.Mode, a.Site, a.Zone, a.PlanID, a.DeviceCount)
				if a.Expires != nil {
					fmt.Fprintf(stdout, ", expires %s", a.Expires.Format("2006-01-02"))
				}
				fmt.Fprintln(stdout)
			}
			if res.ConsoleNote != "" {
				fmt.Fprintln(stdout, res.ConsoleNote)
			}
			if res.ConfirmationPending {
				fmt.Fprintf(stdout, "network changed: run 'sensorcore confirm' before %s or generation %d comes back\n", res.RollbackDeadline.Format(time.RFC3339), res.PreviousGeneration)
			}
		}, res.Findings)
	case "confirm", "rollback":
		var res *daemon.OpResult
		if name == "confirm" {
			res, err = e.Confirm()
		} else {
			res, err = e.Rollback(ctx, "rolled back on request (sensorcore rollback)")
		}
		return report(stdout, stderr, c.asJSON, res, err, func() { fmt.Fprintln(stdout, res.Message) }, nil)
	case "status":
		st, err := e.Status(version)
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore status: %v\n", err)
			return 1
		}
		if c.asJSON {
			return printJSON(stdout, st)
		}
		printStatus(stdout, st)
		return 0
	case "sanity":
		lines, err := e.Sanity(ctx, version)
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore sanity: %v\n", err)
			return 1
		}
		up := true
		for _, l := range lines {
			state := "UP"
			if !l.Up {
				state, up = "DOWN", false
			}
			fmt.Fprintf(stdout, "%-12s %-5s %s\n", l.Component, state, l.Detail)
		}
		if up {
			fmt.Fprintln(stdout, "System is UP!")
			return 0
		}
		fmt.Fprintln(stdout, "System is DOWN: see the lines above")
		return 1
	case "network":
		return networkCmd(ctx, e, pos, c.asJSON, stdout, stderr)
	case "install-core":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "sensorcore install-core: usage: sensorcore install-core [--json] [--signature SIG] PATH (SIG defaults to PATH.sig)")
			return 2
		}
		if inv.confine && (*coreTarget != "" || *coreService) {
			fmt.Fprintln(stderr, "sensorcore install-core: --target and --service are not allowed over SSH")
			return 2
		}
		res, err := e.InstallCore(ctx, daemon.InstallCoreOptions{Path: pos[0], Signature: *coreSig, SHA256: *coreSum, Version: *coreVersion,
			Target: *coreTarget, Installed: version})
		if err == nil && *coreService {
			var sr daemon.ServiceResult
			if sr, err = e.InstallService(ctx, res.Path); err != nil {
				res.OK, res.Code, res.Error = false, daemon.CodeInternal, "installed "+res.Path+", but not its service: "+err.Error()
				err = &daemon.Refusal{Code: res.Code, Msg: res.Error}
			}
			res.Service = &sr
		}
		return report(stdout, stderr, c.asJSON, res, err, func() {
			if !res.Installed {
				fmt.Fprintf(stdout, "sensorcore %s is already installed at %s\n", res.Version, res.Path)
				return
			}
			fmt.Fprintf(stdout, "installed sensorcore %s at %s (was %s, kept as %s)\n", res.Version, res.Path, res.PreviousVersion, res.PreviousPath)
			if sr := res.Service; sr != nil {
				fmt.Fprintf(stdout, "wrote %s\n", sr.Unit)
				if sr.Started {
					fmt.Fprintln(stdout, "sensorcore.service is enabled and running")
				} else {
					fmt.Fprintln(stdout, sr.Note)
				}
			}
		}, nil)
	}
	return 2
}

// report prints an apply/confirm/rollback result as JSON or text.
func report(stdout, stderr io.Writer, asJSON bool, res any, err error, text func(), findings any) int {
	code := 0
	if err != nil {
		code = 1
	}
	if asJSON {
		printJSON(stdout, res)
		return code
	}
	if b, _ := json.Marshal(findings); len(b) > 2 && string(b) != "null" {
		var fs []struct{ Code, Severity, Message, Hint string }
		json.Unmarshal(b, &fs)
		for _, f := range fs {
			fmt.Fprintf(stdout, "%s %s: %s\n  fix: %s\n", f.Code, f.Severity, f.Message, f.Hint)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore: refused: %v\n", err)
		return code
	}
	text()
	return code
}

func printJSON(w io.Writer, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 2
	}
	fmt.Fprintln(w, string(b))
	return 0
}

func printStatus(w io.Writer, s *daemon.Status) {
	fmt.Fprintf(w, "sensor:        %s (id %s)\nversion:       %s\ngeneration:    %d\n", s.SensorName, s.SensorID, s.Version, s.Generation)
	if s.PendingConfirmation {
		fmt.Fprintf(w, "pending:       confirm before %s", s.RollbackDeadline.Format(time.RFC3339))
		if !time.Now().Before(*s.RollbackDeadline) {
			fmt.Fprint(w, " (PASSED: too late to confirm; the previous generation comes back as soon as sensorcore serve runs)")
		}
		fmt.Fprintln(w)
	}
	if s.LastRollbackReason != "" {
		fmt.Fprintf(w, "last rollback: %s\n", s.LastRollbackReason)
	}
	if a := s.Activation; a != nil {
		fmt.Fprintf(w, "activation:    %s, %s/%s, plan %s", a.Mode, a.Site, a.Zone, a.PlanID)
		if a.Expires != nil {
			fmt.Fprintf(w, ", expires %s", a.Expires.Format("2006-01-02"))
			if a.Expired {
				fmt.Fprint(w, " (EXPIRED: monitoring continues)")
			}
		}
		fmt.Fprintln(w)
		for _, f := range s.ActivationFindings {
			fmt.Fprintf(w, "               %s %s: %s\n", f.Code, f.Severity, f.Message)
		}
	} else {
		fmt.Fprintln(w, "activation:    none")
	}
	if c := s.Certificate; c != nil {
		name := ""
		if c.Name != "" {
			name = " \"" + c.Name + "\""
		}
		if c.SelfSigned {
			name += " (self-signed)"
		}
		fmt.Fprintf(w, "certificate:  %s %s, until %s\n               SHA-256 %s\n", name, c.Subject, c.NotAfter.Format("2006-01-02"), c.FingerprintSHA256)
	}
	if n := s.Network; n != nil {
		fmt.Fprintf(w, "network:       %s %s/%s gw %s dns %s host %s (%s)\n", n.Interface, n.Address, n.Mask, n.Gateway, strings.Join(n.DNS, ","), n.Hostname, s.NetworkBackend)
	}
	fmt.Fprintf(w, "free:          %d MiB\nincoming:      %s\n", s.FreeBytes>>20, s.IncomingDir)
	printPlugins(w, s.Plugins)
}

// printPlugins is status's plugins lines: the keys, what the monitoring
// engine loaded (version, signer) and what it refused, and why.
func printPlugins(w io.Writer, p *daemon.PluginsStatus) {
	if p == nil {
		return
	}
	var keys []string
	for _, k := range p.Keys {
		keys = append(keys, fmt.Sprintf("%q (key %s)", k.Name, k.KeyID))
	}
	if len(keys) == 0 {
		keys = []string{"none (a provisioning bundle gives it: tapline push --plugin-key)"}
	}
	fmt.Fprintf(w, "plugin keys:   %s\n", strings.Join(keys, ", "))
	if !p.Engine {
		fmt.Fprintf(w, "plugins:       %d installed (%s); not loaded: no monitoring engine runs\n", len(p.Installed), strings.Join(p.Installed, ", "))
		return
	}
	if len(p.Loaded) == 0 && len(p.Refused) == 0 {
		fmt.Fprintln(w, "plugins:       none installed")
	}
	for _, l := range p.Loaded {
		fmt.Fprintf(w, "plugin:        %s %s (%s), loaded, signed by %q (key %s)\n", l.Protocol, l.Version, l.File, l.Signer, l.KeyID)
	}
	for _, r := range p.Refused {
		keep := ""
		if r.Running != "" {
			keep = "; version " + r.Running + " keeps running"
		}
		fmt.Fprintf(w, "plugin:        %s REFUSED: %s%s\n", r.File, r.Reason, keep)
	}
}

func networkCmd(ctx context.Context, e *daemon.Engine, pos []string, asJSON bool, stdout, stderr io.Writer) int {
	if len(pos) != 1 || (pos[0] != "show" && pos[0] != "validate") {
		fmt.Fprintln(stderr, "sensorcore network: usage: sensorcore network show|validate [--json]")
		return 2
	}
	st, err := e.Status(version)
	if err != nil || st.Network == nil {
		fmt.Fprintln(stderr, "sensorcore network: no network settings applied yet")
		return 1
	}
	if pos[0] == "show" {
		if asJSON {
			return printJSON(stdout, st.Network)
		}
		n := st.Network
		fmt.Fprintf(stdout, "interface: %s\naddress:   %s\nmask:      %s\ngateway:   %s\ndns:       %s\nhostname:  %s\nbackend:   %s\n",
			n.Interface, n.Address, n.Mask, n.Gateway, strings.Join(n.DNS, ", "), n.Hostname, st.NetworkBackend)
		return 0
	}
	m, err := e.ValidateNetwork(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore network validate: %v\n", err)
		return 1
	}
	if asJSON {
		printJSON(stdout, map[string]any{"ok": len(m) == 0, "mismatches": m, "network": st.Network})
	} else if len(m) == 0 {
		n := st.Network
		fmt.Fprintf(stdout, "Success! (Appliance configuration matches the network settings)\ninterface: %s\nip: %s\nsubnet: %s\ngateway: %s\ndns: %s\n",
			n.Interface, n.Address, n.Mask, n.Gateway, strings.Join(n.DNS, ", "))
	} else {
		for _, x := range m {
			fmt.Fprintln(stdout, "Mismatch:", x)
		}
	}
	if len(m) > 0 {
		return 1
	}
	return 0
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sensorcore serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	consoleAddr := fs.String("console-listen", ":443", "HTTPS console address")
	sshAddr := fs.String("ssh-listen", "", "embedded SSH provisioning listener address (off when empty)")
	hostname := fs.String("hostname", "", "host name for the first-start self-signed certificate")
	tick := fs.Duration("tick", time.Second, "how often the rollback deadline is checked")
	var ifaces multi
	fs.Var(&ifaces, "monitor", "monitor this interface (SPAN/TAP port; repeatable): Devices and Alerts pages in the console")
	manuf := fs.String("manuf", inventory.DefaultManuf, "Wireshark manuf file for MAC vendors (with --monitor)")
	var replays multi
	fs.Var(&replays, "monitor-replay", "LAB/DEMO ONLY: monitor this capture file (pcap or pcapng) replayed as if live, looping (repeatable)")
	replaySpeed := fs.Float64("monitor-replay-speed", 1, "replay at the recorded pace times this (at most 1000; silences over 1 s are cut to 1 s)")
	replayLoops := fs.Int("monitor-replay-loops", 0, "passes over the replayed files (0: until serve stops)")
	collect := fs.Duration("uplink-collect", 10*time.Second, "how often the site stream collects assets, alerts and health (1s to 10m; an alert's repeated count goes at most every 3 times this)")
	sshCommand := fs.Bool("ssh-command", false, "run as the OpenSSH ForceCommand wrapper instead of the daemon (same as 'sensorcore ssh-command')")
	if _, err := parse(fs, args); err != nil {
		return 2
	}
	if *sshCommand {
		return sshCommandRun(c, stdout, stderr)
	}
	if *collect < time.Second || *collect > 10*time.Minute {
		fmt.Fprintf(stderr, "sensorcore serve: --uplink-collect %s: choose from 1s to 10m\n", *collect)
		return 2
	}
	e, err := daemon.NewEngine(daemon.Options{Root: c.root, TrustRoots: c.trustRoots, ReleaseRoots: c.releaseRoots, Backend: c.backend})
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore serve: %v\n", err)
		return 2
	}
	lg := log.New(stderr, "sensorcore: ", log.LstdFlags|log.LUTC)
	e.Log = lg.Printf
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fixed := c
	so := daemon.ServeOptions{ConsoleAddr: *consoleAddr, SSHAddr: *sshAddr, Version: version, Hostname: *hostname, Tick: *tick}
	// Monitoring runs in a process of its own (monitor-engine), supervised
	// here: a fault in packet parsing never reaches the console, the SSH
	// listener or the rollback deadline.
	var stopMonitor func() // before a restart into a new binary (exec skips defers)
	if len(ifaces) > 0 || len(replays) > 0 {
		sup, err := e.NewMonitorSupervisor(daemon.MonitorOptions{Interfaces: ifaces, Manuf: *manuf, Log: lg.Printf,
			Replay: replays, ReplaySpeed: *replaySpeed, ReplayLoops: *replayLoops})
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore serve: %v\n", err)
			return 2
		}
		mctx, cancelMonitor := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { sup.Run(mctx); close(done) }()
		stopMonitor = sync.OnceFunc(func() { cancelMonitor(); <-done; sup.Close() })
		defer stopMonitor()
		so.Monitor, so.CaptureHealth, so.MonitorState, so.CapturePorts = sup.Handler(), sup.Health, sup.State, sup.Ports
		so.Plugins = sup.Plugins
	}
	// The site stream: serve publishes (the engine holds no key), off its
	// own loop; a generation without an uplink only counts devices.
	up, err := uplink.New(uplink.Options{Dir: e.Layout.UplinkDir(), Config: e.UplinkConfig, Monitor: so.Monitor, Capture: so.CaptureHealth,
		Status: func() (site.Status, error) { return siteStatus(e, version) }, Collect: *collect, Log: lg.Printf})
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore serve: %v\n", err)
		return 2
	}
	uctx, cancelUplink := context.WithCancel(ctx)
	uplinkDone := make(chan struct{})
	go func() { up.Run(uctx); close(uplinkDone) }()
	stopUplink := sync.OnceFunc(func() { cancelUplink(); <-uplinkDone; up.Close() })
	defer stopUplink()
	if so.Monitor != nil {
		so.Devices = up.Devices
	}
	so.Uplink = func() *site.UplinkState {
		if c, err := e.UplinkConfig(); err != nil || c == nil {
			return nil
		}
		st := up.State()
		return &st
	}
	so.Exec = func(ctx context.Context, a []string, o, ew io.Writer) int {
		if a[0] == "version" {
			return cmdVersion(nil, o, ew)
		}
		return invocation{fixed: &fixed, confine: true}.run(ctx, a[0], a[1:], o, ew)
	}
	if err := e.Serve(ctx, so); errors.Is(err, daemon.ErrRestart) {
		// install-core replaced the binary: become it, same pid and flags.
		exe := daemon.Executable
		stop()
		stopUplink()
		if stopMonitor != nil {
			stopMonitor()
		}
		lg.Printf("exec %s", exe)
		err = syscall.Exec(exe, append([]string{exe}, os.Args[1:]...), os.Environ())
		fmt.Fprintf(stderr, "sensorcore serve: restart into %s: %v\n", exe, err)
		return 1
	} else if err != nil {
		fmt.Fprintf(stderr, "sensorcore serve: %v\n", err)
		return 1
	}
	return 0
}

// siteStatus is the sensor's status as the site stream carries it.
func siteStatus(e *daemon.Engine, version string) (site.Status, error) {
	st, err := e.Status(version)
	if err != nil {
		return site.Status{}, err
	}
	s := site.Status{Version: st.Version, Generation: st.Generation}
	if a := st.Activation; a != nil {
		s.Plan, s.Zone, s.Devices.Licensed, s.Devices.Plan = a.PlanID, a.Zone, a.DeviceCount, a.PlanID
		s.Expires = a.Expires
	}
	if st.Certificate != nil {
		s.Certificate = st.Certificate.FingerprintSHA256
	}
	return s, nil
}

// cmdSSHCommand is "sensorcore ssh-command", the OpenSSH ForceCommand
// wrapper; "sensorcore serve --ssh-command" is the same.
var cmdSSHCommand = runSSHCommand

// runSSHCommand is the OpenSSH ForceCommand wrapper (docs/appliance.md): it
// reads SSH_ORIGINAL_COMMAND, serves SFTP confined to the incoming directory
// when the client asked for the sftp subsystem, and otherwise runs only the
// provisioning commands, confined to the incoming directory.
func runSSHCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sensorcore ssh-command", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if _, err := parse(fs, args); err != nil {
		return 2
	}
	return sshCommandRun(c, stdout, stderr)
}

func sshCommandRun(c common, stdout, stderr io.Writer) int {
	orig := strings.TrimSpace(os.Getenv("SSH_ORIGINAL_COMMAND"))
	if orig == "internal-sftp" || orig == "sftp" || orig == "sftp-server" || strings.HasSuffix(orig, "/sftp-server") || strings.HasPrefix(orig, "/usr/lib/openssh/sftp-server") {
		return serveSFTPStdio(daemon.Layout{Root: c.root}.Incoming(), stderr)
	}
	a, err := sshd.AllowedCommand(orig)
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore: %v\n", err)
		return 2
	}
	if a[0] == "version" {
		return cmdVersion(nil, stdout, stderr)
	}
	return invocation{fixed: &c, confine: true}.run(context.Background(), a[0], a[1:], stdout, stderr)
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdin.Close() }

func serveSFTPStdio(dir string, stderr io.Writer) int {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "sensorcore: %v\n", err)
		return 1
	}
	h, closer, err := sshd.Handlers(dir)
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore: %v\n", err)
		return 1
	}
	defer closer.Close()
	srv := sftp.NewRequestServer(stdio{}, h)
	if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "sensorcore: sftp: %v\n", err)
		return 1
	}
	return 0
}
