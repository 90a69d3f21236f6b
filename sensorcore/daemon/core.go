package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/version"

	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Codes of install-core refusals.
const (
	CodeCoreChecksum  = "TL-APP-009" // the uploaded binary's SHA-256 is not the one given
	CodeCoreDowngrade = "TL-APP-010" // an older version than the installed one, without --force
	CodeCoreBinary    = "TL-APP-011" // not a sensorcore binary for this machine
)

// InstallCoreOptions is one install-core request.
type InstallCoreOptions struct {
	Path    string // the uploaded binary, in the incoming directory
	SHA256  string // hex SHA-256 the laptop computed
	Version string // the version the laptop read from the binary
	Force   bool   // install even when Version is older than the installed one
	// Target is the binary to replace (default: this program, as it was
	// started). The previous one is kept beside it as Target+".prev".
	Target string
	// Installed is the version running now (sensorcore's own).
	Installed string
}

// InstallCoreResult is install-core's JSON result (docs/formats.md).
type InstallCoreResult struct {
	OK               bool   `json:"ok"`
	Installed        bool   `json:"installed"` // false when the version was already there
	Version          string `json:"version"`
	PreviousVersion  string `json:"previous_version"`
	Path             string `json:"path"`
	PreviousPath     string `json:"previous_path,omitempty"`
	SHA256           string `json:"sha256"`
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

// elfMachines maps GOARCH to the ELF machine a binary for it carries.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386,
	"arm": elf.EM_ARM, "riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}

// CheckELFMachine reports an error when path is not an ELF executable for
// this machine (GOARCH); it names the binary's machine.
func CheckELFMachine(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable: %v", filepath.Base(path), err)
	}
	defer f.Close()
	want, ok := elfMachines[runtime.GOARCH]
	if ok && f.Machine != want {
		return fmt.Errorf("%s is built for %s, this machine is %s (%s)", filepath.Base(path), f.Machine, want, runtime.GOARCH)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is not an executable (ELF type %s)", filepath.Base(path), f.Type)
	}
	return nil
}

// InstallCore installs an uploaded sensorcore binary beside the current one:
// checksum and version checked, written under a temporary name, fsynced,
// run once ("version" must print the version given), the current binary
// kept as .prev, then renamed over the current one (atomic), directory
// fsynced. The running daemon is asked to restart into it (SIGUSR2).
func (e *Engine) InstallCore(ctx context.Context, o InstallCoreOptions) (*InstallCoreResult, error) {
	res := &InstallCoreResult{Version: o.Version, PreviousVersion: o.Installed}
	refuse := func(code, msg string) (*InstallCoreResult, error) {
		res.Code, res.Error = code, msg
		return res, &Refusal{code, msg}
	}
	if o.Version == "" || strings.ContainsAny(o.Version, " /\\\n") {
		return refuse(CodeCoreBinary, fmt.Sprintf("--version %q: give the version the binary prints (sensorcore BINARY version)", o.Version))
	}
	want, err := hex.DecodeString(strings.ToLower(o.SHA256))
	if err != nil || len(want) != sha256.Size {
		return refuse(CodeCoreChecksum, fmt.Sprintf("--sha256 %q is not a hex SHA-256", o.SHA256))
	}
	p, err := e.resolve(o.Path)
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return refuse(r.Code, r.Msg)
		}
		return refuse(CodePath, err.Error())
	}
	target := o.Target
	if target == "" {
		target = Executable
	}
	if target == "" {
		return refuse(CodeInternal, "cannot tell where the running sensorcore is installed")
	}
	res.Path = target
	data, err := os.ReadFile(p)
	if err != nil {
		return refuse(CodeInternal, fmt.Sprintf("%s: %v", filepath.Base(p), err))
	}
	sum := sha256.Sum256(data)
	res.SHA256 = hex.EncodeToString(sum[:])
	if !bytes.Equal(sum[:], want) {
		os.Remove(p)
		return refuse(CodeCoreChecksum, fmt.Sprintf("%s has SHA-256 %s, not %s: the upload is damaged or not the binary meant; it was removed", filepath.Base(p), res.SHA256, strings.ToLower(o.SHA256)))
	}
	if err := CheckELFMachine(p); err != nil {
		return refuse(CodeCoreBinary, err.Error())
	}
	if v := binaryVersion(ctx, target); v != "" {
		o.Installed, res.PreviousVersion = v, v // what is on disk, when it runs
	}
	switch c := version.Compare(o.Version, o.Installed); {
	case c == 0 && !o.Force:
		if cur, err := os.ReadFile(target); err == nil && sha256.Sum256(cur) == sum {
			os.Remove(p)
			res.OK = true
			return res, nil
		}
	case c < 0 && !o.Force:
		return refuse(CodeCoreDowngrade, fmt.Sprintf("sensorcore %s is older than the installed %s: refused (install-core --force to downgrade on purpose)", o.Version, o.Installed))
	}
	dir := filepath.Dir(target)
	tmp := filepath.Join(dir, "."+filepath.Base(target)+".new")
	os.Remove(tmp)
	if err := writeExecutable(tmp, data); err != nil {
		return refuse(CodeInternal, fmt.Sprintf("writing %s: %v", tmp, err))
	}
	defer os.Remove(tmp)
	// The new binary must run here and say the version it was sent as.
	if v := binaryVersion(ctx, tmp); v != o.Version {
		return refuse(CodeCoreBinary, fmt.Sprintf("the uploaded binary does not run as sensorcore %s here (its version command printed %q)", o.Version, v))
	}
	prev := target + ".prev"
	if cur, err := os.ReadFile(target); err == nil {
		if err := safefile.WriteFile(prev, cur, 0o755); err != nil {
			return refuse(CodeInternal, fmt.Sprintf("keeping the previous binary: %v", err))
		}
		res.PreviousPath = prev
	} else if !errors.Is(err, os.ErrNotExist) {
		return refuse(CodeInternal, err.Error())
	}
	if err := os.Rename(tmp, target); err != nil {
		return refuse(CodeInternal, fmt.Sprintf("installing %s: %v", target, err))
	}
	safefile.SyncDir(dir)
	os.Remove(p)
	res.OK, res.Installed = true, true
	e.Log("installed sensorcore %s at %s (was %s; kept as %s)", o.Version, target, o.Installed, prev)
	if r, ok := e.Layout.DaemonAlive(); ok {
		// Also when install-core runs inside the daemon (embedded
		// listener): the daemon catches SIGUSR2 either way.
		res.DaemonRestarting = true
		signalRestart(r.PID)
	}
	return res, nil
}

// binaryVersion runs "PATH version" and returns the version it prints
// ("sensorcore V"), or "" when it does not run as sensorcore.
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

func writeExecutable(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
