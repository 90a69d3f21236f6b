package cli

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// runBin runs the built binary and returns its stdout, stderr and exit code.
func runBin(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = needs.RepoRoot(t)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("%s %v: killed by %v", bin, args, ws.Signal())
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// allCommands lists every command's path below tapline, groups first.
func allCommands() [][]string {
	var out [][]string
	var walk func(c *Command, path []string)
	walk = func(c *Command, path []string) {
		for _, s := range c.Subs {
			p := append(append([]string{}, path...), s.Name)
			out = append(out, p)
			walk(s, p)
		}
	}
	walk(rootCommand(), nil)
	return out
}

// One help style for every command, on the binary: --help, -h and
// 'tapline help PATH' exit 0 with the usage, a description, flags grouped
// (nothing left under the catch-all but --help itself), examples and, for
// a command that runs, its exit codes; groups list their commands one line
// each.
func TestHelpEverywhere(t *testing.T) {
	bin := cliBinary(t)
	root, _, code := runBin(t, bin, "--help")
	if code != 0 || !strings.HasPrefix(root, "Usage:\n  tapline [COMMAND] [flags]\n") || !strings.Contains(root, "Examples:") {
		t.Fatalf("tapline --help: exit %d\n%s", code, root)
	}
	for _, path := range allCommands() {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			out, errb, code := runBin(t, bin, append(path, "--help")...)
			if code != ExitOK || errb != "" {
				t.Fatalf("exit %d, stderr %q", code, errb)
			}
			if !strings.HasPrefix(out, "Usage:\n  tapline "+name+" ") {
				t.Errorf("no usage line:\n%s", out)
			}
			if !strings.Contains(out, "\nExamples:\n  ") {
				t.Errorf("no examples:\n%s", out)
			}
			cmd := rootCommand()
			for _, p := range path {
				cmd = cmd.sub(p)
			}
			if len(cmd.Subs) > 0 {
				for _, s := range cmd.Subs {
					if n := len(regexp.MustCompile(`(?m)^  `+s.Name+` +\S.*$`).FindAllString(out, -1)); n != 1 {
						t.Errorf("%s listed %d times in:\n%s", s.Name, n, out)
					}
				}
				if !strings.Contains(root, "\n  "+path[0]+" ") && len(path) == 1 {
					t.Errorf("tapline --help does not list %s", path[0])
				}
			} else {
				if !strings.Contains(out, "\nExit codes:\n  0  ") {
					t.Errorf("no exit codes:\n%s", out)
				}
				if i := strings.Index(out, "\nFlags:\n"); i < 0 || !strings.HasPrefix(out[i+len("\nFlags:\n"):], "  -h, --help") ||
					strings.Count(out[i:strings.Index(out[i:], "\n\n")+i], "\n") != 2 {
					t.Errorf("flags outside a group (or no --help line):\n%s", out)
				}
			}
			short, _, code := runBin(t, bin, append(path, "-h")...)
			if code != ExitOK || short != out {
				t.Errorf("-h differs from --help (exit %d)", code)
			}
			viaHelp, _, code := runBin(t, bin, append([]string{"help"}, path...)...)
			if code != ExitOK || viaHelp != out {
				t.Errorf("'tapline help %s' differs from --help (exit %d)", name, code)
			}
		})
	}
}

// tapline --version and tapline version, in the headless and the desktop
// build.
func TestVersionBothBuilds(t *testing.T) {
	for _, c := range []struct{ kind, build string }{{"cli", "headless"}, {"gui", "desktop"}} {
		bin := buildTapline(t, c.kind)
		for _, args := range [][]string{{"--version"}, {"version"}} {
			out, errb, code := runBin(t, bin, args...)
			if code != 0 || !strings.HasPrefix(out, "tapline "+Version+" ("+c.build+" build, go") || errb != "" {
				t.Errorf("%s %v: exit %d %q %q", c.kind, args, code, out, errb)
			}
		}
		out, _, code := runBin(t, bin, "version", "--json")
		var v struct{ Version, Build string }
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version != Version || v.Build != c.build {
			t.Errorf("%s version --json: exit %d %q", c.kind, code, out)
		}
	}
}

// Mistakes get one line on stderr that says what is wrong and where to
// look, exit 2, and nothing on stdout; under --json the same error is a
// JSON object on stdout too.
func TestUsageMistakes(t *testing.T) {
	bin := cliBinary(t)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"mistyped command", []string{"bach", "check", "x.csv"}, []string{`unknown command "bach" (did you mean "batch"?)`, "run 'tapline --help'"}},
		{"mistyped subcommand", []string{"certs", "chek"}, []string{`certs: unknown command "chek" (did you mean "check"?)`}},
		{"swapped letters", []string{"batch", "nur", "x.csv"}, []string{`(did you mean "run"?)`}},
		{"mistyped flag", []string{"batch", "run", "x.csv", "--paralel", "3"}, []string{"batch run: unknown flag --paralel (did you mean --parallel?)", "run 'tapline batch run --help' for the flags"}},
		{"unknown flag", []string{"push", "--frobnicate"}, []string{"push: unknown flag --frobnicate;", "run 'tapline push --help'"}},
		{"bad value", []string{"batch", "run", "x.csv", "--parallel", "many"}, []string{`--parallel "many": want a whole number`}},
		{"missing value", []string{"certs", "check", "--cert"}, []string{"--cert needs a value"}},
		{"all required at once", []string{"push", "--sensor", "sensor-01"}, []string{"push: missing required flags --address, --ssh-user and --auth;"}},
		{"all required of ca init", []string{"ca", "init"}, []string{"missing required flags --dir, --passphrase-file, --country and --org"}},
		{"group without command", []string{"activation"}, []string{"activation: give a command: issue, inspect, verify, lab-init"}},
		{"key as certificate", []string{"certs", "check", "--cert", "examples/certs/sensor-01.key", "--key", "examples/certs/sensor-01.crt"}, []string{"the files look swapped"}},
		{"key as certificate alone", []string{"certs", "check", "--cert", "examples/certs/sensor-01.key", "--key", "examples/certs/sensor-01.key"}, []string{"--cert examples/certs/sensor-01.key holds a private key, not a certificate: the files look swapped"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errb, code := runBin(t, bin, c.args...)
			if code != ExitUsage || out != "" || strings.Count(errb, "\n") != 1 || !strings.HasPrefix(errb, "tapline: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q: want 2, nothing, one line", code, out, errb)
			}
			for _, w := range c.want {
				if !strings.Contains(errb, w) {
					t.Errorf("stderr %q lacks %q", errb, w)
				}
			}
			// The same mistake under --json: a JSON error on stdout too.
			jout, jerr, jcode := runBin(t, bin, append(c.args, "--json")...)
			var e jsonError
			if jcode != ExitUsage || json.Unmarshal([]byte(jout), &e) != nil || e.Exit != ExitUsage || e.Error == "" || strings.TrimSpace(jerr) == "" {
				t.Errorf("--json: exit %d, stdout %q, stderr %q", jcode, jout, jerr)
			}
		})
	}
	// An unreadable input under --json: the JSON error names the file.
	out, _, code := runBin(t, bin, "batch", "check", "--json", "/nonexistent/site.csv")
	var e jsonError
	if code != ExitUsage || json.Unmarshal([]byte(out), &e) != nil || !strings.Contains(e.Error, "/nonexistent/site.csv") || e.Command != "tapline batch check" {
		t.Errorf("batch check --json of a missing file: exit %d %q", code, out)
	}
}
