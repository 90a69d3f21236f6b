// Command tapline is the field engineer's companion for bringing OT network
// sensors into service: with no arguments (or only start-up flags such as
// --first-frame) it opens the desktop app, with a subcommand it runs the
// command-line interface.
package main

import (
	"os"
	"strings"
	"time"

	"github.com/tapline/tapline/app/cli"
)

func main() {
	started := time.Now()
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		os.Exit(cli.Main(os.Args[1:], cli.StdEnv()))
	}
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "--version" || os.Args[1] == "-version") {
		os.Exit(cli.Main(os.Args[1:], cli.StdEnv()))
	}
	os.Exit(runDesktop(os.Args[1:], started))
}
