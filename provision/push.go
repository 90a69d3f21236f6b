package provision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/version"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// Event is one progress report. Percent is the step's progress, 0 to 100.
type Event struct {
	Sensor  string    `json:"sensor"`
	Step    Step      `json:"step"`
	Percent float64   `json:"percent"`
	Bytes   int64     `json:"bytes,omitempty"`
	Message string    `json:"message,omitempty"`
	At      time.Time `json:"at"`
	// NetworkDiff is set on preflight's event that compares the sensor's
	// live network with the bundle's (LiveNetworkDiff lines; Message holds
	// them too, for a log).
	NetworkDiff []string `json:"network_diff,omitempty"`
	// Failed is set on the last event of a push that did not end done:
	// Code is its failure code, Message "error: " and the Go error.
	Failed bool   `json:"failed,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Outcome is how a push ended.
type Outcome string

// Outcomes.
const (
	OutcomeDone       Outcome = "done"        // applied, confirmed, certificate verified over TLS
	OutcomeRolledBack Outcome = "rolled_back" // the sensor undid the change itself and answers on its old generation
	OutcomeRefused    Outcome = "refused"     // stopped on purpose: trust, preflight or apply said no
	OutcomeFailed     Outcome = "failed"      // anything else; Transient says whether a retry may help
)

// Bundle is the checked bundle to push, packed in memory (the .tapbundle
// bytes), and what the push must see served afterwards. It may hold a
// private key: it lives in memory only and goes to the sensor over SFTP.
type Bundle struct {
	Archive         []byte // bundle.Archive's bytes
	Sensor          string // the sensor it was made for
	CertFingerprint string // hex SHA-256 of the leaf certificate's DER
	// KeepCertificate: the bundle carries no certificate (cert_source
	// self-signed); the sensor keeps the one it serves, and verify pins
	// the fingerprint apply reports. CertFingerprint is then empty.
	KeepCertificate bool
	// CertIssued says who issued the certificate when the bundle was built
	// (LocalIssued.Note); the result carries it.
	CertIssued string
	// Plugins are signed protocol plugins installed once the sensor runs
	// the pushed generation (StepPlugins).
	Plugins []PluginFile
	// Uplink: the bundle configures a site uplink (docs/site.md); a sensor
	// that runs none (or runs one the bundle removes) has not applied it.
	Uplink bool
}

// Wipe overwrites the archive (and the key in it) once the bundle is no
// longer needed.
func (b *Bundle) Wipe() { clear(b.Archive) }

// Target is one sensor to push to.
type Target struct {
	Sensor string
	Addr   string // SSH host:port now
	// NewAddr is where the sensor answers after apply: a host (the SSH
	// port stays) or host:port; empty or equal to Addr when it does not move.
	NewAddr string
	// ConsolePort is the HTTPS console's port (default 443).
	ConsolePort int
	User        string
	Auth        sshconn.Auth
	Jump        *sshconn.Endpoint
	// PinnedKey, when set, is the host key proved by an earlier attempt at
	// this sensor; a retry trusts it at the new address.
	PinnedKey ssh.PublicKey
	// Trust, when set, replaces Options.Trust for the first connection
	// (the known_hosts files ~/.ssh/config names for this sensor).
	Trust sshconn.Trust
}

// Options are shared by every push of a run.
type Options struct {
	Trust sshconn.Trust // known_hosts trust for the first connection
	SSH   sshconn.Options
	// Core is the remote command name (default "sensorcore").
	Core string
	// IncomingDir is the SFTP directory uploads go to (default "/": the
	// embedded listener and the OpenSSH ForceCommand wrapper both serve SFTP
	// with the incoming dir as "/").
	IncomingDir string
	// ConfirmTimeout is passed to apply as --confirm-timeout (0: the
	// appliance's default, 120 s).
	ConfirmTimeout time.Duration
	// RollbackGrace is how long past the rollback deadline to wait before
	// looking for the sensor at its old address (default 5 s).
	RollbackGrace time.Duration
	// RetryEvery is the pause between reconnect attempts (default 500 ms).
	RetryEvery time.Duration
	// VerifyTimeout bounds waiting for the console to serve (default 30 s).
	VerifyTimeout time.Duration
	// MinCoreVersion refuses sensors running an older sensorcore ("" : any).
	MinCoreVersion string
	// Validate adds the validate step after verify: `sensorcore validate`
	// over the same session (gateway, DNS, NTP, each monitoring port's
	// traffic); its result is Result.Validation and never changes the
	// push's outcome.
	Validate bool
	// InstallCore, when set (--install-core), is installed before preflight
	// on sensors whose sensorcore is older.
	InstallCore *Core
	// Plugins lists the plugins step: some pushes of the run carry
	// protocol plugins (a push whose bundle carries them has it anyway).
	Plugins bool
	// Events receives progress; it must not block for long. May be nil.
	Events func(Event)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// StepTiming records one step's run.
type StepTiming struct {
	Step     Step          `json:"step"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	OK       bool          `json:"ok"`
}

// Result is one push's report.
type Result struct {
	Sensor  string  `json:"sensor"`
	Outcome Outcome `json:"outcome"`
	Step    Step    `json:"step"` // the last step reached
	Error   string  `json:"error,omitempty"`
	// Code is the failure's stable code (TL-PUSH-NNN, PushCodes) and Fix
	// its fix; empty when done. ApplianceCode is the appliance's own code
	// for a refused apply (TL-APP-*, TL-CERT-*, TL-ACT-*, TL-BUN-*), whose
	// findings are in Findings.
	Code               string `json:"code,omitempty"`
	Fix                string `json:"fix,omitempty"`
	ApplianceCode      string `json:"appliance_code,omitempty"`
	Transient          bool   `json:"transient,omitempty"`
	HostKey            string `json:"host_key_sha256,omitempty"`
	FinalAddr          string `json:"final_addr,omitempty"`
	Generation         int    `json:"generation,omitempty"`
	PreviousGeneration int    `json:"previous_generation,omitempty"`
	ServedFingerprint  string `json:"served_fingerprint_sha256,omitempty"`
	// BundleFingerprint is the certificate the push expected to see
	// served: the bundle's, or for a kept self-signed one what apply
	// reported.
	BundleFingerprint string `json:"bundle_fingerprint_sha256,omitempty"`
	// CertificateNote is "self-signed kept" when the bundle kept the
	// sensor's certificate (cert_source self-signed).
	CertificateNote string `json:"certificate_note,omitempty"`
	// CertIssued is "issued by the local CA <subject>, serial <hex>" for a
	// certificate the local CA issued when the bundle was built.
	CertIssued string `json:"certificate_issued,omitempty"`
	// Validation is the sensor's validation after setup (Options.Validate,
	// or Session.Validate); ValidationError says why there is none when
	// it was asked for (an older sensorcore, a lost connection).
	Validation      *Validation `json:"validation,omitempty"`
	ValidationError string      `json:"validation_error,omitempty"`
	// Plugins are the protocol plugins the sensor installed (StepPlugins).
	Plugins []PluginInstall `json:"plugins,omitempty"`
	// Reverified: the sensor already ran this bundle (an earlier attempt
	// applied it); the push only confirmed (when still pending) and
	// verified, nothing was uploaded or applied again.
	Reverified bool `json:"reverified,omitempty"`
	// Devices and Uplink are what the sensor's status said at verify
	// about its monitored devices and its site uplink, when it reports
	// them.
	Devices        *StatusDevices `json:"devices,omitempty"`
	Uplink         *StatusUplink  `json:"uplink,omitempty"`
	Activated      bool           `json:"activated"`
	RollbackReason string         `json:"rollback_reason,omitempty"`
	Findings       []Finding      `json:"findings,omitempty"`
	// NetworkBefore is the network the sensor reported at preflight
	// (status --json; nil before its first generation) and NetworkDiff
	// the change against the bundle's settings ("- before", "+ after",
	// "  unchanged" lines): the live before, where batch check can only
	// show the inventory's.
	NetworkBefore *netconf.Network `json:"network_before,omitempty"`
	NetworkDiff   []string         `json:"network_diff,omitempty"`
	Steps         []StepTiming     `json:"steps"`
	Uploaded      *UploadResult    `json:"upload,omitempty"`
	// PinnedKey is the host key proved; a retry passes it in Target.PinnedKey.
	PinnedKey ssh.PublicKey `json:"-"`
}

// PreflightError says the sensor is not the one the bundle is for, or cannot
// take it; nothing was written.
type PreflightError struct {
	Reason string
	Code   string // CodeIdentityMismatch, CodeVersionTooOld; empty: CodePreflight
}

func (e *PreflightError) Error() string { return "provision: preflight: " + e.Reason }

// VerifyError says the console did not serve the expected certificate or
// health.
type VerifyError struct{ Reason string }

func (e *VerifyError) Error() string { return "provision: verify: " + e.Reason }

// pusher is one push's state as its steps (stepList) fill it in.
type pusher struct {
	o      Options
	preGen int // the generation preflight saw
	t      Target
	b      Bundle
	res    *Result
	cur    *StepTiming
	// unconfined: the account has a root shell and a plain SFTP server
	// (a first install went through it), so uploads go to the incoming
	// directory the sensor reports, not to IncomingDir's "/".
	unconfined bool

	c            *sshconn.Client // the connection the next step uses
	final        string          // the SSH address the sensor answers at now
	movedAlready bool            // connected at the new address (a retry)
	st           Status          // preflight's status
	applied      bool            // preflight found this bundle already applied
	remote       string          // the uploaded bundle's name
	ar           ApplyResult     // apply's answer (Generation -1: lost)
	lost         bool            // the connection dropped during apply
	applyStart   time.Time
}

func (p *pusher) now() time.Time { return p.o.Now() }

func (p *pusher) emit(step Step, pct float64, bytes int64, msg string) {
	p.emitEvent(Event{Step: step, Percent: pct, Bytes: bytes, Message: msg})
}

// emitEvent fills in the sensor and the time and hands e to Options.Events.
func (p *pusher) emitEvent(e Event) {
	if p.o.Events != nil {
		e.Sensor, e.At = p.t.Sensor, p.now()
		p.o.Events(e)
	}
}

func (p *pusher) begin(s Step, msg string) {
	p.end(true)
	p.res.Step = s
	p.res.Steps = append(p.res.Steps, StepTiming{Step: s, Start: p.now()})
	p.cur = &p.res.Steps[len(p.res.Steps)-1]
	p.emit(s, 0, 0, msg)
}

func (p *pusher) end(ok bool) {
	if p.cur != nil {
		p.cur.Duration = p.now().Sub(p.cur.Start)
		p.cur.OK = ok
		if ok {
			p.emit(p.cur.Step, 100, 0, "")
		}
		p.cur = nil
	}
}

func (o *Options) defaults() {
	if o.Core == "" {
		o.Core = "sensorcore"
	}
	if o.IncomingDir == "" {
		o.IncomingDir = "/"
	}
	if o.RollbackGrace <= 0 {
		o.RollbackGrace = 5 * time.Second
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = 500 * time.Millisecond
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Push takes bundle b to sensor t through the steps connect, trust,
// preflight, upload, apply, reconnect+confirm and verify. It always returns a
// Result; its Outcome says how it ended. ctx cancels it between and within
// steps (a cancelled push after apply leaves the sensor to roll back on its
// own when its address changed and nothing confirmed).
func Push(ctx context.Context, t Target, b Bundle, o Options) Result {
	o.defaults()
	if len(b.Plugins) > 0 {
		o.Plugins = true
	}
	res := Result{Sensor: t.Sensor, Outcome: OutcomeFailed}
	p := &pusher{o: o, t: t, b: b, res: &res}
	err := p.run(ctx)
	p.end(err == nil)
	res.BundleFingerprint = p.b.CertFingerprint
	res.CertIssued = b.CertIssued
	if err != nil {
		res.Error = err.Error()
		res.Code = pushCode(ctx, err, res.Step)
		if c, ok := LookupPushCode(res.Code); ok {
			res.Fix = c.Fix
		}
		var hc *sshconn.HostKeyChangedError
		if errors.As(err, &hc) {
			// The exact command for this host, port and file.
			res.Fix = strings.Replace(res.Fix, "ssh-keygen -R ADDRESS", hc.RemoveCommand(), 1)
		}
		res.Transient = Transient(err) && ctx.Err() == nil && res.Outcome != OutcomeRolledBack
		var pe *PreflightError
		var re *RemoteError
		var ue *sshconn.UnknownHostError
		var ce *sshconn.HostKeyChangedError
		var pk *sshconn.PinnedKeyMismatchError
		switch {
		case errors.As(err, &pe), errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &pk),
			errors.As(err, &re) && re.Exit > 0 && res.Step == StepApply:
			res.Outcome = OutcomeRefused
		}
		p.emitEvent(Event{Step: res.Step, Message: "error: " + res.Error, Failed: true, Code: res.Code})
	}
	return res
}

// Transient reports whether a failed push may succeed when retried: a lost
// or timed-out connection. Never a refused host key, a failed check or a
// refusal by the appliance.
func Transient(err error) bool {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Exit < 0
	}
	var pe *PreflightError
	var ve *VerifyError
	if errors.As(err, &pe) || errors.As(err, &ve) {
		return false
	}
	var ue *UploadError
	if errors.As(err, &ue) {
		return ue.Op != "name" && ue.Op != "open local file" && ue.Op != "stat local file" && ue.Op != "hash check"
	}
	return sshconn.IsTransient(err)
}

func (p *pusher) endpoint(addr string) sshconn.Endpoint {
	return sshconn.Endpoint{Addr: addr, User: p.t.User, Auth: p.t.Auth}
}

func (p *pusher) sshOpts() sshconn.Options {
	so := p.o.SSH
	if p.t.Jump != nil {
		so.Jump = p.t.Jump
		if so.JumpTrust == nil {
			so.JumpTrust = p.o.Trust
		}
	}
	return so
}

func (p *pusher) newAddr() string {
	if p.t.NewAddr == "" {
		return ""
	}
	na := p.t.NewAddr
	if _, _, err := net.SplitHostPort(na); err != nil {
		_, port, err := net.SplitHostPort(p.t.Addr)
		if err != nil {
			return ""
		}
		na = net.JoinHostPort(na, port)
	}
	if na == p.t.Addr {
		return ""
	}
	return na
}

// checkStatus refuses a sensor that is not the bundle's or cannot take it.
func (p *pusher) checkStatus(st Status, size int64) error {
	if st.Version == "" {
		return &PreflightError{Reason: "the sensor did not report its sensorcore version"}
	}
	if p.o.MinCoreVersion != "" && version.Compare(st.Version, p.o.MinCoreVersion) < 0 {
		return &PreflightError{Reason: fmt.Sprintf("sensorcore %s on the sensor is older than %s; update it first", st.Version, p.o.MinCoreVersion), Code: CodeVersionTooOld}
	}
	// An unprovisioned sensor (generation 0, no activation) reports its
	// install-time host name; only a provisioned one has an identity to match.
	provisioned := st.Generation > 0 || (len(st.Activation) > 0 && string(st.Activation) != "null")
	if provisioned && st.SensorName != p.t.Sensor {
		return &PreflightError{Reason: fmt.Sprintf("the sensor says it is %q, the bundle is for %q: wrong address?", st.SensorName, p.t.Sensor), Code: CodeIdentityMismatch}
	}
	if need := 2*size + 1<<20; st.FreeBytes < need {
		return &PreflightError{Reason: fmt.Sprintf("the sensor has %s free, the bundle needs %s", HumanBytes(st.FreeBytes), HumanBytes(need))}
	}
	p.emit(StepPreflight, 100, 0, fmt.Sprintf("sensorcore %s, generation %d, %s free", st.Version, st.Generation, HumanBytes(st.FreeBytes)))
	return nil
}

func (p *pusher) confirm(ctx context.Context, c *ssh.Client) error {
	var cr ConfirmResult
	if err := runJSON(ctx, c, p.o.Core, &cr, "confirm", "--json"); err != nil {
		return err
	}
	if !cr.OK {
		return &RemoteError{Command: "confirm", Exit: 1, Message: cr.Error}
	}
	p.emit(StepConfirm, 100, 0, "confirmed")
	return nil
}

// reconnect dials addr trusting exactly the pinned key until deadline.
func (p *pusher) reconnect(ctx context.Context, addr string, deadline time.Time) (*sshconn.Client, error) {
	so := p.sshOpts()
	var last error
	for attempt := 1; ; attempt++ {
		left := deadline.Sub(p.now())
		if left <= 0 {
			if last == nil {
				last = errors.New("no time left before the deadline")
			}
			return nil, fmt.Errorf("provision: %s unreachable until the rollback deadline: %w", addr, last)
		}
		so.Timeout = min(left, 5*time.Second)
		c, err := sshconn.Dial(ctx, p.endpoint(addr), sshconn.Pinned{Key: p.res.PinnedKey}, so)
		if err == nil {
			p.emit(StepConfirm, 50, 0, "reconnected at "+addr)
			return c, nil
		}
		if !sshconn.IsTransient(err) {
			return nil, err
		}
		last = err
		p.emit(StepConfirm, 10, 0, fmt.Sprintf("waiting for %s (attempt %d)", addr, attempt))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(p.o.RetryEvery):
		}
	}
}

// awaitRollback waits past the deadline and checks that the sensor is back
// on its old address and generation.
func (p *pusher) awaitRollback(ctx context.Context, deadline time.Time, ar ApplyResult, cause error) error {
	var pk *sshconn.PinnedKeyMismatchError
	if errors.As(cause, &pk) {
		return cause
	}
	p.emit(StepConfirm, 60, 0, "new address unreachable; waiting for the sensor to roll back")
	until := deadline.Add(p.o.RollbackGrace)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(until.Sub(p.now())):
	}
	c, err := p.reconnect(ctx, p.t.Addr, p.now().Add(p.o.VerifyTimeout))
	if err != nil {
		return fmt.Errorf("provision: the sensor is neither at its new address nor back at %s after the rollback deadline: %w", p.t.Addr, err)
	}
	defer c.Close()
	// The sensor rolls back on its own clock: a busy one may still be
	// pending for a moment past the deadline. Ask until it has rolled back
	// or VerifyTimeout has passed.
	var st Status
	giveUp := p.now().Add(p.o.VerifyTimeout)
	for {
		st = Status{}
		if err := runJSON(ctx, c.Client, p.o.Core, &st, "status", "--json"); err != nil {
			return err
		}
		// ar.Generation is -1 when apply's answer was lost: then the sensor
		// has rolled back when it runs the generation preflight saw.
		stillNew := st.PendingConfirmation || (ar.Generation >= 0 && st.Generation == ar.Generation) ||
			(ar.Generation < 0 && st.Generation != p.preGen)
		if !stillNew {
			break
		}
		if !p.now().Before(giveUp) {
			return fmt.Errorf("provision: the sensor answers at %s but still runs generation %d (pending %v): it did not roll back", p.t.Addr, st.Generation, st.PendingConfirmation)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.o.RetryEvery):
		}
	}
	p.res.Outcome = OutcomeRolledBack
	p.res.Generation = st.Generation
	p.res.FinalAddr = p.t.Addr
	p.res.RollbackReason = st.LastRollbackReason
	if p.res.RollbackReason == "" {
		p.res.RollbackReason = "not confirmed before the deadline"
	}
	return errRolledBack{cause: cause, reason: p.res.RollbackReason, gen: st.Generation}
}

type errRolledBack struct {
	cause  error
	reason string
	gen    int
}

func (e errRolledBack) Error() string {
	return fmt.Sprintf("rolled back to generation %d (%s); new address unreachable: %v", e.gen, e.reason, e.cause)
}

// verify proves the result: the console serves exactly the bundle's
// certificate (pinned over TLS), and the sensor, asked over the SSH
// session already signed in, says it is this sensor, activated, at its new
// generation, serving that certificate. The console's health answer,
// open without sign-in, says only that it is up.
func (p *pusher) verify(ctx context.Context, c *ssh.Client, sshAddr string) error {
	host, _, err := net.SplitHostPort(sshAddr)
	if err != nil {
		return err
	}
	port := p.t.ConsolePort
	if port == 0 {
		port = 443
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	served, err := VerifyConsole(ctx, addr, p.b.CertFingerprint, p.o.VerifyTimeout, min(p.o.RetryEvery, 100*time.Millisecond))
	p.res.ServedFingerprint = served
	if err != nil {
		return err
	}
	var st Status
	if err := runJSON(ctx, c, p.o.Core, &st, "status", "--json"); err != nil {
		return err
	}
	if st.SensorName != p.t.Sensor {
		return &VerifyError{Reason: fmt.Sprintf("the sensor at %s says it is %q, want %q", sshAddr, st.SensorName, p.t.Sensor)}
	}
	if !strings.EqualFold(st.Certificate.FingerprintSHA256, p.b.CertFingerprint) {
		return &VerifyError{Reason: fmt.Sprintf("the sensor at %s reports certificate %s, the bundle holds %s", sshAddr, st.Certificate.FingerprintSHA256, p.b.CertFingerprint)}
	}
	p.res.Activated = len(st.Activation) > 0 && string(st.Activation) != "null"
	if !p.res.Activated {
		return &VerifyError{Reason: fmt.Sprintf("the sensor at %s reports itself not activated", sshAddr)}
	}
	if st.Generation != 0 {
		p.res.Generation = st.Generation
	}
	p.res.Devices, p.res.Uplink = st.Devices, st.Uplink
	p.res.Outcome = OutcomeDone
	msg := "certificate " + served + " served at " + addr
	if p.res.CertificateNote != "" {
		msg += " (" + p.res.CertificateNote + ")"
	}
	p.emit(StepVerify, 100, 0, msg)
	return nil
}

// remoteName is "<sensor>-<UTC yyyymmddThhmmssZ>.tapbundle" (the contract).
func remoteName(sensor string, now time.Time) string {
	return sensor + "-" + now.UTC().Format("20060102T150405Z") + ".tapbundle"
}

// HumanBytes writes a size as people read it: "812 bytes", "1.5 KiB",
// "74.1 GiB" (IEC binary units, one decimal).
func HumanBytes(n int64) string {
	if n < 1024 && n > -1024 {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	v := float64(n) / 1024
	units := "KMGTPE"
	i := 0
	for (v >= 1024 || v <= -1024) && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
