// Package cli is Tapline's command-line face: commands, flags and output.
// It holds no business rules: it calls certs, provision and the sensorcore
// format packages and renders their results. It never imports fyne.io, so a
// headless build (-tags nogui) carries the whole CLI.
//
// Exit codes are a contract scripts rely on: 0 success, 1 a negative verdict,
// 2 usage or unreadable input.
package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Exit codes shared by every command.
const (
	ExitOK      = 0 // success, or a positive verdict
	ExitVerdict = 1 // the command ran and the answer is negative
	ExitUsage   = 2 // bad flags, unreadable or malformed input
)

// Env is what a command may touch of the outside world. Tests build their
// own; StdEnv wires the process's.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	Getenv func(string) string
}

// StdEnv returns the process environment.
func StdEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Getenv: os.Getenv}
}

// Errorf prints one line on stderr prefixed with "tapline: ".
func (e *Env) Errorf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "tapline: "+format+"\n", args...)
}

type command struct {
	summary string
	run     func(env *Env, args []string) int
}

// commands is the table of top-level subcommands. Each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"certs":      {"check, verify and inspect certificates, keys, chains, PKCS#12 and CRLs", runCerts},
		"ca":         {"the offline certificate authority: init, issue, revoke, crl, export", runCA},
		"activation": {"issue, inspect and verify signed sensor activation files", runActivation},
		"release":    {"sign and verify sensorcore releases (lab-init, sign, verify)", runRelease},
		"push":       {"provision one sensor over SSH", runPush},
		"batch":      {"check or provision a whole site from an inventory CSV", runBatch},
		"demo":       {"run a demo fleet of sensors on this machine (make run)", runDemo},
		"version":    {"print Tapline's version", runVersion},
	}
}

// Version is Tapline's release, set by the linker for packaged builds.
var Version = "0.1.0-dev"

// Main runs one command line and returns the process exit code.
func Main(args []string, env *Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return ExitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		env.Errorf("unknown command %q; run 'tapline help' for the list", args[0])
		return ExitUsage
	}
	return cmd.run(env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tapline [command] [flags]")
	fmt.Fprintln(w, "With no command, tapline opens the desktop app.")
	fmt.Fprintln(w)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'tapline COMMAND --help' for a command's flags.")
}

func runVersion(env *Env, _ []string) int {
	fmt.Fprintln(env.Stdout, "tapline", Version)
	return ExitOK
}

// subcommand dispatches "tapline NAME SUB ..." to a table of handlers.
func subcommand(env *Env, name string, args []string, subs map[string]func(*Env, []string) int) int {
	list := make([]string, 0, len(subs))
	for s := range subs {
		list = append(list, s)
	}
	sort.Strings(list)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stdout, "usage: tapline %s %s [flags]\n", name, strings.Join(list, "|"))
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	run, ok := subs[args[0]]
	if !ok {
		env.Errorf("%s: unknown subcommand %q; use one of %s", name, args[0], strings.Join(list, ", "))
		return ExitUsage
	}
	return run(env, args[1:])
}
