package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// testEnv returns an Env with captured output and a pinned clock.
func testEnv(now time.Time) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errb,
		Now:    func() time.Time { return now },
		Getenv: func(string) string { return "" },
	}, &out, &errb
}

func TestMainDispatch(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"help", []string{"help"}, ExitOK, "Usage:\n  tapline [COMMAND] [flags]", ""},
		{"version", []string{"version"}, ExitOK, "tapline " + Version, ""},
		{"unknown", []string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, out, errb := testEnv(now)
			if got := Main(c.args, env); got != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", got, c.code, errb)
			}
			if !strings.Contains(out.String(), c.inStdout) {
				t.Errorf("stdout %q lacks %q", out, c.inStdout)
			}
			if !strings.Contains(errb.String(), c.inStderr) {
				t.Errorf("stderr %q lacks %q", errb, c.inStderr)
			}
		})
	}
}
