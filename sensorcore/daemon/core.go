package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/release"
)

// Codes of install-core refusals.
const (
	CodeCoreChecksum  = "TL-APP-009" // the upload is not the binary its signed statement describes
	CodeCoreDowngrade = "TL-APP-010" // an older release than the installed one, not signed as a downgrade
	CodeCoreBinary    = "TL-APP-011" // a release for another machine, or another version than asked for
	CodeCoreSignature = "TL-APP-012" // no release signature, or not one under a trusted root
)

// MaxCoreSize is the largest sensorcore binary install-core accepts (and
// the appliance's SFTP server lets a client make): release.MaxBinarySize.
const MaxCoreSize = release.MaxBinarySize

// InstallCoreOptions is one install-core request.
type InstallCoreOptions struct {
	Path string // the uploaded binary, in the incoming directory
	// Signature is the binary's release signature (docs/formats.md);
	// default Path+".sig".
	Signature string
	// SHA256 and Version, when given (older laptops send them), must be
	// what the signed statement says; they add nothing to it.
	SHA256  string
	Version string
	// Target is the binary to replace (default: this program, as it was
	// started). The previous one is kept beside it as Target+".prev".
	Target string
	// Installed is the version running now (sensorcore's own).
	Installed string
}

// InstallCoreResult is install-core's JSON result (docs/formats.md).
type InstallCoreResult struct {
	OK               bool   `json:"ok"`
	Installed        bool   `json:"installed"` // false when the release was already there
	Version          string `json:"version"`
	PreviousVersion  string `json:"previous_version"`
	Path             string `json:"path"`
	PreviousPath     string `json:"previous_path,omitempty"`
	SHA256           string `json:"sha256"`
	SignerKeyID      string `json:"signer_key_id,omitempty"` // the release key that signed it
	DaemonRestarting bool   `json:"daemon_restarting"`
	// Service is set by install-core --service (a first install): the unit
	// written and whether the daemon runs now.
	Service *ServiceResult `json:"service,omitempty"`
	Code    string         `json:"code,omitempty"`
	Error   string         `json:"error,omitempty"`
}

// Executable is the path this program was started from, resolved once at
// start (after a rename over it, /proc/self/exe names a deleted file).
var Executable = func() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}()

// InstallCore installs an uploaded sensorcore release beside the current
// one. Before anything is run, written or renamed, the release signature
// is verified under the trusted roots and the upload is hashed (streamed,
// at most the signed size) against the signed statement; the version is
// the statement's, the upload is never executed. An older release than the
// installed one is refused unless its statement allows the downgrade. Then
// the current binary is kept as .prev and the release is copied (hashed
// again as it is copied: the upload may have changed since) to a temporary
// file beside the target, fsynced and renamed over it. The upload and its
// signature are removed whatever the outcome, except when the path itself
// was refused. The running daemon is asked to restart into it (SIGUSR2).
func (e *Engine) InstallCore(ctx context.Context, o InstallCoreOptions) (*InstallCoreResult, error) {
	res := &InstallCoreResult{PreviousVersion: o.Installed}
	p, err := e.resolve(o.Path)
	if err != nil {
		return res.refuse(err, CodePath, "")
	}
	sig := o.Signature
	if sig == "" {
		sig = p + ".sig"
	}
	if sig, err = e.resolve(sig); err != nil {
		return res.refuse(err, CodePath, "")
	}
	// Whatever happens from here, the upload goes (when it is one: a file
	// in the incoming directory).
	defer e.removeUpload(p, sig)
	refuse := func(code, format string, args ...any) (*InstallCoreResult, error) {
		return res.refuse(nil, code, fmt.Sprintf(format, args...))
	}
	sd, err := release.ReadSignature(sig)
	if errors.Is(err, os.ErrNotExist) {
		return refuse(CodeCoreSignature, "%s has no release signature (%s): sensorcore releases are signed; upload the .sig file that came with the binary; the upload was removed", filepath.Base(p), filepath.Base(sig))
	}
	if err != nil {
		return refuse(CodeCoreSignature, "%s: %v; the upload was removed", filepath.Base(sig), err)
	}
	v, err := release.Verify(sd, e.ReleaseRoots)
	if err != nil {
		return refuse(CodeCoreSignature, "%s is not a trusted sensorcore release: %v; the upload was removed", filepath.Base(p), err)
	}
	st := v.Statement
	res.Version, res.SHA256, res.SignerKeyID = st.Version, st.SHA256, v.Signer.KeyID
	switch {
	case o.SHA256 != "" && strings.ToLower(o.SHA256) != st.SHA256:
		return refuse(CodeCoreChecksum, "--sha256 %s is not the signed release's %s; the upload was removed", o.SHA256, st.SHA256)
	case o.Version != "" && o.Version != st.Version:
		return refuse(CodeCoreBinary, "--version %s: the signed release is sensorcore %s; the upload was removed", o.Version, st.Version)
	}
	if err := st.For(runtime.GOOS, runtime.GOARCH); err != nil {
		return refuse(CodeCoreBinary, "%v; the upload was removed", err)
	}
	if err := st.CheckFile(p); err != nil {
		var m *release.Mismatch
		if errors.As(err, &m) {
			return refuse(CodeCoreChecksum, "%s is not the signed release: %v (damaged upload, or another binary); it was removed", filepath.Base(p), err)
		}
		return refuse(CodeInternal, "%s: %v", filepath.Base(p), err)
	}
	target := o.Target
	if target == "" {
		target = Executable
	}
	if target == "" {
		return refuse(CodeInternal, "cannot tell where the running sensorcore is installed")
	}
	res.Path = target
	if o.Target != "" {
		// Another binary than this one: ask it (it is the installed one,
		// root's, not the upload).
		if iv := binaryVersion(ctx, target); iv != "" {
			o.Installed, res.PreviousVersion = iv, iv
		}
	}
	if cur, err := fileSHA256(target); err == nil && cur == st.SHA256 {
		res.OK = true // this very release is installed already
		return res, nil
	}
	if !st.Replaces(o.Installed) {
		return refuse(CodeCoreDowngrade, "sensorcore %s is older than the installed %s and its signed statement does not allow a downgrade: refused; the upload was removed", st.Version, o.Installed)
	}
	prev := target + ".prev"
	if err := copyFileAtomic(target, prev); err == nil {
		res.PreviousPath = prev
	} else if !errors.Is(err, os.ErrNotExist) {
		return refuse(CodeInternal, "keeping the previous binary: %v", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return refuse(CodeInternal, "%s: %v", filepath.Base(p), err)
	}
	err = safefile.Write(target, 0o755, func(w io.Writer) error { return st.Check(f, w) })
	f.Close()
	if err != nil {
		var m *release.Mismatch
		if errors.As(err, &m) {
			return refuse(CodeCoreChecksum, "%s changed while it was installed: %v; nothing was installed and the upload was removed", filepath.Base(p), err)
		}
		return refuse(CodeInternal, "installing %s: %v", target, err)
	}
	res.OK, res.Installed = true, true
	e.Log("installed sensorcore %s at %s (was %s; kept as %s; release key %s)", st.Version, target, o.Installed, prev, v.Signer.KeyID)
	if r, ok := e.Layout.DaemonAlive(); ok {
		// Also when install-core runs inside the daemon (embedded
		// listener): the daemon catches SIGUSR2 either way.
		res.DaemonRestarting = true
		signalRestart(r.PID)
	}
	return res, nil
}

// refuse records a refusal: err's own code when it is a *Refusal, else
// code and msg.
func (res *InstallCoreResult) refuse(err error, code, msg string) (*InstallCoreResult, error) {
	var r *Refusal
	if errors.As(err, &r) {
		code, msg = r.Code, r.Msg
	} else if err != nil {
		msg = err.Error()
	}
	res.OK, res.Code, res.Error = false, code, msg
	return res, &Refusal{code, msg}
}

// removeUpload removes uploads (files, or a bundle directory) that lie
// in the incoming directory; a path given on the command line elsewhere is
// the administrator's, and stays.
func (e *Engine) removeUpload(paths ...string) {
	in := e.Layout.Incoming()
	for _, p := range paths {
		if rel, err := filepath.Rel(in, p); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			os.RemoveAll(p)
		}
	}
	safefile.SyncDir(in)
}

// StaleUpload is how old an entry of the incoming directory may grow: a
// push uploads and applies within seconds, so an older one is what a cut
// connection or a crashed apply left (perhaps with a private key in it).
const StaleUpload = time.Hour

// sweepIncoming removes what in the incoming directory is older than
// StaleUpload: last changed (or put there: the inode's change time, which
// a copy that keeps an old modification time cannot fake) that long ago.
func (e *Engine) sweepIncoming() {
	in := e.Layout.Incoming()
	es, err := os.ReadDir(in)
	if err != nil {
		return
	}
	cutoff := e.Now().Add(-StaleUpload)
	removed := false
	for _, en := range es {
		if fi, err := en.Info(); err == nil && lastChange(fi).Before(cutoff) {
			if os.RemoveAll(filepath.Join(in, en.Name())) == nil {
				e.Log("incoming: removed %s, an upload not applied within %s", en.Name(), StaleUpload)
				removed = true
			}
		}
	}
	if removed {
		safefile.SyncDir(in)
	}
}

// fileSHA256 hashes a file by streaming it.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, MaxCoreSize+1)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyFileAtomic copies from to to (mode 0755), atomically, streaming.
func copyFileAtomic(from, to string) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	return safefile.Write(to, 0o755, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
}

// binaryVersion runs "PATH version" on an installed binary and returns the
// version it prints ("sensorcore V"), or "" when it does not run as
// sensorcore. It is never called on an upload.
func binaryVersion(ctx context.Context, path string) string {
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(vctx, path, "version").Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 || f[0] != "sensorcore" {
		return ""
	}
	return f[1]
}
