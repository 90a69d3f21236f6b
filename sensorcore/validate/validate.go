// Package validate is the sensor's validation after setup, what the field
// does after every install (docs/field-facts.md "First setup", step 5):
// the sanity lines, then whether the sensor really works where it lives:
// its gateway answers, its DNS servers answer (and know its name), its
// clock is synchronised, and each monitoring port sees traffic, OT
// protocols among it (a SPAN port that sees no OT traffic is the commonest
// site mistake).
//
// Probes go only where the sensor lives: to the gateway and DNS servers of
// the network settings it runs, and only when a network backend applied
// them. With the "none" backend (settings recorded, not applied: the demo
// and tests) the network probes report "not applied (backend none)" and
// send nothing, and the host's clock is not the sensor's to judge. It never scans: one echo to the gateway, one question to
// each DNS server.
package validate

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Status is one check's verdict.
type Status string

// Statuses, from best to worst; Report.OK is false only when a check
// failed.
const (
	StatusOK            Status = "ok"
	StatusNotApplied    Status = "not_applied"    // the network backend applies nothing (none)
	StatusNotConfigured Status = "not_configured" // nothing to check: no gateway, no DNS server
	StatusWarning       Status = "warning"        // works, but not as it should (no OT traffic, name unknown to DNS, clock unsynchronised)
	StatusFailed        Status = "failed"         // does not work
)

// Check is one check's result.
type Check struct {
	Check  string `json:"check"`            // sanity, gateway, dns, ntp, capture
	Target string `json:"target,omitempty"` // the address, server or interface checked
	Status Status `json:"status"`
	Detail string `json:"detail"`
	// Capture, for a capture check, is the port's health as the
	// monitoring engine recorded it.
	Capture *Port `json:"capture,omitempty"`
}

// Port is one monitoring port's capture health over the last minute, from
// the monitoring engine's health record.
type Port struct {
	Interface        string   `json:"interface"`
	Packets          uint64   `json:"packets"`            // since capture started
	Drops            uint64   `json:"drops"`              // kernel drops since capture started
	PacketsPerSecond float64  `json:"packets_per_second"` // over the last minute
	OTProtocols      []string `json:"ot_protocols"`       // industrial protocols seen in the last minute
	Error            string   `json:"error,omitempty"`    // capture failed on this port
}

// Report is `sensorcore validate --json` (docs/formats.md, "validate").
type Report struct {
	OK         bool      `json:"ok"`      // no check failed (warnings may stand)
	Verdict    string    `json:"verdict"` // "validated", "validated with N warning(s)" or "N problem(s)"
	SensorName string    `json:"sensor_name"`
	Generation int       `json:"generation"`
	Backend    string    `json:"network_backend"`
	At         time.Time `json:"at"`
	Checks     []Check   `json:"checks"`
}

// SanityLine is one line of `sensorcore sanity`.
type SanityLine struct {
	Component string
	Up        bool
	Detail    string
}

// Inputs are what validation looks at; the appliance gathers them.
type Inputs struct {
	SensorName string
	Generation int
	Backend    string // the network backend: none applies nothing
	Sanity     []SanityLine
	// Address is the sensor's management address, Gateway and DNS its
	// servers, Hostname its name (asked of each DNS server); all from the
	// settings it runs.
	Address  netip.Addr
	Gateway  netip.Addr
	DNS      []netip.Addr
	Hostname string
	// Monitoring says whether the daemon monitors interfaces; Ports their
	// health (nil when the engine records none yet); CaptureLine and
	// CaptureErr its summary line.
	Monitoring  bool
	Ports       []Port
	CaptureLine string
	CaptureErr  string
}

// Probes are the network questions validation asks. Tests and the
// appliance use the real ones (Default).
type Probes struct {
	Gateway func(ctx context.Context, gw netip.Addr) (time.Duration, error)
	DNS     func(ctx context.Context, server netip.Addr, name string) (DNSAnswer, error)
	Clock   func() (ClockState, error)
}

// Default are the real probes: ICMP echo, a DNS question over UDP, the
// kernel's clock state.
func Default() Probes {
	return Probes{Gateway: Ping, DNS: AskDNS, Clock: ReadClock}
}

// Run validates the sensor: every input becomes one or more checks.
func Run(ctx context.Context, in Inputs, p Probes, now time.Time) Report {
	r := Report{SensorName: in.SensorName, Generation: in.Generation, Backend: in.Backend, At: now.UTC()}
	add := func(c Check) { r.Checks = append(r.Checks, c) }
	for _, l := range in.Sanity {
		st := StatusOK
		if !l.Up {
			st = StatusFailed
		}
		add(Check{Check: "sanity", Target: l.Component, Status: st, Detail: l.Detail})
	}
	applied := in.Backend != "" && in.Backend != "none"
	notApplied := "not applied (backend " + in.Backend + "): the sensor records its network settings but does not apply them, so nothing is sent"
	if in.Backend == "" {
		notApplied = "not applied (no network backend): nothing is sent"
	}
	switch {
	case !in.Gateway.IsValid():
		add(Check{Check: "gateway", Status: StatusNotConfigured, Detail: "no default gateway in the sensor's settings"})
	case !applied:
		add(Check{Check: "gateway", Target: in.Gateway.String(), Status: StatusNotApplied, Detail: notApplied})
	default:
		rtt, err := p.Gateway(ctx, in.Gateway)
		if err != nil {
			add(Check{Check: "gateway", Target: in.Gateway.String(), Status: StatusFailed, Detail: "no answer to ping: " + err.Error() + "; check the gateway address, the cable and the switch port's VLAN"})
		} else {
			add(Check{Check: "gateway", Target: in.Gateway.String(), Status: StatusOK, Detail: fmt.Sprintf("answers ping in %s", rtt.Round(10*time.Microsecond))})
		}
	}
	switch {
	case len(in.DNS) == 0:
		add(Check{Check: "dns", Status: StatusNotConfigured, Detail: "no DNS server in the sensor's settings"})
	case !applied:
		for _, s := range in.DNS {
			add(Check{Check: "dns", Target: s.String(), Status: StatusNotApplied, Detail: notApplied})
		}
	default:
		for _, s := range in.DNS {
			add(dnsCheck(ctx, p, s, in.Hostname, in.Address))
		}
	}
	if applied {
		add(clockCheck(p))
	} else {
		add(Check{Check: "ntp", Target: "kernel clock", Status: StatusNotApplied, Detail: strings.Replace(notApplied,
			"records its network settings but does not apply them", "manages neither this host's network nor its clock", 1)})
	}
	for _, c := range captureChecks(in) {
		add(c)
	}
	var failed, warned, unchecked int
	for _, c := range r.Checks {
		switch c.Status {
		case StatusFailed:
			failed++
		case StatusWarning:
			warned++
		case StatusNotApplied, StatusNotConfigured:
			unchecked++
		}
	}
	r.OK = failed == 0
	switch {
	case failed > 0:
		r.Verdict = fmt.Sprintf("%d problem(s)", failed)
		if warned > 0 {
			r.Verdict += fmt.Sprintf(", %d warning(s)", warned)
		}
	case warned > 0:
		r.Verdict = fmt.Sprintf("validated with %d warning(s)", warned)
	default:
		r.Verdict = "validated"
	}
	if unchecked > 0 && failed == 0 {
		r.Verdict += fmt.Sprintf(" (%d check(s) not applied or not configured)", unchecked)
	}
	return r
}

func dnsCheck(ctx context.Context, p Probes, server netip.Addr, name string, self netip.Addr) Check {
	c := Check{Check: "dns", Target: server.String()}
	if name == "" {
		name = "."
	}
	a, err := p.DNS(ctx, server, name)
	switch {
	case err != nil:
		c.Status, c.Detail = StatusFailed, "no answer: "+err.Error()+"; check the DNS server's address and that it serves the sensor's network"
	case a.RCode != "NOERROR" && a.RCode != "NXDOMAIN":
		c.Status, c.Detail = StatusFailed, "answers "+a.RCode+" to a question for "+name
	case name == ".":
		c.Status, c.Detail = StatusOK, "answers (the sensor has no host name to ask it for)"
	case a.RCode == "NXDOMAIN" || len(a.Addrs) == 0:
		c.Status, c.Detail = StatusWarning, fmt.Sprintf("answers, but does not know %s: add it to the plant's DNS (the console's certificate names it)", name)
	default:
		var got []string
		match := false
		for _, ip := range a.Addrs {
			got = append(got, ip.String())
			if ip == self {
				match = true
			}
		}
		if match || !self.IsValid() {
			c.Status, c.Detail = StatusOK, fmt.Sprintf("answers: %s is %s", name, strings.Join(got, ", "))
		} else {
			c.Status, c.Detail = StatusWarning, fmt.Sprintf("answers: %s is %s, not the sensor's %s: correct the plant's DNS", name, strings.Join(got, ", "), self)
		}
	}
	return c
}

func clockCheck(p Probes) Check {
	c := Check{Check: "ntp", Target: "kernel clock"}
	st, err := p.Clock()
	switch {
	case err != nil:
		c.Status, c.Detail = StatusWarning, "the clock's state cannot be read: "+err.Error()
	case !st.Synchronised:
		c.Status, c.Detail = StatusWarning, "the clock is not synchronised by NTP: certificate and activation checks, alerts and logs rely on it; enable NTP on the sensor"
	default:
		c.Status, c.Detail = StatusOK, fmt.Sprintf("synchronised (estimated error %s)", st.MaxError.Round(time.Millisecond))
	}
	return c
}

// captureChecks is one check per monitoring port: traffic, drops, and OT
// protocols in the last minute.
func captureChecks(in Inputs) []Check {
	if !in.Monitoring {
		return []Check{{Check: "capture", Status: StatusNotConfigured,
			Detail: "no monitoring port configured: the sensor captures nothing (serve --monitor IFACE, the SPAN or TAP port)"}}
	}
	if len(in.Ports) == 0 {
		c := Check{Check: "capture", Status: StatusOK, Detail: in.CaptureLine}
		if in.CaptureErr != "" {
			c.Status, c.Detail = StatusFailed, in.CaptureErr
		} else if in.CaptureLine == "" {
			c.Status, c.Detail = StatusWarning, "the monitoring engine has not reported yet; validate again in a minute"
		}
		return []Check{c}
	}
	var out []Check
	for _, pt := range in.Ports {
		pt := pt
		c := Check{Check: "capture", Target: pt.Interface, Capture: &pt}
		stats := fmt.Sprintf("%.1f packets/s over the last minute, %d drops", pt.PacketsPerSecond, pt.Drops)
		switch {
		case pt.Error != "":
			c.Status, c.Detail = StatusFailed, "capture failed: "+pt.Error
		case pt.PacketsPerSecond == 0:
			c.Status, c.Detail = StatusWarning, "no traffic in the last minute: check the cable and the switch's SPAN (mirror) session or the TAP"
		case len(pt.OTProtocols) == 0:
			c.Status, c.Detail = StatusWarning, stats+"; no OT protocol in the last minute: is the SPAN port mirroring the OT network (the controllers' VLAN or switch ports)?"
		default:
			c.Status, c.Detail = StatusOK, stats+"; OT protocols: "+strings.Join(pt.OTProtocols, ", ")
		}
		if c.Status == StatusOK && pt.Packets > 0 && float64(pt.Drops) > 0.01*float64(pt.Packets+pt.Drops) {
			c.Status = StatusWarning
			c.Detail += fmt.Sprintf("; %.1f%% of packets dropped: the sensor cannot keep up with this port", 100*float64(pt.Drops)/float64(pt.Packets+pt.Drops))
		}
		out = append(out, c)
	}
	return out
}
