package provision

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/release"
	"github.com/tapline/tapline/sensorcore/version"
)

// StepInstallCore installs the sensorcore Tapline carries before preflight
// (push --install-core), when the sensor's is older.
const StepInstallCore Step = "install-core"

// Core is the sensorcore release Tapline carries (--core-binary): the
// binary and its release signature, verified before anything is sent.
type Core struct {
	Path      string
	Signature string // the release signature file (docs/formats.md), default Path+".sig"
	Version   string // the signed statement's, e.g. 0.2.0
	SHA256    string // hex
	Platform  string // the signed statement's OS/architecture, e.g. linux/amd64
	KeyID     string // the release key that signed it
}

// CoreOptions say where the signature is and which roots to trust.
type CoreOptions struct {
	Signature string // default: the binary's path + ".sig"
	// Roots are the trusted roots for release keys; nil means the
	// production root Tapline ships. LAB/DEMO ONLY otherwise
	// (--release-root, e.g. the lab root `make build` signs under).
	Roots []ed25519.PublicKey
}

// LoadCore reads the binary at path and its release signature, verifies
// the signature under the trusted roots and the binary against the signed
// statement (SHA-256 and size, streamed). The version is the statement's:
// the binary is never run here, whatever machine it is built for. A
// first install runs the uploaded binary on the sensor, so this check is
// what vouches for it there.
func LoadCore(path string, o CoreOptions) (Core, error) {
	c := Core{Path: path, Signature: o.Signature}
	if c.Signature == "" {
		c.Signature = path + ".sig"
	}
	roots := o.Roots
	if roots == nil {
		var err error
		if roots, err = release.ProductionRoots(); err != nil {
			return c, err
		}
	}
	sd, err := release.ReadSignature(c.Signature)
	if errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("core binary %s has no release signature %s: sensorcore releases are signed; put the .sig file that came with it beside it (or name it with --core-signature)", path, c.Signature)
	}
	if err != nil {
		return c, fmt.Errorf("core binary %s: %w", path, err)
	}
	v, err := release.Verify(sd, roots)
	if err != nil {
		return c, fmt.Errorf("core binary %s: %v (a lab build, made by make build, is signed under bin/release-lab/release-root.pub: name it with --release-root)", path, err)
	}
	st := v.Statement
	if err := st.CheckFile(path); err != nil {
		return c, fmt.Errorf("core binary %s does not match its signature %s: %v", path, c.Signature, err)
	}
	c.Version, c.SHA256, c.Platform, c.KeyID = st.Version, st.SHA256, st.OS+"/"+st.Arch, v.Signer.KeyID
	return c, nil
}

// DefaultCoreBinary is "sensorcore" beside the running executable.
func DefaultCoreBinary() string {
	exe, err := os.Executable()
	if err != nil {
		return "sensorcore"
	}
	return filepath.Join(filepath.Dir(exe), "sensorcore")
}

// installCoreResult is install-core's JSON (docs/formats.md).
type installCoreResult struct {
	OK               bool   `json:"ok"`
	Installed        bool   `json:"installed"`
	Version          string `json:"version"`
	PreviousVersion  string `json:"previous_version"`
	Path             string `json:"path"`
	DaemonRestarting bool   `json:"daemon_restarting"`
	Error            string `json:"error"`
	Service          *struct {
		Unit    string `json:"unit"`
		Started bool   `json:"started"`
		Note    string `json:"note"`
	} `json:"service"`
}

// DefaultRemoteCore is where a first install puts sensorcore when the
// remote command is the bare name (Options.Core "sensorcore"): the path
// the systemd unit in docs/appliance.md runs.
const DefaultRemoteCore = "/usr/local/bin/sensorcore"

// firstInstall installs sensorcore on a sensor that has none (push
// --install-core when the remote command is not found). It needs an account
// that signs in as root with a shell and a plain SFTP server: the binary
// and its release signature (verified here by LoadCore: the sensor has no
// sensorcore yet to vouch for it) are uploaded into a private directory
// beside the target, where the binary installs itself ("install-core
// --service": signature and hash verified again, written under a temporary
// name and renamed into place), and
// the appliance's systemd unit is written and started. Where nothing starts
// the daemon (no systemd) the push stops and says how to start it.
func (p *pusher) firstInstall(ctx context.Context, c *sshconn.Client, missing string) error {
	core := p.o.InstallCore
	target := p.o.Core
	if target == "sensorcore" {
		target = DefaultRemoteCore
	}
	if !path.IsAbs(target) {
		return &PreflightError{Reason: fmt.Sprintf("%q is not installed on the sensor (%s); for a first install give the remote command as an absolute path (--core %s)", p.o.Core, missing, DefaultRemoteCore)}
	}
	uid, err := runShell(ctx, c, "id -u")
	if err != nil || uid != "0" {
		return &PreflightError{Reason: fmt.Sprintf("%q is not installed on the sensor (%s), and a first install needs an account that signs in as root with a shell (%s gave id -u %q, %v): sign in as root once, or install the appliance image", p.o.Core, missing, p.t.User, uid, err)}
	}
	sc, err := NewSFTP(c.Client)
	if err != nil {
		return err
	}
	defer sc.Close()
	var rnd [8]byte
	rand.Read(rnd[:])
	dir := path.Join(path.Dir(target), ".tapline-core-"+hex.EncodeToString(rnd[:]))
	if err := sc.Mkdir(dir); err != nil {
		return &PreflightError{Reason: fmt.Sprintf("first install: creating %s on the sensor: %v (does %s exist?)", dir, err, path.Dir(target))}
	}
	bin := path.Join(dir, "sensorcore")
	defer func() {
		sc.Remove(bin)
		sc.Remove(bin + ".sig")
		sc.RemoveDirectory(dir)
	}()
	if err := sc.Chmod(dir, 0o700); err != nil {
		return err
	}
	if _, err := Upload(ctx, sc, core.Signature, dir, "sensorcore.sig", nil); err != nil {
		return err
	}
	if _, err := Upload(ctx, sc, core.Path, dir, "sensorcore", func(done, total int64) {
		pct := 100.0
		if total > 0 {
			pct = float64(done) * 80 / float64(total)
		}
		p.emit(StepInstallCore, pct, done, "")
	}); err != nil {
		return err
	}
	if err := sc.Chmod(bin, 0o700); err != nil {
		return err
	}
	var ir installCoreResult
	err = runJSON(ctx, c.Client, bin, &ir, "install-core", "--json", "--service", "--target", target, bin)
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) && re.Exit > 0 {
			return &PreflightError{Reason: "first install: install-core: " + re.Message}
		}
		return err
	}
	p.o.Core, p.unconfined = target, true
	if ir.Service == nil || !ir.Service.Started {
		note := "no service was set up"
		if ir.Service != nil {
			note = ir.Service.Note
		}
		return &PreflightError{Reason: fmt.Sprintf("installed sensorcore %s at %s, but its daemon is not running: %s; then push again", ir.Version, target, note)}
	}
	p.emit(StepInstallCore, 100, 0, fmt.Sprintf("installed sensorcore %s at %s; sensorcore.service runs", ir.Version, target))
	return nil
}

// runShell runs a shell command and returns its trimmed standard output.
func runShell(ctx context.Context, c *sshconn.Client, cmd string) (string, error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	out, err := sess.Output(cmd)
	return strings.TrimSpace(string(out)), err
}

// installCore runs before preflight: when the sensor's sensorcore is older
// than the carried one, upload it, run install-core, and reconnect when the
// daemon restarts. It returns the client to go on with.
func (p *pusher) installCore(ctx context.Context, c *sshconn.Client) (*sshconn.Client, error) {
	core := p.o.InstallCore
	var st Status
	if err := runJSON(ctx, c.Client, p.o.Core, &st, "status", "--json"); err != nil {
		var re *RemoteError
		if errors.As(err, &re) && re.Exit == 127 {
			return c, p.firstInstall(ctx, c, re.Message)
		}
		return c, err
	}
	if st.Version != "" && version.Compare(st.Version, core.Version) >= 0 {
		p.emit(StepInstallCore, 100, 0, fmt.Sprintf("sensorcore %s on the sensor, %s carried: nothing to install", st.Version, core.Version))
		return c, nil
	}
	sc, err := NewSFTP(c.Client)
	if err != nil {
		return c, err
	}
	name := "sensorcore-" + core.Version + "-" + p.now().UTC().Format("20060102T150405Z") + ".core"
	// The signature first, then the binary; install-core finds NAME.sig.
	_, err = Upload(ctx, sc, core.Signature, p.o.IncomingDir, name+".sig", nil)
	if err == nil {
		_, err = Upload(ctx, sc, core.Path, p.o.IncomingDir, name, func(done, total int64) {
			pct := 100.0
			if total > 0 {
				pct = float64(done) * 90 / float64(total)
			}
			p.emit(StepInstallCore, pct, done, "")
		})
	}
	sc.Close()
	if err != nil {
		return c, err
	}
	var ir installCoreResult
	if err := runJSON(ctx, c.Client, p.o.Core, &ir, "install-core", "--json", "--sha256", core.SHA256, "--version", core.Version, name); err != nil {
		var re *RemoteError
		if errors.As(err, &re) && re.Exit > 0 {
			return c, &PreflightError{Reason: "install-core: " + re.Message}
		}
		return c, err
	}
	p.emit(StepInstallCore, 95, 0, fmt.Sprintf("installed sensorcore %s (was %s)", ir.Version, ir.PreviousVersion))
	if !ir.DaemonRestarting {
		return c, nil
	}
	// The daemon restarts into the new binary; with the embedded listener
	// this connection ends with it. Reconnect, trusting the proved key.
	c.Close()
	select {
	case <-ctx.Done():
		return c, ctx.Err()
	case <-time.After(time.Second):
	}
	// Until the restart, the old daemon may still answer: go on only with
	// the one that reports the installed version.
	deadline := p.now().Add(p.o.VerifyTimeout)
	for {
		nc, err := p.reconnect(ctx, p.t.Addr, deadline)
		if err != nil {
			return c, fmt.Errorf("provision: after install-core the sensor did not come back at %s: %w", p.t.Addr, err)
		}
		var st Status
		err = runJSON(ctx, nc.Client, p.o.Core, &st, "status", "--json")
		if err == nil && st.Version == core.Version {
			p.emit(StepInstallCore, 100, 0, "sensorcore "+st.Version+" answers")
			return nc, nil
		}
		nc.Close()
		if !p.now().Before(deadline) {
			return c, fmt.Errorf("provision: after install-core the sensor at %s still reports sensorcore %q, not %s (%v)", p.t.Addr, st.Version, core.Version, err)
		}
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(p.o.RetryEvery):
		}
	}
}
