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
	"time"

	"github.com/tapline/tapline/app/demo"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/siteview"
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
	natsServer := fs.String("nats-server", "", "the nats-server binary for the demo site (default: beside tapline, else on PATH; none found: no site)")
	noSite := fs.Bool("no-site", false, "run no site server: the sensors get no uplink")
	captures := fs.String("captures", "", "the shared captures folder (../shared/pcaps): each sensor's monitor replays some, looping (LAB/DEMO)")
	speed := fs.Float64("replay-speed", 1, "replay the captures at their recorded pace times this")
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
	o := demo.Options{Dir: *dir, Sensorcore: bin, Sensors: *n, Now: env.Now, Captures: *captures, ReplaySpeed: *speed, Replay: replay}
	if !*noSite {
		if o.NATSServer, err = findBeside(*natsServer, "nats-server", "make build-nats"); err != nil && *natsServer != "" {
			env.Errorf("demo: %v", err)
			return ExitUsage
		} else if err != nil {
			fmt.Fprintf(env.Stdout, "No nats-server beside tapline nor on PATH: the demo runs no site (build it with 'make build-nats').\n")
		}
	}
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
		code := Main([]string{"batch", "run", "--trust-root", fleet.TrustRoot, "--accept-new", "--known-hosts", fleet.KnownHosts,
			"--report-dir", fleet.FilesDir, "--confirm-timeout", "30s", fleet.Inventory}, &benv)
		if code != ExitOK || fleet.SiteFile == "" {
			return code
		}
		// The sensors now stream to the site: show it once every sensor
		// has reported (or after a minute).
		fmt.Fprintf(env.Stdout, "\nThe site, as the sensors stream it: tapline site status --site-file %s\n\n", fleet.SiteFile)
		waitSite(ctx, fleet, time.Minute)
		if c := Main([]string{"site", "status", "--site-file", fleet.SiteFile}, env); c != ExitOK {
			return c
		}
		fmt.Fprintln(env.Stdout)
		return Main([]string{"site", "alerts", "--site-file", fleet.SiteFile}, env)
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
	return findBeside(flagged, "sensorcore", "make build-sensorcore")
}

// findBeside resolves the program name: the flag's file, the file beside
// this executable, then PATH; the error says how to build it.
func findBeside(flagged, name, build string) (string, error) {
	if flagged != "" {
		if _, err := os.Stat(flagged); err != nil {
			if os.IsNotExist(err) {
				return "", fmt.Errorf("--%s %s: no such file; build it with '%s' (bin/%s)", name, flagged, build, name)
			}
			return "", fmt.Errorf("--%s %s: %w", name, flagged, err)
		}
		return filepath.Abs(flagged)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no %s binary found: run '%s' and pass --%s bin/%s", name, build, name, name)
}

// waitSite waits until every sensor of the demo fleet has sent its status
// to the site, at most d.
func waitSite(ctx context.Context, f *demo.Fleet, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if n, err := siteSensors(ctx, f.SiteFile); err == nil && n >= len(f.Sensors) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// siteSensors is how many sensors have sent their status to the site.
func siteSensors(ctx context.Context, siteFile string) (int, error) {
	sc, err := siteconf.ReadSiteConfig(siteFile)
	if err != nil {
		return 0, err
	}
	cl, err := sc.Viewer("tapline demo")
	if err != nil {
		return 0, err
	}
	r, err := siteview.Open(cl, sc.Site, 0)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Load(lctx, 1); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range r.Model.Sensors() {
		if s.Status != nil {
			n++
		}
	}
	return n, nil
}
