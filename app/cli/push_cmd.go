package cli

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"

	"github.com/tapline/tapline/provision"
)

// pushColumns are the inventory columns push takes as flags, with the
// same meaning (docs/inventory.md): --new-ip is the column new_ip.
var pushColumns = []string{
	"sensor", "address", "ssh_port", "ssh_user", "auth", "key_file", "jump",
	"interface", "new_ip", "new_mask", "new_gateway", "new_dns", "new_hostname", "new_address", "proxy",
	"activation", "cert_source", "cert", "key", "chain", "pfx", "bundle", "console_port",
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
