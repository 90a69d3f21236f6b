package demo

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapline/tapline/app/preset"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/sheetcsv"
	"github.com/tapline/tapline/sensorcore/activation"
)

// Demo credentials. They protect nothing but throw-away loopback sensors.
const (
	User         = "admin"
	Password     = "Demo.Sensor-1"
	CAPassphrase = "Demo.CA-pass1"
	ManifestName = "demo.json"
)

// The network each demo sensor's bundle sets (192.0.2.0/24, documentation
// addresses; the demo sensors' backend is none, so nothing is configured).
const (
	newMask    = "24"
	newGateway = "192.0.2.1"
	newDNS     = "192.0.2.53"
)

// The appliance's files the demo writes and reads, relative to a sensor's
// root (docs/appliance.md). The demo drives the sensorcore binary and shares
// no code with the daemon; a test keeps these shapes in step with it.
const (
	etcDir      = "etc/sensorcore"
	runFile     = "var/lib/sensorcore/run.json"
	configFile  = "config.json"
	sshPassFile = "ssh_passwords"
)

// applianceConfig is what the demo sets in etc/sensorcore/config.json.
type applianceConfig struct {
	SensorName           string   `json:"sensor_name"`
	NetworkBackend       string   `json:"network_backend"`
	ActivationTrustRoots []string `json:"activation_trust_roots"`
}

// runInfo is what the demo reads of var/lib/sensorcore/run.json, which a
// running sensorcore serve writes once it listens.
type runInfo struct {
	PID     int    `json:"pid"`
	Console string `json:"console"`
	SSH     string `json:"ssh"`
}

// readRunInfo reads a sensor's run.json; ok is false until it is complete.
func readRunInfo(root string) (runInfo, bool) {
	var r runInfo
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(runFile)))
	if err != nil || json.Unmarshal(b, &r) != nil || r.PID <= 0 {
		return r, false
	}
	return r, true
}

// Options shape a demo fleet. Zero values take the defaults noted.
type Options struct {
	// Dir holds everything the fleet uses; it must be empty or missing.
	Dir string
	// Sensorcore is the sensorcore binary to run. Required.
	Sensorcore string
	// Sensors is how many to start (default 3, at most 50).
	Sensors int
	// Now is the clock for activation files and certificates (default time.Now).
	Now func() time.Time
	// Log receives the sensors' own output (default: discarded).
	Log io.Writer
	// StartTimeout bounds waiting for each sensor to listen (default 30 s).
	StartTimeout time.Duration
	// NATSServer, when set, is the nats-server binary: the demo then runs
	// a one-node JetStream site beside the sensors (material made as
	// `tapline site init` makes it, streams created) and the inventory's
	// uplink column provisions every sensor to stream to it.
	NATSServer string
	// Captures, when set, is the folder of the shared captures: each
	// sensor's monitor replays some of them, looping (serve
	// --monitor-replay, a lab and demo feature), so it has devices,
	// alerts and operations to show and stream.
	Captures string
	// ReplaySpeed scales the captures' recorded pace (default 1).
	ReplaySpeed float64
	// Replay, when set, has each sensor's monitor replay these capture
	// files (pcap or pcapng) as live traffic at up to 1000x their pace,
	// looping (sensorcore serve --monitor-replay; the engine runs as its
	// own user, so serve must run as root): the sensors then discover
	// devices and report them in their status. It takes the place of
	// Captures.
	Replay []string
}

// Sensor is one running demo sensor and the files made for it.
type Sensor struct {
	Name       string `json:"name"`
	Hostname   string `json:"hostname"`   // the certificate's name
	Root       string `json:"root"`       // its sensorcore root
	SSHAddr    string `json:"ssh"`        // 127.0.0.1:port
	Console    string `json:"console"`    // 127.0.0.1:port
	NewIP      string `json:"new_ip"`     // the address its bundle sets (192.0.2.0/24, never configured: backend none)
	Activation string `json:"activation"` // its activation file
	Cert       string `json:"cert"`       // certificate issued by the demo CA
	Key        string `json:"key"`        // its key
	Chain      string `json:"chain"`      // the CA chain
	PID        int    `json:"pid"`
}

// Fleet is a running demo fleet. Manifest() describes it; Stop ends it.
type Fleet struct {
	Dir        string   `json:"dir"`
	Inventory  string   `json:"inventory"`
	TrustRoot  string   `json:"trust_root"`  // demo activation root public key
	CADir      string   `json:"ca_dir"`      // demo local CA (passphrase CAPassphrase)
	KnownHosts string   `json:"known_hosts"` // a fresh known_hosts for the demo
	FilesDir   string   `json:"files_dir"`   // where the app keeps bundles and reports
	User       string   `json:"user"`
	Sensors    []Sensor `json:"sensors"`
	// SiteDir, SiteFile and NATSAddr are the demo site's material (site
	// init's folder), its site.json and its server's client address; empty
	// without Options.NATSServer.
	SiteDir  string `json:"site_dir,omitempty"`
	SiteFile string `json:"site_file,omitempty"`
	NATSAddr string `json:"nats,omitempty"`

	procs []*exec.Cmd
	waits []chan error
	names []string // each process's name, for Stop's errors
}

// Start makes the demo material in o.Dir and starts the sensors. On any
// failure it stops what it started. ctx cancels the start; it does not stop
// the fleet later (call Stop).
func Start(ctx context.Context, o Options) (f *Fleet, err error) {
	if o.Sensorcore == "" {
		return nil, errors.New("demo: no sensorcore binary: build it with 'make build-sensorcore' and pass --sensorcore bin/sensorcore")
	}
	if o.Sensors == 0 {
		o.Sensors = 3
	}
	if o.Sensors < 1 || o.Sensors > 50 {
		return nil, fmt.Errorf("demo: %d sensors: choose 1 to 50", o.Sensors)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.Dir == "" {
		return nil, errors.New("demo: no folder given")
	}
	if err := checkSiteOptions(o); err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(o.Dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("demo: %s is not empty: give a new folder (the demo never reuses old material)", o.Dir)
	}
	if runtime.GOOS != "linux" {
		return nil, errors.New("demo: the demo fleet runs sensorcore, the appliance's daemon, which runs on Linux only: start it on a Linux machine")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	f = &Fleet{Dir: dir, User: User,
		Inventory: filepath.Join(dir, "inventory.csv"), TrustRoot: filepath.Join(dir, "authority", "demo-root.pub"),
		CADir: filepath.Join(dir, "ca"), KnownHosts: filepath.Join(dir, "known_hosts"), FilesDir: filepath.Join(dir, "files")}
	defer func() {
		if err != nil {
			f.Stop()
		}
	}()
	for _, d := range []string{dir, filepath.Dir(f.TrustRoot), f.FilesDir, filepath.Join(dir, "activation"), filepath.Join(dir, "certs"), filepath.Join(dir, "sensors")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return f, fmt.Errorf("demo: %w", err)
		}
	}
	now := o.Now()
	for i := 1; i <= o.Sensors; i++ {
		name := fmt.Sprintf("sensor-%02d", i)
		f.Sensors = append(f.Sensors, Sensor{Name: name, Hostname: name + ".plant.example",
			Root: filepath.Join(dir, "sensors", name), NewIP: fmt.Sprintf("192.0.2.%d", 10+i)})
	}
	if err := f.makeActivation(now); err != nil {
		return f, err
	}
	c, err := f.makeCerts(now)
	if err != nil {
		return f, err
	}
	if o.NATSServer != "" {
		if err := f.startSite(ctx, c, o, now); err != nil {
			return f, err
		}
	}
	for i := range f.Sensors {
		if err := ctx.Err(); err != nil {
			return f, err
		}
		if err := f.start(ctx, i, o); err != nil {
			return f, err
		}
	}
	if err := f.writeInventory(); err != nil {
		return f, err
	}
	m, _ := json.MarshalIndent(f, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, ManifestName), m, 0o600); err != nil {
		return f, fmt.Errorf("demo: %w", err)
	}
	return f, nil
}

// makeActivation creates the demo authority (a lab root and a certified
// signing key, as `tapline activation lab-init` does) and one file per sensor.
func (f *Fleet) makeActivation(now time.Time) error {
	rootPub, rootKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signPub, signKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	sc, err := activation.CertifySigner(rootKey, signPub, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		return fmt.Errorf("demo: activation signer: %w", err)
	}
	if err := os.WriteFile(f.TrustRoot, activation.MarshalPublicKey(rootPub), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for i := range f.Sensors {
		s := &f.Sensors[i]
		data, err := activation.Issue(activation.Request{SensorID: fmt.Sprintf("DEMO-%04d", i+1), SensorName: s.Name,
			Site: "Demo plant", Zone: "Line 1", PlanID: "demo", Mode: activation.ModeLocal, DeviceCount: 100,
			Expires: now.AddDate(1, 0, 0)}, signKey, sc, now)
		if err != nil {
			return fmt.Errorf("demo: activation file for %s: %w", s.Name, err)
		}
		s.Activation = filepath.Join(f.Dir, "activation", s.Name+".tapact")
		if err := os.WriteFile(s.Activation, data, 0o600); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// makeCerts creates the demo local CA and issues each sensor's certificate
// for its hostname and the address its bundle sets.
func (f *Fleet) makeCerts(now time.Time) (*ca.CA, error) {
	// The demo CA's passphrase is printed for the newcomer, so key stretching
	// buys nothing here; a low PBKDF2 count keeps the demo's start quick.
	c, err := ca.Init(ca.InitOptions{Name: "Tapline Demo Root CA", Country: "DE", Organization: "Demo Plant", Now: now.Add(-time.Hour),
		KDFIterations: 10_000})
	if err != nil {
		return nil, fmt.Errorf("demo: local CA: %w", err)
	}
	for i := range f.Sensors {
		s := &f.Sensors[i]
		is, err := c.Issue(ca.IssueRequest{Hostname: s.Hostname, IP: netip.MustParseAddr(s.NewIP), Now: now.Add(-time.Hour)})
		if err != nil {
			return nil, fmt.Errorf("demo: certificate for %s: %w", s.Name, err)
		}
		if _, err := ca.Export(filepath.Join(f.Dir, "certs"), s.Hostname, is, ca.ExportOptions{}); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		base := filepath.Join(f.Dir, "certs", s.Hostname)
		s.Cert, s.Key, s.Chain = base+".crt", base+".key", base+"-chain.pem"
	}
	if err := c.Save(f.CADir, []byte(CAPassphrase), nil); err != nil {
		return nil, fmt.Errorf("demo: local CA: %w", err)
	}
	return c, nil
}

// start prepares sensor i's root and runs `sensorcore serve` on loopback.
func (f *Fleet) start(ctx context.Context, i int, o Options) error {
	s := &f.Sensors[i]
	etc := filepath.Join(s.Root, filepath.FromSlash(etcDir))
	if err := os.MkdirAll(etc, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(etc, sshPassFile), []byte(User+":"+string(hash)+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg, _ := json.Marshal(applianceConfig{SensorName: s.Name, NetworkBackend: "none", ActivationTrustRoots: []string{f.TrustRoot}})
	if err := os.WriteFile(filepath.Join(etc, configFile), cfg, 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	args := []string{"serve", "--root", s.Root, "--console-listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0", "--hostname", s.Hostname}
	replay, speed := o.Replay, "1000"
	if len(replay) == 0 && o.Captures != "" {
		files, err := captureFiles(o.Captures, i)
		if err != nil {
			return err
		}
		replay, speed = files, strconv.FormatFloat(cmp.Or(o.ReplaySpeed, 1), 'g', -1, 64)
	}
	for _, r := range replay {
		args = append(args, "--monitor-replay", r)
	}
	if len(replay) > 0 {
		args = append(args, "--monitor-replay-speed", speed)
	}
	cmd := exec.Command(o.Sensorcore, args...)
	out := &tailWriter{max: 2048} // its last words, for the error if it stops at start
	cmd.Stdout, cmd.Stderr = io.MultiWriter(prefixed(o.Log, s.Name), out), io.MultiWriter(prefixed(o.Log, s.Name), out)
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("demo: starting %s: %w", o.Sensorcore, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	f.procs = append(f.procs, cmd)
	f.waits = append(f.waits, done)
	f.names = append(f.names, s.Name)
	deadline := time.NewTimer(o.StartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ri, ok := readRunInfo(s.Root); ok && ri.PID == cmd.Process.Pid && ri.SSH != "" {
			s.SSHAddr, s.Console, s.PID = ri.SSH, ri.Console, ri.PID
			return nil
		}
		select {
		case err := <-done:
			done <- err
			status := "exit status 0"
			if err != nil {
				status = err.Error()
			}
			said := out.String()
			if said == "" {
				said = "nothing"
			}
			return fmt.Errorf("demo: %s (%s serve) stopped before it listened (%s); it said: %s", s.Name, o.Sensorcore, status, said)
		case <-deadline.C:
			return fmt.Errorf("demo: %s did not listen within %s", s.Name, o.StartTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// writeInventory writes the fleet's inventory CSV (docs/inventory.md): each
// sensor gets its demo address in the bundle and is reached again on
// loopback (new_address).
func (f *Fleet) writeInventory() error {
	var b strings.Builder
	w := sheetcsv.NewWriter(&b, sheetcsv.Comma)
	w.Write([]string{"sensor", "address", "ssh_port", "ssh_user", "auth", "interface", "new_ip", "new_mask", "new_gateway", "new_dns",
		"new_hostname", "new_address", "activation", "cert_source", "cert", "key", "chain", "console_port", "uplink"})
	for _, s := range f.Sensors {
		host, port := splitAddr(s.SSHAddr)
		_, cport := splitAddr(s.Console)
		uplink := ""
		if f.SiteFile != "" {
			uplink = rel(f.Dir, f.SiteFile)
		}
		w.Write([]string{s.Name, host, port, User, "password", "eth0", s.NewIP, newMask, newGateway, newDNS,
			s.Hostname, host, rel(f.Dir, s.Activation), "files", rel(f.Dir, s.Cert), rel(f.Dir, s.Key), rel(f.Dir, s.Chain), cport, uplink})
	}
	w.Flush()
	return os.WriteFile(f.Inventory, []byte(b.String()), 0o600)
}

func splitAddr(a string) (string, string) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return a, ""
	}
	return a[:i], a[i+1:]
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return r
	}
	return p
}

// Stop ends every process it started, the sensors before the site's
// server: SIGTERM, then SIGKILL after 5 s. It is safe to call more than
// once.
func (f *Fleet) Stop() error {
	var errs []error
	for i := len(f.procs) - 1; i >= 0; i-- {
		c := f.procs[i]
		if c.Process == nil {
			continue
		}
		c.Process.Signal(syscall.SIGTERM)
		select {
		case <-f.waits[i]:
		case <-time.After(5 * time.Second):
			c.Process.Kill()
			<-f.waits[i]
			errs = append(errs, fmt.Errorf("demo: %s did not stop on SIGTERM; killed", f.names[i]))
		}
	}
	f.procs, f.waits, f.names = nil, nil, nil
	return errors.Join(errs...)
}

// Load reads the manifest a running fleet wrote in dir.
func Load(dir string) (*Fleet, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("demo: %w (start the fleet with 'tapline demo' first)", err)
	}
	var f Fleet
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", ManifestName, err)
	}
	return &f, nil
}

// Preset is what the desktop app starts with on this fleet: its files, the
// demo secrets (in memory only), and the wizard filled in for the first
// sensor, which is reached again on loopback after its change.
func (f *Fleet) Preset() preset.Preset {
	p := preset.Preset{Inventory: f.Inventory, FilesDir: f.Dir, KnownHosts: f.KnownHosts, TrustRoot: f.TrustRoot,
		SSHPassword: Password, AcceptNew: true, CAPassphrase: CAPassphrase, Site: f.SiteFile}
	for _, s := range f.Sensors {
		host, port := splitAddr(s.SSHAddr)
		_, cport := splitAddr(s.Console)
		p.Sensors = append(p.Sensors, preset.Sensor{Name: s.Name, Address: host, SSHPort: port, ConsolePort: cport,
			User: f.User, Password: Password, NewIP: s.NewIP, Mask: newMask, Gateway: newGateway, DNS: newDNS,
			Hostname: s.Hostname, Reach: host, Activation: s.Activation, Cert: s.Cert, Key: s.Key, Chain: s.Chain, Uplink: f.SiteFile})
	}
	return p
}

// Describe writes what the fleet is, for people.
func (f *Fleet) Describe(w io.Writer) {
	fmt.Fprintf(w, "Demo fleet in %s\n", f.Dir)
	for _, s := range f.Sensors {
		fmt.Fprintf(w, "  %-10s ssh %-16s console https://%-16s pid %d  -> %s (%s)\n", s.Name, s.SSHAddr, s.Console, s.PID, s.Hostname, s.NewIP)
	}
	fmt.Fprintf(w, "Console sign-in:  user admin; each sensor made its first password at first start (a new one is asked at once):\n")
	for _, s := range f.Sensors {
		if pw, err := s.ConsoleFirstPassword("admin"); err == nil {
			fmt.Fprintf(w, "  %-10s https://%s  admin / %s\n", s.Name, s.Console, pw)
		} else {
			fmt.Fprintf(w, "  %-10s https://%s  admin / (see %s: %v)\n", s.Name, s.Console, s.ConsolePasswordsFile(), err)
		}
	}
	fmt.Fprintf(w, "Inventory:        %s\n", f.Inventory)
	fmt.Fprintf(w, "SSH sign-in:      user %s, password %s (TAPLINE_SSH_PASSWORD)\n", User, Password)
	fmt.Fprintf(w, "Activation root:  %s (demo authority; pass --trust-root)\n", f.TrustRoot)
	fmt.Fprintf(w, "Local CA:         %s (passphrase %s)\n", f.CADir, CAPassphrase)
	fmt.Fprintf(w, "known_hosts:      %s\n", f.KnownHosts)
	if f.SiteFile != "" {
		fmt.Fprintf(w, "Site:             %s on nats://%s (one JetStream node; the inventory's uplink column provisions each sensor to stream to it)\n", SiteName, f.NATSAddr)
		fmt.Fprintf(w, "                  tapline site status --site-file %s\n", f.SiteFile)
	}
}

// ConsolePasswordsFile is where the sensor keeps the first passwords of its
// console users (docs/appliance.md: R/etc/sensorcore/console-initial-passwords).
func (s Sensor) ConsolePasswordsFile() string {
	return filepath.Join(s.Root, "etc", "sensorcore", "console-initial-passwords")
}

// ConsoleFirstPassword reads the console user's first-start password from
// ConsolePasswordsFile ("user password" lines). The console asks for a new
// one at the first sign-in; after that this one no longer works.
func (s Sensor) ConsoleFirstPassword(user string) (string, error) {
	b, err := os.ReadFile(s.ConsolePasswordsFile())
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if u, pw, ok := strings.Cut(strings.TrimSpace(l), " "); ok && u == user {
			return pw, nil
		}
	}
	return "", fmt.Errorf("no first password for %s in %s", user, s.ConsolePasswordsFile())
}
