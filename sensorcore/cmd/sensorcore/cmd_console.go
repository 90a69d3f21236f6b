package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/console"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/signin"
	"github.com/tapline/tapline/sensorcore/sshd"
)

// cmdConsole is "sensorcore console": the console's accounts.
var cmdConsole = func(a []string, o, e io.Writer) int {
	return invocation{}.run(context.Background(), "console", a, o, e)
}

const consoleUsage = `usage: sensorcore console reset --user admin|support [--json]
       sensorcore console unlock USER
       sensorcore console log [-n 20]
  reset   a one-time password for a privileged user, to be changed at its next
          sign-in; ends the user's sessions and clears its sign-in throttling
          and lock (also over the provisioning SSH account: tapline console reset)
  unlock  end a user's lock and sign-in throttling (at the appliance only)
  log     the account events: locks, unlocks, resets, password changes`

// console runs "sensorcore console SUB": reset (also over SSH), unlock and
// log (at the appliance only).
func (inv invocation) console(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, consoleUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	if inv.confine && sub != "reset" {
		fmt.Fprintf(stderr, "sensorcore console %s is not allowed over SSH: only reset is\n", sub)
		return 2
	}
	fs := flag.NewFlagSet("sensorcore console "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	userFlag := fs.String("user", "", "reset: the account, admin or support")
	n := fs.Int("n", 20, "log: how many events")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return 2
	}
	if inv.fixed != nil {
		c.root = inv.fixed.root
	}
	l := daemon.Layout{Root: c.root}
	events := &console.EventLog{Path: l.AccountsLog()}
	switch sub {
	case "reset":
		name := *userFlag
		if name == "" && len(pos) == 1 {
			name = pos[0]
		} else if len(pos) != 0 {
			name = ""
		}
		fail := func(code int, msg string) int {
			if c.asJSON {
				printJSON(stdout, console.ResetResult{User: name, Error: msg})
			}
			fmt.Fprintf(stderr, "sensorcore console reset: %s\n", msg)
			return code
		}
		if !console.IsUser(name) {
			return fail(2, fmt.Sprintf("--user must be admin or support, not %q", name))
		}
		users, err := console.OpenUsers(l.ConsoleUsers(), 0)
		if err != nil {
			return fail(1, fmt.Sprintf("%v (the console makes its accounts at its first start)", err))
		}
		pw, err := users.Reset(name)
		if err != nil {
			return fail(1, err.Error())
		}
		events.Record("reset", "%s given a one-time password %s; its sessions ended, its sign-in throttling and lock cleared", name, caller(ctx, inv.confine))
		if c.asJSON {
			return printJSON(stdout, console.ResetResult{OK: true, User: name, Password: pw, MustChange: true})
		}
		fmt.Fprintf(stdout, "one-time password for %s: %s\nit must be changed at the next sign-in; %s's console sessions have ended and its sign-in throttling is cleared\n", name, pw, name)
		return 0
	case "unlock":
		if len(pos) != 1 || !console.IsUser(pos[0]) {
			fmt.Fprintln(stderr, "sensorcore console unlock: usage: sensorcore console unlock admin|support")
			return 2
		}
		users, err := console.OpenUsers(l.ConsoleUsers(), 0)
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore console unlock: %v\n", err)
			return 1
		}
		was, err := users.Unlock(pos[0], time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "sensorcore console unlock: %v\n", err)
			return 1
		}
		events.Record("unlock", "%s unlocked %s; its sign-in throttling cleared", pos[0], caller(ctx, false))
		if was {
			fmt.Fprintf(stdout, "%s was locked; it is unlocked and its sign-in throttling is cleared\n", pos[0])
		} else {
			fmt.Fprintf(stdout, "%s was not locked everywhere; its sign-in throttling is cleared\n", pos[0])
		}
		return 0
	case "log":
		for _, line := range events.Tail(*n) {
			fmt.Fprintln(stdout, line)
		}
		return 0
	}
	fmt.Fprintf(stderr, "sensorcore console: unknown subcommand %q\n%s\n", sub, consoleUsage)
	return 2
}

// caller says who ran an account command, for the event log: over SSH the
// account and the client's address (the embedded listener passes them;
// behind OpenSSH, sudo's SUDO_USER and SSH_CONNECTION); at the appliance
// the local user.
func caller(ctx context.Context, overSSH bool) string {
	if c, ok := sshd.CallerFrom(ctx); ok {
		return fmt.Sprintf("over SSH by %s from %s", c.User, signin.SourceOf(c.Addr).Addr())
	}
	who := os.Getenv("SUDO_USER")
	if who == "" {
		if u, err := user.Current(); err == nil {
			who = u.Username
		}
	}
	if overSSH {
		from := "an unknown address"
		if f := strings.Fields(os.Getenv("SSH_CONNECTION")); len(f) > 0 {
			from = f[0]
		}
		return fmt.Sprintf("over SSH by %s from %s", who, from)
	}
	return "at the appliance by " + who
}
