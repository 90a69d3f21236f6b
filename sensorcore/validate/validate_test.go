package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/dnstest"
	"github.com/tapline/tapline/internal/doctest"
	"github.com/tapline/tapline/internal/needs"
)

var now = time.Date(2026, 11, 21, 10, 35, 0, 0, time.UTC)

func inputs() Inputs {
	return Inputs{SensorName: "sensor-01", Generation: 2, Backend: "iproute",
		Sanity:  []SanityLine{{"console", true, "HTTPS"}, {"activation", true, "sensor-01"}},
		Address: netip.MustParseAddr("198.18.0.10"), Gateway: netip.MustParseAddr("198.18.0.1"),
		DNS: []netip.Addr{netip.MustParseAddr("198.18.0.53")}, Hostname: "sensor-01.plant.example",
		Monitoring: true, Ports: []Port{{Interface: "mon0", Packets: 6000, PacketsPerSecond: 100, OTProtocols: []string{"modbus"}}}}
}

func probes(gw error, dns DNSAnswer, dnsErr error, synced bool) Probes {
	return Probes{
		Gateway: func(context.Context, netip.Addr) (time.Duration, error) { return 300 * time.Microsecond, gw },
		DNS:     func(context.Context, netip.Addr, string) (DNSAnswer, error) { return dns, dnsErr },
		Clock: func() (ClockState, error) {
			return ClockState{Synchronised: synced, MaxError: 12 * time.Millisecond}, nil
		},
	}
}

func statuses(r Report) string {
	var out []string
	for _, c := range r.Checks {
		out = append(out, c.Check+"="+string(c.Status))
	}
	return strings.Join(out, " ")
}

func TestRunVerdicts(t *testing.T) {
	good := DNSAnswer{RCode: "NOERROR", Addrs: []netip.Addr{netip.MustParseAddr("198.18.0.10")}}
	cases := []struct {
		name    string
		in      func(*Inputs)
		p       Probes
		ok      bool
		verdict string
		want    string // a check=status that must be present
	}{
		{"all good", nil, probes(nil, good, nil, true), true, "validated", "gateway=ok"},
		{"gateway silent", nil, probes(errors.New("no answer within 1 s (3 tries)"), good, nil, true), false, "1 problem(s)", "gateway=failed"},
		{"dns silent", nil, probes(nil, DNSAnswer{}, errors.New("no answer within 2 s"), true), false, "1 problem(s)", "dns=failed"},
		{"dns refuses", nil, probes(nil, DNSAnswer{RCode: "REFUSED"}, nil, true), false, "1 problem(s)", "dns=failed"},
		{"name unknown to dns", nil, probes(nil, DNSAnswer{RCode: "NXDOMAIN"}, nil, true), true, "validated with 1 warning(s)", "dns=warning"},
		{"name at another address", nil, probes(nil, DNSAnswer{RCode: "NOERROR", Addrs: []netip.Addr{netip.MustParseAddr("198.18.0.99")}}, nil, true), true, "validated with 1 warning(s)", "dns=warning"},
		{"clock unsynchronised", nil, probes(nil, good, nil, false), true, "validated with 1 warning(s)", "ntp=warning"},
		{"span port without OT", func(in *Inputs) { in.Ports[0].OTProtocols = nil }, probes(nil, good, nil, true), true, "validated with 1 warning(s)", "capture=warning"},
		{"port silent", func(in *Inputs) { in.Ports[0].PacketsPerSecond = 0 }, probes(nil, good, nil, true), true, "validated with 1 warning(s)", "capture=warning"},
		{"port drops", func(in *Inputs) { in.Ports[0].Drops = 600 }, probes(nil, good, nil, true), true, "validated with 1 warning(s)", "capture=warning"},
		{"capture failed", func(in *Inputs) { in.Ports[0].Error = "permission denied" }, probes(nil, good, nil, true), false, "1 problem(s)", "capture=failed"},
		{"no monitoring port", func(in *Inputs) { in.Monitoring, in.Ports = false, nil }, probes(nil, good, nil, true), true, "validated (1 check(s) not applied or not configured)", "capture=not_configured"},
		{"component down", func(in *Inputs) { in.Sanity[0].Up = false }, probes(nil, good, nil, true), false, "1 problem(s)", "sanity=failed"},
		{"no gateway, no dns", func(in *Inputs) { in.Gateway, in.DNS = netip.Addr{}, nil }, probes(nil, good, nil, true), true, "validated (2 check(s) not applied or not configured)", "gateway=not_configured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := inputs()
			if c.in != nil {
				c.in(&in)
			}
			r := Run(context.Background(), in, c.p, now)
			if r.OK != c.ok || r.Verdict != c.verdict || !strings.Contains(" "+statuses(r)+" ", " "+c.want+" ") {
				t.Fatalf("ok %v verdict %q checks %s", r.OK, r.Verdict, statuses(r))
			}
		})
	}
}

// With the none backend the settings are recorded, not applied: no probe
// goes out to the example addresses, and the checks say why.
func TestNoneBackendSendsNothing(t *testing.T) {
	in := inputs()
	in.Backend = "none"
	sent := Probes{
		Gateway: func(context.Context, netip.Addr) (time.Duration, error) {
			t.Fatal("pinged with backend none")
			return 0, nil
		},
		DNS: func(context.Context, netip.Addr, string) (DNSAnswer, error) {
			t.Fatal("asked DNS with backend none")
			return DNSAnswer{}, nil
		},
		Clock: func() (ClockState, error) { return ClockState{Synchronised: true}, nil },
	}
	r := Run(context.Background(), in, sent, now)
	for _, c := range r.Checks {
		if (c.Check == "gateway" || c.Check == "dns") && (c.Status != StatusNotApplied || !strings.Contains(c.Detail, "not applied (backend none)")) {
			t.Errorf("%s: %s %q", c.Check, c.Status, c.Detail)
		}
	}
	if !r.OK || r.Verdict != "validated (3 check(s) not applied or not configured)" {
		t.Errorf("verdict %q", r.Verdict)
	}
}

// The real probes on loopback: ICMP echo to 127.0.0.1 and a DNS question
// to a server the test runs on 127.0.0.1.
func TestProbesOnLoopback(t *testing.T) {
	if _, err := Ping(context.Background(), netip.MustParseAddr("127.0.0.1")); err != nil {
		if os.Getuid() != 0 {
			needs.Missing(t, "this test pings 127.0.0.1, which needs root or the unprivileged ping socket (net.ipv4.ping_group_range): %v", err)
		}
		t.Fatalf("ping 127.0.0.1: %v", err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go dnstest.Serve(pc, map[string]netip.Addr{"sensor-01.plant.example.": netip.MustParseAddr("198.18.0.10")})
	server := netip.MustParseAddrPort(pc.LocalAddr().String())
	a, err := askDNS(context.Background(), server, "sensor-01.plant.example")
	if err != nil || a.RCode != "NOERROR" || len(a.Addrs) != 1 || a.Addrs[0] != netip.MustParseAddr("198.18.0.10") {
		t.Fatalf("known name: %+v %v", a, err)
	}
	a, err = askDNS(context.Background(), server, "sensor-99.plant.example")
	if err != nil || a.RCode != "NXDOMAIN" {
		t.Fatalf("unknown name: %+v %v", a, err)
	}
	silent, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer silent.Close()
	start := time.Now()
	if _, err := askDNS(context.Background(), netip.MustParseAddrPort(silent.LocalAddr().String()), "sensor-01.plant.example"); err == nil {
		t.Fatal("a silent server answered")
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("a silent server took %v", d)
	}
	if _, err := ReadClock(); err != nil {
		t.Errorf("clock: %v", err)
	}
}

// The example in docs/formats.md is what Report writes, field for field.
func TestFormatsExample(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader(doctest.JSONBlock(t, "formats.md", "validate")))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("docs/formats.md validate example: %v", err)
	}
	if !r.OK || len(r.Checks) != 7 || r.Checks[5].Capture == nil || r.Checks[6].Status != StatusWarning {
		t.Fatalf("example: %+v", r)
	}
}
