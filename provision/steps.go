package provision

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision/sshconn"
)

// Step names one stage of a push, in order (stepList).
type Step string

// The push steps, in the order a push runs them.
const (
	StepConnect   Step = "connect"
	StepTrust     Step = "trust"
	StepPreflight Step = "preflight"
	StepUpload    Step = "upload"
	StepApply     Step = "apply"
	StepConfirm   Step = "confirm"
	StepVerify    Step = "verify"
	StepValidate  Step = "validate"
)

// StepInfo is one push step as the faces show it.
type StepInfo struct {
	Step  Step   `json:"step"`
	Label string `json:"label"` // the words the app shows, "Upload the bundle"
}

// stepDef is one entry of stepList: what the step is called, whether a
// push with these options has it at all, whether this push skips it, the
// first line it reports, and the work.
type stepDef struct {
	StepInfo
	has   func(o *Options) bool // nil: every push has it
	skip  func(p *pusher) bool  // nil: never skipped
	intro func(p *pusher) string
	run   func(p *pusher, ctx context.Context) error
}

// stepList is the one ordered list of push steps. Push runs it; the CLI,
// the wizard and Fleet take their step names and labels from it (Steps).
var stepList = []stepDef{
	{StepInfo: StepInfo{StepConnect, "Connect"},
		intro: func(p *pusher) string { return "connecting to " + p.t.Addr },
		run:   (*pusher).connect},
	{StepInfo: StepInfo{StepTrust, "Trust the host key"},
		intro: func(p *pusher) string { return "host key " + ssh.FingerprintSHA256(p.c.HostKey) },
		run:   (*pusher).trust},
	{StepInfo: StepInfo{StepInstallCore, "Install sensorcore"},
		has: func(o *Options) bool { return o.InstallCore != nil },
		run: (*pusher).installCoreStep},
	{StepInfo: StepInfo{StepPreflight, "Preflight"},
		run: (*pusher).preflight},
	{StepInfo: StepInfo{StepUpload, "Upload the bundle"},
		skip: func(p *pusher) bool { return p.applied },
		run:  (*pusher).upload},
	{StepInfo: StepInfo{StepApply, "Apply"},
		skip: func(p *pusher) bool { return p.applied },
		run:  (*pusher).apply},
	{StepInfo: StepInfo{StepConfirm, "Reconnect and confirm"},
		skip: func(p *pusher) bool {
			if p.applied {
				return !p.st.PendingConfirmation
			}
			return !p.ar.ConfirmationPending && p.newAddr() == ""
		},
		run: (*pusher).confirmStep},
	{StepInfo: StepInfo{StepVerify, "Verify the certificate on the console"},
		run: (*pusher).verifyStep},
	{StepInfo: StepInfo{StepPlugins, "Install protocol plugins"},
		has:  func(o *Options) bool { return o.Plugins },
		skip: func(p *pusher) bool { return len(p.b.Plugins) == 0 },
		run:  (*pusher).pluginsStep},
	{StepInfo: StepInfo{StepValidate, "Validate: gateway, DNS, NTP, monitoring ports"},
		has: func(o *Options) bool { return o.Validate },
		run: (*pusher).validateStep},
}

// Steps is an ordered list of push steps.
type Steps []StepInfo

// Steps lists the steps a push with these options runs, in order (a push
// may skip some: upload and apply when the sensor already runs the bundle,
// confirm when nothing waits for it).
func (o Options) Steps() Steps {
	var out Steps
	for _, d := range stepList {
		if d.has == nil || d.has(&o) {
			out = append(out, d.StepInfo)
		}
	}
	return out
}

// Index is st's position in s, -1 when s does not hold it.
func (s Steps) Index(st Step) int {
	for i, x := range s {
		if x.Step == st {
			return i
		}
	}
	return -1
}

// Progress is how far the whole push is at event e, 0 to 1: the steps
// before e's, plus e's own percentage of one step. It is -1 for an event
// of a step s does not hold.
func (s Steps) Progress(e Event) float64 {
	i := s.Index(e.Step)
	if i < 0 || len(s) == 0 {
		return -1
	}
	return (float64(i) + min(max(e.Percent, 0), 100)/100) / float64(len(s))
}

// run runs stepList in order; the first error ends the push.
func (p *pusher) run(ctx context.Context) error {
	if p.b.Sensor != p.t.Sensor {
		return &PreflightError{Reason: fmt.Sprintf("bundle is for %q, target is %q", p.b.Sensor, p.t.Sensor), Code: CodeIdentityMismatch}
	}
	defer func() {
		if p.c != nil {
			p.c.Close()
		}
	}()
	for _, d := range stepList {
		if (d.has != nil && !d.has(&p.o)) || (d.skip != nil && d.skip(p)) {
			continue
		}
		msg := ""
		if d.intro != nil {
			msg = d.intro(p)
		}
		p.begin(d.Step, msg)
		if err := d.run(p, ctx); err != nil {
			return err
		}
	}
	return nil
}

// connect dials the sensor: with the key an earlier attempt proved (also
// at the new address, for a retry after a move), else with the session's
// known_hosts trust. A refused host key ends the push at the trust step.
func (p *pusher) connect(ctx context.Context) error {
	var c *sshconn.Client
	var err error
	if p.t.PinnedKey != nil {
		c, err = sshconn.Dial(ctx, p.endpoint(p.t.Addr), sshconn.Pinned{Key: p.t.PinnedKey}, p.sshOpts())
		if err != nil && sshconn.IsTransient(err) && p.newAddr() != "" {
			c, err = sshconn.Dial(ctx, p.endpoint(p.newAddr()), sshconn.Pinned{Key: p.t.PinnedKey}, p.sshOpts())
		}
	} else {
		trust := p.o.Trust
		if p.t.Trust != nil {
			trust = p.t.Trust
		}
		if trust == nil {
			return errors.New("provision: no host trust configured")
		}
		c, err = sshconn.Dial(ctx, p.endpoint(p.t.Addr), trust, p.sshOpts())
	}
	if err != nil {
		var ue *sshconn.UnknownHostError
		var ce *sshconn.HostKeyChangedError
		var pk *sshconn.PinnedKeyMismatchError
		if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &pk) {
			p.begin(StepTrust, "")
		}
		return err
	}
	p.c, p.final = c, c.Addr
	p.movedAlready = c.Addr != p.t.Addr
	return nil
}

// trust records the host key the sensor proved; a retry pins it.
func (p *pusher) trust(context.Context) error {
	p.res.PinnedKey = p.c.HostKey
	p.res.HostKey = ssh.FingerprintSHA256(p.c.HostKey)
	p.res.FinalAddr = p.c.Addr
	return nil
}

func (p *pusher) installCoreStep(ctx context.Context) error {
	c, err := p.installCore(ctx, p.c)
	p.c = c
	return err
}

// preflight reads the sensor's status: identity, version, free space, and
// its live network for the before/after diff. A sensor that already runs
// this bundle (an earlier attempt applied it) is only confirmed and
// verified.
func (p *pusher) preflight(ctx context.Context) error {
	if err := runJSON(ctx, p.c.Client, p.o.Core, &p.st, "status", "--json"); err != nil {
		return err
	}
	st := p.st
	if err := p.checkStatus(st, int64(len(p.b.Archive))); err != nil {
		return err
	}
	if err := p.liveDiff(st, p.c.Addr); err != nil {
		return err
	}
	p.preGen = st.Generation
	if p.b.CertFingerprint != "" && st.Certificate.FingerprintSHA256 == p.b.CertFingerprint && st.SensorName == p.t.Sensor && (p.newAddr() == "" || p.movedAlready) &&
		st.RunsUplink() == p.b.Uplink {
		p.emit(StepPreflight, 100, 0, "bundle already applied (generation "+strconv.Itoa(st.Generation)+"): only confirming and verifying")
		p.res.Generation = st.Generation
		p.res.Reverified = true
		p.applied = true
		return nil
	}
	if p.movedAlready {
		return &PreflightError{Reason: "the sensor answers at its new address but does not serve this bundle", Code: CodeIdentityMismatch}
	}
	return nil
}

// upload streams the bundle from memory to the sensor's incoming folder.
func (p *pusher) upload(ctx context.Context) error {
	sc, err := NewSFTP(p.c.Client)
	if err != nil {
		return err
	}
	p.remote = remoteName(p.t.Sensor, p.now())
	incoming := p.o.IncomingDir
	if p.unconfined && incoming == "/" && p.st.IncomingDir != "" {
		incoming = p.st.IncomingDir
	}
	up, err := UploadBytes(ctx, sc, p.b.Archive, incoming, p.remote, func(done, total int64) {
		pct := 100.0
		if total > 0 {
			pct = float64(done) * 100 / float64(total)
		}
		p.emit(StepUpload, pct, done, "")
	})
	sc.Close()
	if err != nil {
		return err
	}
	p.res.Uploaded = &up
	return nil
}

// confirmWindow is the rollback deadline asked of apply.
func (p *pusher) confirmWindow() time.Duration {
	if p.o.ConfirmTimeout > 0 {
		return p.o.ConfirmTimeout
	}
	return 120 * time.Second
}

// apply runs `sensorcore apply` on the upload. When the address changes
// the sensor may drop the connection before its answer gets out; then the
// new address tells what happened (confirm).
func (p *pusher) apply(ctx context.Context) error {
	args := []string{"apply", "--json"}
	if p.o.ConfirmTimeout > 0 {
		args = append(args, "--confirm-timeout", p.o.ConfirmTimeout.String())
	}
	args = append(args, p.remote)
	applyCtx, stopApply := ctx, func() bool { return true }
	if p.newAddr() != "" {
		var cancel context.CancelFunc
		applyCtx, cancel = context.WithTimeout(ctx, max(p.confirmWindow()/4, 2*time.Second))
		defer cancel()
		// Closing only the session would wait for a peer that is gone.
		old := p.c
		stopApply = context.AfterFunc(applyCtx, func() { old.Close() })
	}
	p.applyStart = p.now()
	var ar ApplyResult
	err := runJSON(applyCtx, p.c.Client, p.o.Core, &ar, args...)
	stopApply()
	p.res.Findings, p.res.ApplianceCode = ar.Findings, ar.Code
	var re *RemoteError
	p.lost = err != nil && errors.As(err, &re) && re.Exit < 0 && p.newAddr() != "" && ctx.Err() == nil
	switch {
	case p.lost:
		p.emit(StepApply, 100, 0, "the connection dropped during apply (the address changes): looking for the sensor at "+p.newAddr())
		ar = ApplyResult{Generation: -1}
	case err != nil:
		return err
	case !ar.OK:
		p.res.ApplianceCode = ar.Code
		return &RemoteError{Command: "apply", Exit: 1, Message: ar.Error}
	case p.b.KeepCertificate && ar.CertFingerprint == "":
		return &VerifyError{Reason: "apply kept the sensor's certificate but did not report its fingerprint: update sensorcore"}
	case p.b.KeepCertificate:
		// Pin what the sensor serves now: apply read it from its console.
		p.b.CertFingerprint = ar.CertFingerprint
		p.res.Generation, p.res.PreviousGeneration = ar.Generation, ar.PreviousGeneration
		p.res.CertificateNote = "self-signed kept"
		p.emit(StepApply, 100, 0, fmt.Sprintf("generation %d (was %d); certificate %s kept", ar.Generation, ar.PreviousGeneration, ar.CertFingerprint))
	case ar.CertFingerprint != "" && ar.CertFingerprint != p.b.CertFingerprint:
		return &VerifyError{Reason: fmt.Sprintf("apply reports certificate %s, the bundle holds %s", ar.CertFingerprint, p.b.CertFingerprint)}
	default:
		p.res.Generation, p.res.PreviousGeneration = ar.Generation, ar.PreviousGeneration
		msg := fmt.Sprintf("generation %d (was %d)", ar.Generation, ar.PreviousGeneration)
		if ar.ConsoleNote != "" {
			msg += "; " + ar.ConsoleNote
		}
		p.emit(StepApply, 100, 0, msg)
	}
	p.ar = ar
	return nil
}

// confirmStep reconnects at the new address (trusting exactly the proved
// key) and confirms; a sensor unreachable there until its deadline is
// awaited back at its old address, rolled back.
func (p *pusher) confirmStep(ctx context.Context) error {
	if p.applied {
		return p.confirm(ctx, p.c.Client)
	}
	deadline := p.applyStart.Add(p.confirmWindow())
	if p.ar.RollbackDeadline != nil {
		deadline = *p.ar.RollbackDeadline
	}
	if na := p.newAddr(); na != "" {
		p.c.Close()
		nc, err := p.reconnect(ctx, na, deadline)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return p.awaitRollback(ctx, deadline, p.ar, err)
		}
		p.c, p.final = nc, na
	}
	pending := p.ar.ConfirmationPending
	if p.lost {
		var st Status
		if err := runJSON(ctx, p.c.Client, p.o.Core, &st, "status", "--json"); err != nil {
			return err
		}
		if p.b.KeepCertificate && st.Generation > p.preGen {
			p.b.CertFingerprint = st.Certificate.FingerprintSHA256
			p.res.CertificateNote = "self-signed kept"
		}
		if st.Certificate.FingerprintSHA256 != p.b.CertFingerprint || st.Generation <= p.preGen {
			return &VerifyError{Reason: fmt.Sprintf("the sensor at %s serves certificate %s, not the bundle's", p.final, st.Certificate.FingerprintSHA256)}
		}
		p.res.Generation, pending = st.Generation, st.PendingConfirmation
		p.emit(StepConfirm, 55, 0, fmt.Sprintf("the sensor runs generation %d at %s", st.Generation, p.final))
	}
	if pending {
		return p.confirm(ctx, p.c.Client)
	}
	return nil
}

// verifyStep checks over TLS that the console at the final address serves
// the bundle's certificate, and over the SSH session that the sensor is
// this one, activated.
func (p *pusher) verifyStep(ctx context.Context) error {
	p.res.FinalAddr = p.final
	return p.verify(ctx, p.c.Client, p.final)
}

// validateStep asks the sensor to validate itself over the same session
// (Validate). Whatever it finds, the push stays done: the result is
// reported beside it.
func (p *pusher) validateStep(ctx context.Context) error {
	v, err := Validate(ctx, p.c.Client, p.o.Core)
	p.res.Validation = v
	if err != nil {
		p.res.ValidationError = err.Error()
		p.emit(StepValidate, 100, 0, "not validated: "+err.Error())
		return nil
	}
	p.emit(StepValidate, 100, 0, v.Summary())
	return nil
}

// Validate runs `sensorcore validate --json` on a signed-in connection and
// returns what the sensor found (also when a check failed: the command then
// exits 1 with its report). err is set only when the sensor could not be
// asked: an older sensorcore without validate, a lost connection.
func Validate(ctx context.Context, c *ssh.Client, core string) (*Validation, error) {
	if core == "" {
		core = "sensorcore"
	}
	var v Validation
	err := runJSON(ctx, c, core, &v, "validate", "--json")
	var re *RemoteError
	switch {
	case err == nil:
		return &v, nil
	case errors.As(err, &re) && re.Exit == 1 && v.Verdict != "":
		return &v, nil
	case errors.As(err, &re) && re.Exit > 0:
		return nil, fmt.Errorf("the sensor cannot validate itself (%s): update its sensorcore", re.Message)
	}
	return nil, err
}
