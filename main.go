// Command tapline is the field engineer's companion for bringing OT network
// sensors into service: with no arguments it opens the desktop app, with a
// subcommand it runs the command-line interface.
package main

import (
	"os"

	"github.com/tapline/tapline/app/cli"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(cli.Main(os.Args[1:], cli.StdEnv()))
	}
	os.Exit(runDesktop())
}
