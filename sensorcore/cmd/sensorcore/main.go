// Command sensorcore is the appliance daemon and its command-line tools.
//
// Exit codes: 0 success, 1 a negative verdict (a refused bundle, a failed
// sanity check), 2 usage or unreadable input.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/tapline/tapline/sensorcore/daemon"
)

// version is sensorcore's release, set by the linker for packaged builds.
var version = "0.1.0-dev"

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists sensorcore's subcommands; provisioning ones live in
// cmd_provision.go, monitoring ones in cmd_monitor.go.
func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the daemon: HTTPS console, provisioning listener, monitoring", cmdServe},
		"apply":       {"check and apply a provisioning bundle as a new generation", cmdApply},
		"confirm":     {"make the pending generation permanent", cmdConfirm},
		"rollback":    {"return to the previous generation now", cmdRollback},
		"status":      {"show the sensor's state", cmdStatus},
		"sanity":      {"check every component; 'System is UP!' when all run", cmdSanity},
		"validate":    {"validate after setup: sanity, gateway, DNS, NTP, each monitoring port's traffic", cmdValidate},
		"network":     {"show or validate the network settings", cmdNetwork},
		"analyze":     {"run the monitoring pipeline over capture files", cmdAnalyze},
		"inventory":   {"list the assets seen on the monitored network", cmdInventory},
		"alerts":      {"list alerts", cmdAlerts},
		"events":      {"write the operations log (one record per OT operation) of capture files", cmdEvents},
		"version":     {"print sensorcore's version", cmdVersion},
		"ssh-command": {"OpenSSH ForceCommand wrapper: provisioning commands and SFTP only", cmdSSHCommand},
		"console":     {"the console's accounts: reset a privileged user, unlock, the account log", cmdConsole},
		"plugin":      {"install or remove a signed protocol plugin (docs/plugins.md)", cmdPlugin},

		daemon.MonitorCommand: {"the monitoring engine's own process (serve --monitor starts it)", cmdMonitorEngine},
		"install-core":        {"install an uploaded sensorcore release (signature verified first, previous kept)", cmdInstallCore},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, "usage: sensorcore COMMAND [flags]")
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stdout, "  %-12s %s\n", n, cmds[n].summary)
		}
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sensorcore: unknown command %q; run 'sensorcore help'\n", args[0])
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func cmdVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "sensorcore", version)
	return 0
}
