package cli

import (
	"bytes"

	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/tapline/tapline/internal/sheetcsv"
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
var pushColumns = []struct{ name, help string }{
	{"sensor", "the sensor's name; the activation file must be issued for it"},
	{"address", "its current IP or host name (or IP:port)"},
	{"ssh_port", "SSH port (default 22, or the port in --address)"},
	{"ssh_user", "SSH user, e.g. admin"},
	{"auth", "key (--key-file, or ssh's default key), agent (ssh-agent) or password (TAPLINE_SSH_PASSWORD)"},
	{"key_file", "SSH private key for --auth key (OpenSSH or PuTTY .ppk; default: ~/.ssh/config's IdentityFile, else each of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists, offered in order as ssh does); an encrypted one reads TAPLINE_KEY_PASSPHRASE or asks"},
	{"jump", "jump host [user@]host[:port] (OpenSSH ProxyJump)"},
	{"interface", "management interface (default eth0)"},
	{"new_ip", "address after the push (empty: keep --address)"},
	{"new_mask", "255.255.255.0 or a prefix length such as 24"},
	{"new_gateway", "default gateway, inside the new subnet"},
	{"new_dns", "DNS servers separated by ;"},
	{"new_hostname", "the sensor's FQDN; the certificate's CN and SAN must match it"},
	{"new_address", "where the sensor is reached after the push when not --new-ip (NAT, port forward)"},
	{"proxy", "http://[user@]host[:port] (its password: TAPLINE_PROXY_PASSWORD)"},
	{"activation", "the sensor's .tapact activation file"},
	{"cert_source", "files (default), pkcs12, local-ca or self-signed (test setups)"},
	{"cert", "certificate (PEM or DER) for --cert-source files"},
	{"key", "its private key (PEM); an encrypted one reads TAPLINE_CERT_PASSPHRASE"},
	{"chain", "the CA chain up to the root"},
	{"pfx", "PKCS#12 file for --cert-source pkcs12"},
	{"bundle", "a bundle built earlier (directory or .tapbundle) instead of the files"},
	{"console_port", "HTTPS console port (default 443)"},
	{"crl_validation", "true: enable certificate validation against the CRL"},
	{"crl", "a CRL file carried in the bundle (PEM or DER; repeat --crl, or separate by ;, for every CA level: the issuing CA's and the root's)"},
	{"cert_name", "the certificate's name, shown by the sensor's status"},
	{"plugin_key", "the plant's plugin signing public key (tapline plugin keygen's plugin-signing.pub), carried in the bundle"},
	{"plugins", "signed protocol plugins to install, separated by ; (also --plugin FILE)"},
}

// runPush is "tapline push": one sensor, with the flags of a one-row batch.
func runPush(env *Env, args []string) int {
	fs := newFlags(env, "push")
	vals := map[string]*string{}
	var crls multiFlag
	for _, c := range pushColumns {
		if c.name == "crl" {
			vals[c.name] = new(string)
			fs.Var(&crls, "crl", c.help)
			continue
		}
		vals[c.name] = fs.String(strings.ReplaceAll(c.name, "_", "-"), "", c.help)
	}
	var plugins multiFlag
	fs.Var(&plugins, "plugin", "a signed protocol plugin to install after the push (FILE.sig beside it; repeatable)")
	rf := addRunFlags(fs)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 0 {
		env.Errorf("push: unexpected argument %q; every setting is a flag (tapline push --help)", pos[0])
		return ExitUsage
	}
	*vals["crl"] = strings.Join(crls, ";")
	if len(plugins) > 0 {
		all := append([]string{}, plugins...)
		if *vals["plugins"] != "" {
			all = append(all, *vals["plugins"])
		}
		*vals["plugins"] = strings.Join(all, ";")
	}
	var buf bytes.Buffer
	w := sheetcsv.NewWriter(&buf, sheetcsv.Comma)
	var header, rec []string
	for _, c := range pushColumns {
		if *vals[c.name] != "" {
			header = append(header, c.name)
			rec = append(rec, *vals[c.name])
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
