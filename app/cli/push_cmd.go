package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/tapline/tapline/provision"
)

// keyPassphrase returns the SSH key passphrase source for push and batch
// run: TAPLINE_KEY_PASSPHRASE when set; otherwise, when stdin is a
// terminal, a prompt on stderr read without echo (once per key file for
// the whole run). The passphrase is never printed or logged.
func keyPassphrase(env *Env) func(keyFile string) ([]byte, error) {
	var mu sync.Mutex
	asked := map[string][]byte{}
	return func(keyFile string) ([]byte, error) {
		if p := env.Getenv("TAPLINE_KEY_PASSPHRASE"); p != "" {
			return []byte(p), nil
		}
		f, ok := env.Stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, errors.New("the key " + filepath.Base(keyFile) + " is encrypted: set TAPLINE_KEY_PASSPHRASE or run from a terminal to be asked")
		}
		mu.Lock() // one prompt at a time, and once per key
		defer mu.Unlock()
		if p, ok := asked[keyFile]; ok {
			return append([]byte(nil), p...), nil // callers may wipe theirs
		}
		p, err := promptPassphrase(f, env.Stderr, "Passphrase for SSH key "+keyFile+": ")
		if err != nil {
			return nil, err
		}
		asked[keyFile] = append([]byte(nil), p...)
		return p, nil
	}
}

// promptPassphrase writes prompt to w and reads one line from the terminal
// tty with echo off.
func promptPassphrase(tty *os.File, w io.Writer, prompt string) ([]byte, error) {
	fmt.Fprint(w, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(w)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %v", err)
	}
	if len(p) == 0 {
		return nil, errors.New("no passphrase given")
	}
	return p, nil
}

// pushColumns are the inventory columns push takes as flags, with the
// same meaning (docs/inventory.md): --new-ip is the column new_ip.
var pushColumns = []string{
	"sensor", "address", "ssh_port", "ssh_user", "auth", "key_file", "jump",
	"interface", "new_ip", "new_mask", "new_gateway", "new_dns", "new_hostname", "new_address", "proxy",
	"activation", "cert_source", "cert", "key", "chain", "pfx", "bundle", "console_port",
	"crl_validation", "crl", "cert_name",
}

// runPush is "tapline push": one sensor, with the flags of a one-row batch.
func runPush(env *Env, args []string) int {
	fs := newFlags(env, "push")
	vals := map[string]*string{}
	for _, c := range pushColumns {
		vals[c] = fs.String(strings.ReplaceAll(c, "_", "-"), "", "inventory column "+c+" (docs/inventory.md)")
	}
	rf := addRunFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) != 0 {
		env.Errorf("push: unexpected argument %q; every setting is a flag (tapline push --help)", pos[0])
		return ExitUsage
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	var header, rec []string
	for _, c := range pushColumns {
		if *vals[c] != "" {
			header = append(header, c)
			rec = append(rec, *vals[c])
		}
	}
	for _, c := range []string{"sensor", "address", "ssh_user", "auth"} {
		if *vals[c] == "" {
			env.Errorf("push: --%s is required", strings.ReplaceAll(c, "_", "-"))
			return ExitUsage
		}
	}
	w.Write(header)
	w.Write(rec)
	w.Flush()
	cwd, err := os.Getwd()
	if err != nil {
		env.Errorf("push: %v", err)
		return ExitUsage
	}
	inv, perr := provision.ParseInventory(&buf, cwd, "push flags")
	if inv != nil {
		inv.Path = "push-" + *vals["sensor"]
	}
	base := filepath.Join(cwd, "tapline-push-"+*vals["sensor"])
	return rf.execute(env, inv, perr, base)
}
