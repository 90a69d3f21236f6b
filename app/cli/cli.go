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
	"runtime"
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

	cmd      *Command // the command running
	json     bool     // --json was given: errors are JSON on stdout too
	firstErr string
}

// StdEnv returns the process environment.
func StdEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Getenv: os.Getenv}
}

// Errorf prints one line on stderr prefixed with "tapline: ". Under
// --json the first error also becomes the JSON object Main prints on
// stdout when the command fails having printed nothing there.
func (e *Env) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(e.Stderr, "tapline: %s\n", msg)
	if e.firstErr == "" {
		e.firstErr = msg
	}
}

// Version is Tapline's release, set by the linker for packaged builds.
var Version = "0.1.0-dev"

// Main runs one command line and returns the process exit code.
func Main(args []string, env *Env) int {
	cw := &countingWriter{w: env.Stdout}
	env.Stdout = cw
	env.json = jsonRequested(args)
	code := mainCommand(env, args)
	if code != ExitOK && env.json && cw.n == 0 && env.firstErr != "" {
		printJSON(env.Stdout, jsonError{Error: env.firstErr, Exit: code, Command: commandPath(env)})
	}
	return code
}

func mainCommand(env *Env, args []string) int {
	root := rootCommand()
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		if len(args) > 1 {
			env.Errorf("--version takes no arguments; run 'tapline version --help'")
			return ExitUsage
		}
		env.cmd = root.sub("version")
		return runVersion(env, nil)
	}
	if len(args) == 0 {
		root.writeHelp(env.Stdout, nil)
		return ExitOK
	}
	return root.dispatch(env, args)
}

// jsonError is what a failing command prints on stdout under --json.
type jsonError struct {
	Error   string `json:"error"`
	Exit    int    `json:"exit"`
	Command string `json:"command"`
}

func commandPath(env *Env) string {
	if env.cmd == nil {
		return "tapline"
	}
	return env.cmd.Path()
}

// jsonRequested reports whether args ask for JSON (--json before any "--").
func jsonRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true", "--json=1":
			return true
		}
	}
	return false
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func runVersion(env *Env, args []string) int {
	fs := newFlags(env, "version")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		env.Errorf("version: unexpected argument %q", fs.Arg(0))
		return ExitUsage
	}
	if *asJSON {
		return printJSON(env.Stdout, map[string]string{"version": Version, "build": buildKind, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
	}
	fmt.Fprintf(env.Stdout, "tapline %s (%s build, %s %s/%s)\n", Version, buildKind, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return ExitOK
}
