package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// SiteName is the demo site's name (its subjects are tapline.demo-plant.*).
const SiteName = "demo-plant"

// demoCaptures are the shared captures each demo sensor's monitor replays,
// relative to Options.Captures (the shared pcaps folder): sensor-01 sees
// Modbus/TCP and an S7 PLC being stopped, sensor-02 EtherNet/IP with a CIP
// stop, sensor-03 IEC 60870-5-104 and DNP3 with a cold restart. Sensors
// past the third replay these again, in turn.
// The short captures that raise alerts come first in each pass, so the
// site has alerts within seconds.
var demoCaptures = [][]string{
	{"s7comm/snap7_s300_stop.pcapng", "modbus/ModbusTCP.pcap"},
	{"enip/cip_stop_plc.pcap", "enip/EthernetIP-CIP.pcap"},
	{"dnp3/cold_restart_and_response.pcap", "iec104/090813_diverse.pcap", "dnp3/dnp3_test_data_part1.pcap"},
}

// captureFiles resolves sensor i's captures in dir, refusing a missing one
// with its name.
func captureFiles(dir string, i int) ([]string, error) {
	var out []string
	for _, c := range demoCaptures[i%len(demoCaptures)] {
		p := filepath.Join(dir, filepath.FromSlash(c))
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("demo: --captures %s: %s is missing: give the folder of the shared captures (../shared/pcaps)", dir, c)
		}
		out = append(out, p)
	}
	return out, nil
}

// startSite makes the demo site's material the way `tapline site init`
// does (one node on loopback, the sensors' NKEY users and client
// certificates from the demo CA), starts the real nats-server on it and
// creates the site's streams as `tapline site streams` does.
func (f *Fleet) startSite(ctx context.Context, c *ca.CA, o Options, now time.Time) error {
	ports, err := freePorts(2)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f.SiteDir = filepath.Join(f.Dir, "site")
	var names []string
	for _, s := range f.Sensors {
		names = append(names, s.Name)
	}
	if _, err := siteconf.Init(siteconf.Options{Site: SiteName, Nodes: []siteconf.Node{{Host: "127.0.0.1", ClientPort: ports[0], ClusterPort: ports[1]}},
		Sensors: names, Dir: f.SiteDir, Store: filepath.Join(f.SiteDir, "store"), CA: c, Now: now.Add(-time.Hour),
		Limits: site.Limits{OpsMaxBytes: 1 << 30, StateMaxBytes: 256 << 20}}); err != nil {
		return fmt.Errorf("demo: site init: %w", err)
	}
	f.SiteFile = filepath.Join(f.SiteDir, siteconf.SiteFile)
	f.NATSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	conf := filepath.Join(f.SiteDir, "nats-1.conf")
	cmd := exec.Command(o.NATSServer, "-c", conf)
	out := &tailWriter{max: 2048}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(prefixed(o.Log, "nats-1"), out), io.MultiWriter(prefixed(o.Log, "nats-1"), out)
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("demo: starting %s: %w", o.NATSServer, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	f.procs = append(f.procs, cmd)
	f.waits = append(f.waits, done)
	f.names = append(f.names, "nats-1")
	deadline := time.Now().Add(o.StartTimeout)
	for {
		if c, err := net.DialTimeout("tcp", f.NATSAddr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("demo: %s -c %s stopped before it listened (%v); it said: %s", o.NATSServer, conf, err, out.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: nats-server did not listen on %s within %s", f.NATSAddr, o.StartTimeout)
		}
	}
	return f.createStreams(ctx, deadline)
}

// createStreams creates the site's streams as its administrator, asking
// again while the fresh server's JetStream starts.
func (f *Fleet) createStreams(ctx context.Context, deadline time.Time) error {
	sc, err := siteconf.ReadSiteConfig(f.SiteFile)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	admin, err := sc.Admin()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	streams, err := siteconf.ReadStreams(filepath.Join(f.SiteDir, siteconf.StreamsFile))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	nc, err := admin.Connect()
	if err != nil {
		return fmt.Errorf("demo: connecting to the site's server: %w", err)
	}
	defer nc.Close()
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := siteconf.Apply(actx, nc, streams)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: creating the site's streams: %w", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// freePorts returns n TCP ports free on 127.0.0.1 now.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// checkSiteOptions refuses a NATS server or captures folder that is not
// there, before anything starts.
func checkSiteOptions(o Options) error {
	if o.NATSServer != "" {
		if fi, err := os.Stat(o.NATSServer); err != nil || fi.IsDir() {
			return fmt.Errorf("demo: --nats-server %s: not a program (build it with 'make build-nats': bin/nats-server)", o.NATSServer)
		}
	}
	if o.Captures != "" {
		if fi, err := os.Stat(o.Captures); err != nil || !fi.IsDir() {
			return fmt.Errorf("demo: --captures %s: not a folder (give the shared captures, ../shared/pcaps)", o.Captures)
		}
	}
	if o.ReplaySpeed < 0 {
		return errors.New("demo: the replay speed must be more than 0")
	}
	return nil
}
