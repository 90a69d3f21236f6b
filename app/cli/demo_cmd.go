package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tapline/tapline/app/demo"
)

// runDemo is "tapline demo": start the demo fleet (app/demo) and keep it
// running until Ctrl-C; with --headless provision it through "batch run" and
// stop; with --open-app open the desktop app on it and stop when it closes.
// Every sensor process it started is stopped before it returns.
func runDemo(env *Env, args []string) int {
	fs := newFlags(env, "demo")
	dir := fs.String("dir", "", "folder for the demo material (default: a new temporary folder, removed at the end)")
	core := fs.String("sensorcore", "", "the sensorcore binary (default: beside tapline, else on PATH)")
	n := fs.Int("sensors", 3, "how many sensors to start (1-50)")
	headless := fs.Bool("headless", false, "provision every sensor through 'tapline batch run', print the report and stop")
	openApp := fs.Bool("open-app", false, "open the desktop app on the fleet and stop when it closes")
	verbose := fs.Bool("v", false, "show the sensors' own log lines")
	var replay multiFlag
	fs.Var(&replay, "monitor-replay", "have each sensor's monitor replay this capture (pcap or pcapng) as live traffic, looping (repeatable; needs root)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		env.Errorf("demo: unexpected argument %q; see 'tapline demo --help'", fs.Arg(0))
		return ExitUsage
	}
	bin, err := findSensorcore(*core)
	if err != nil {
		env.Errorf("demo: %v", err)
		return ExitUsage
	}
	keep := *dir != ""
	if !keep {
		if *dir, err = os.MkdirTemp("", "tapline-demo-"); err != nil {
			env.Errorf("demo: %v", err)
			return ExitUsage
		}
		defer os.RemoveAll(*dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := demo.Options{Dir: *dir, Sensorcore: bin, Sensors: *n, Now: env.Now, Replay: replay}
	if *verbose {
		o.Log = env.Stderr
	}
	fleet, err := demo.Start(ctx, o)
	if err != nil {
		env.Errorf("%v", err)
		return ExitUsage
	}
	defer func() {
		if err := fleet.Stop(); err != nil {
			env.Errorf("%v", err)
		}
	}()
	fleet.Describe(env.Stdout)
	switch {
	case *headless:
		benv := *env
		benv.Getenv = func(k string) string {
			if k == "TAPLINE_SSH_PASSWORD" {
				return demo.Password
			}
			return env.Getenv(k)
		}
		fmt.Fprintf(env.Stdout, "\nProvisioning the demo fleet headless: tapline batch run --trust-root %s --accept-new --known-hosts %s %s\n\n",
			fleet.TrustRoot, fleet.KnownHosts, fleet.Inventory)
		return Main([]string{"batch", "run", "--trust-root", fleet.TrustRoot, "--accept-new", "--known-hosts", fleet.KnownHosts,
			"--report-dir", fleet.FilesDir, "--confirm-timeout", "30s", fleet.Inventory}, &benv)
	case *openApp:
		self, err := os.Executable()
		if err != nil {
			env.Errorf("demo: %v", err)
			return ExitUsage
		}
		app := exec.CommandContext(ctx, self, "--demo", fleet.Dir)
		app.Stdout, app.Stderr = env.Stdout, env.Stderr
		fmt.Fprintf(env.Stdout, "\nOpening the app on the demo fleet; close its window (or press Ctrl-C) to stop the sensors.\n")
		if err := app.Run(); err != nil && ctx.Err() == nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			env.Errorf("demo: the app: %v", err)
			return ExitUsage
		}
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "\nThe fleet runs until Ctrl-C. Open the app on it with: tapline --demo %s\n", fleet.Dir)
	<-ctx.Done()
	fmt.Fprintf(env.Stdout, "Stopping the demo fleet.\n")
	return ExitOK
}

// findSensorcore resolves the sensorcore binary: the flag, the file beside
// this executable, then PATH.
func findSensorcore(flagged string) (string, error) {
	if flagged != "" {
		if _, err := os.Stat(flagged); err != nil {
			if os.IsNotExist(err) {
				return "", fmt.Errorf("--sensorcore %s: no such file; build it with 'make build-sensorcore' (bin/sensorcore)", flagged)
			}
			return "", fmt.Errorf("--sensorcore %s: %w", flagged, err)
		}
		return filepath.Abs(flagged)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "sensorcore")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("sensorcore"); err == nil {
		return p, nil
	}
	return "", errors.New("no sensorcore binary found: run 'make build-sensorcore' and pass --sensorcore bin/sensorcore")
}
