package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/validate"
)

// cmdValidate is "sensorcore validate": the validation after setup
// (package validate), allowed over the provisioning SSH channel.
var cmdValidate = func(a []string, o, e io.Writer) int {
	return invocation{}.validate(context.Background(), a, o, e)
}

// validate gathers what the sensor runs (status, sanity, the network
// settings and backend, the monitoring engine's health in run.json) and
// validates it. Exit 0 when no check failed (warnings may stand), 1 when
// one did, 2 for usage.
func (inv invocation) validate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sensorcore validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "sensorcore validate: unexpected argument %q\n", pos[0])
		return 2
	}
	if inv.fixed != nil {
		c.root, c.trustRoots, c.releaseRoots, c.backend = inv.fixed.root, inv.fixed.trustRoots, inv.fixed.releaseRoots, inv.fixed.backend
	}
	e, err := daemon.NewEngine(daemon.Options{Root: c.root, TrustRoots: c.trustRoots, ReleaseRoots: c.releaseRoots, Backend: c.backend})
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore validate: %v\n", err)
		return 2
	}
	e.Log = func(string, ...any) {}
	in, err := validateInputs(ctx, e)
	if err != nil {
		fmt.Fprintf(stderr, "sensorcore validate: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := validate.Run(ctx, in, validate.Default(), e.Now())
	if c.asJSON {
		printJSON(stdout, r)
	} else {
		for _, ch := range r.Checks {
			target := ch.Target
			if target == "" {
				target = "-"
			}
			fmt.Fprintf(stdout, "%-8s %-16s %-14s %s\n", ch.Check, target, strings.ToUpper(string(ch.Status)), ch.Detail)
		}
		fmt.Fprintf(stdout, "%s: %s\n", r.SensorName, r.Verdict)
	}
	if !r.OK {
		return 1
	}
	return 0
}

// validateInputs reads what validation looks at from the engine.
func validateInputs(ctx context.Context, e *daemon.Engine) (validate.Inputs, error) {
	st, err := e.Status(version)
	if err != nil {
		return validate.Inputs{}, err
	}
	lines, err := e.Sanity(ctx, version)
	if err != nil {
		return validate.Inputs{}, err
	}
	in := validate.Inputs{SensorName: st.SensorName, Generation: st.Generation, Backend: st.NetworkBackend}
	ri, alive := e.Layout.DaemonAlive()
	in.Monitoring = alive && (ri.Capture != "" || ri.CaptureErr != "" || len(ri.CapturePorts) > 0)
	in.CaptureLine, in.CaptureErr = ri.Capture, ri.CaptureErr
	in.Ports = ri.CapturePorts
	for _, l := range lines {
		if l.Component == "capture" && in.Monitoring {
			continue // the capture checks say it, port by port
		}
		in.Sanity = append(in.Sanity, validate.SanityLine{Component: l.Component, Up: l.Up, Detail: l.Detail})
	}
	if n := st.Network; n != nil {
		in.Address, _ = netip.ParseAddr(n.Address)
		in.Gateway, _ = netip.ParseAddr(n.Gateway)
		for _, d := range n.DNS {
			if a, err := netip.ParseAddr(d); err == nil {
				in.DNS = append(in.DNS, a)
			}
		}
		in.Hostname = n.Hostname
	}
	return in, nil
}
