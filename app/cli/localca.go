package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision"
	"golang.org/x/term"
)

// localCAFlags name the offline CA folder ('tapline ca init') that issues
// the certificates of cert_source local-ca rows when their bundles are
// built (batch run, push).
type localCAFlags struct {
	dir, passFile *string
}

func addLocalCAFlags(fs *FlagSet) localCAFlags {
	return localCAFlags{
		dir:      fs.String("ca", "", "the local CA folder ('tapline ca init --dir') that issues the certificates of cert_source local-ca rows"),
		passFile: fs.String("ca-passphrase-file", "", "file holding the local CA's passphrase (else TAPLINE_CA_PASSPHRASE, else asked on the terminal)"),
	}
}

// localCARow is the first row that needs the local CA, nil when none does.
func localCARow(inv *provision.Inventory) *provision.Row {
	if inv == nil {
		return nil
	}
	for i, r := range inv.Rows {
		if r.CertSource == provision.CertLocalCA && r.Bundle == "" {
			return &inv.Rows[i]
		}
	}
	return nil
}

// open loads the local CA once for the session when a row needs it (nil
// when none does). A missing --ca (when required), an unreadable folder or
// a wrong passphrase is one line on stderr naming the flag, before any
// sensor is contacted (ok false).
func (f localCAFlags) open(env *Env, inv *provision.Inventory, required bool) (*ca.Local, bool) {
	row := localCARow(inv)
	if row == nil || *f.dir == "" && !required {
		return nil, true
	}
	if *f.dir == "" {
		env.Errorf("line %d (%s) has cert_source local-ca: give the local CA folder with --ca DIR (the folder 'tapline ca init' made); nothing was sent", row.Line, row.Sensor)
		return nil, false
	}
	// A folder with no CA is said as such, before a passphrase is asked.
	if _, err := os.Stat(filepath.Join(*f.dir, ca.RootCertFile)); err != nil {
		why := "no " + ca.RootCertFile
		if !errors.Is(err, os.ErrNotExist) {
			why = err.Error()
		}
		env.Errorf("--ca %s: no local CA there (%s): give the folder 'tapline ca init --dir' made; nothing was sent", *f.dir, why)
		return nil, false
	}
	pass, err := f.passphrase(env)
	if err != nil {
		env.Errorf("--ca %s: %v; nothing was sent", *f.dir, err)
		return nil, false
	}
	defer clear(pass)
	l, err := ca.OpenLocal(*f.dir, pass)
	if err != nil {
		fix := ""
		if errors.Is(err, certs.ErrIncorrectPassphrase) {
			fix = " (check --ca-passphrase-file or TAPLINE_CA_PASSPHRASE)"
		}
		env.Errorf("--ca %s: %s%s; nothing was sent", *f.dir, certsErrText(err), fix)
		return nil, false
	}
	return l, true
}

// passphrase is the local CA's passphrase: --ca-passphrase-file, else
// TAPLINE_CA_PASSPHRASE, else asked on the terminal with echo off.
func (f localCAFlags) passphrase(env *Env) ([]byte, error) {
	if *f.passFile != "" {
		p, err := certsReadPassphrase(*f.passFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-passphrase-file: %s", certsErrText(err))
		}
		if len(p) == 0 {
			return nil, fmt.Errorf("--ca-passphrase-file %s is empty", *f.passFile)
		}
		return p, nil
	}
	if p := env.Getenv("TAPLINE_CA_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	tty, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(tty.Fd())) {
		return nil, errors.New("the CA keys are encrypted: give --ca-passphrase-file, set TAPLINE_CA_PASSPHRASE, or run from a terminal to be asked")
	}
	return promptPassphrase(tty, env.Stderr, "Passphrase for the local CA "+*f.dir+": ")
}
