package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/tapline/tapline/sensorcore/daemon"
)

const pluginUsage = `usage: sensorcore plugin install [--json] FILE   (FILE.sig beside it; a path in the incoming directory over SSH)
       sensorcore plugin remove [--json] NAME   (the plugin's file or protocol name)
Installed plugins are verified against the plant's plugin signing key (the
provisioning bundle's plugin-signing.pub) and loaded by the running monitor
within seconds; sensorcore status lists them.`

var cmdPlugin = provision("plugin")

// plugin is "sensorcore plugin install|remove": both allowed over SSH.
func (inv invocation) plugin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, pluginUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	if sub != "install" && sub != "remove" {
		fmt.Fprintf(stderr, "sensorcore plugin: unknown subcommand %q\n%s\n", sub, pluginUsage)
		return 2
	}
	fs := flag.NewFlagSet("sensorcore plugin "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, pluginUsage)
		return 2
	}
	e, err := inv.engine(&c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore plugin %s: %v\n", sub, err)
		return 2
	}
	var res *daemon.PluginResult
	if sub == "install" {
		res, err = e.InstallPlugin(pos[0])
	} else {
		res, err = e.RemovePlugin(pos[0])
	}
	return report(stdout, stderr, c.asJSON, res, err, func() {
		switch {
		case res.Removed:
			fmt.Fprintf(stdout, "removed plugin %s (%s); the monitor stops decoding it within seconds\n", res.File, res.Protocol)
		default:
			fmt.Fprintf(stdout, "installed plugin %s: %s %s, signed by %q (key %s)", res.File, res.Protocol, res.Version, res.Signer, res.KeyID)
			if res.Replaced != "" {
				fmt.Fprintf(stdout, ", replacing %s", res.Replaced)
			}
			fmt.Fprintln(stdout, "; the monitor loads it within seconds")
		}
	}, nil)
}
