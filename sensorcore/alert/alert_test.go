package alert

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func ip(s string) decode.Addr { return addrOf(netip.MustParseAddr(s)) }

func ev(at time.Duration, src, dst string, proto uint8, fc int, act dissect.Action) *Event {
	return &Event{Time: t0.Add(at), Src: ip(src), Dst: ip(dst), Proto: proto, Function: fc, Action: act, Request: true, Unit: -1}
}

type recordSink struct{ got []Alert }

func (r *recordSink) Send(a Alert) { r.got = append(r.got, a) }

// TestAlwaysOnRules: each always-on rule fires whatever the baseline.
func TestAlwaysOnRules(t *testing.T) {
	tests := []struct {
		name string
		ev   *Event
		rule string
		sev  string
	}{
		{"s7 stop", ev(0, "192.0.2.10", "192.0.2.20", dissect.S7comm, 0x29, dissect.ActS7Stop), "s7-plc-stop", SevCritical},
		{"s7 start", ev(0, "192.0.2.10", "192.0.2.20", dissect.S7comm, 0x28, dissect.ActS7Start), "s7-plc-start", SevHigh},
		{"s7 download", ev(0, "192.0.2.10", "192.0.2.20", dissect.S7comm, 0x1a, dissect.ActS7Download), "s7-block-download", SevHigh},
		{"s7 upload", ev(0, "192.0.2.10", "192.0.2.20", dissect.S7comm, 0x1d, dissect.ActS7Upload), "s7-block-upload", SevMedium},
		{"dnp3 cold restart", ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 13, dissect.ActDNP3ColdRestart), "dnp3-cold-restart", SevHigh},
		{"dnp3 warm restart", ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 14, dissect.ActDNP3WarmRestart), "dnp3-warm-restart", SevHigh},
		{"dnp3 stop application", ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 18, dissect.ActDNP3StopApp), "dnp3-stop-application", SevHigh},
		{"dnp3 direct operate", ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 5, dissect.ActDNP3DirectOperate), "dnp3-direct-operate", SevHigh},
		{"dnp3 select", ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 3, dissect.ActDNP3Select), "dnp3-select", SevMedium},
		{"dnp3 operate", ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 4, dissect.ActDNP3Operate), "dnp3-operate", SevHigh},
		{"cip firmware transfer", ev(0, "192.0.2.1", "192.0.2.2", dissect.ENIP, 0x4d, dissect.ActCIPFirmware), "cip-firmware-transfer", SevCritical},
		{"s7 stop notification", ev(0, "192.0.2.20", "192.0.2.10", dissect.S7comm, -1, dissect.ActS7Stopped), "s7-plc-stop", SevCritical},
		{"iec104 command", ev(0, "192.0.2.1", "192.0.2.2", dissect.IEC104, 45, dissect.ActIEC104Command), "iec104-command", SevHigh},
		{"cip reset", ev(0, "192.0.2.1", "192.0.2.2", dissect.ENIP, 5, dissect.ActCIPReset), "cip-reset", SevHigh},
		{"cip start", ev(0, "192.0.2.1", "192.0.2.2", dissect.ENIP, 6, dissect.ActCIPStart), "cip-start", SevHigh},
		{"cip stop", ev(0, "192.0.2.1", "192.0.2.2", dissect.ENIP, 7, dissect.ActCIPStop), "cip-stop", SevCritical},
		{"malformed", &Event{Time: t0, Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), Proto: dissect.Modbus, Function: -1, Malformed: true, Unit: -1}, "malformed-pdu", SevMedium},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordSink{}
			e := New(Options{Sink: sink}) // learning forever: only always-on rules
			e.Observe(tc.ev)
			e.Observe(tc.ev) // a repeat is counted, not raised again
			as := e.Alerts()
			if len(as) != 1 || as[0].Rule != tc.rule || as[0].Severity != tc.sev || as[0].Count != 2 || as[0].Status != StatusNew {
				t.Fatalf("alerts %+v", as)
			}
			if len(sink.got) != 1 {
				t.Fatalf("sink got %d alerts", len(sink.got))
			}
			if as[0].Src != "192.0.2."+as[0].Src[len("192.0.2."):] || as[0].Message == "" {
				t.Fatalf("evidence missing: %+v", as[0])
			}
		})
	}
	// Reads are never alerted by the always-on rules.
	e := New(Options{})
	e.Observe(ev(0, "192.0.2.1", "192.0.2.2", dissect.Modbus, 3, dissect.ActNone))
	if n := len(e.Alerts()); n != 0 {
		t.Fatalf("a read raised %d alerts", n)
	}
}

func TestModbusMasters(t *testing.T) {
	e := New(Options{Learning: time.Hour})
	e.Observe(ev(0, "192.0.2.1", "192.0.2.2", dissect.Modbus, 16, dissect.ActModbusWrite))
	if len(e.Alerts()) != 0 {
		t.Fatal("a write during learning without configured masters alerted")
	}
	e.Observe(ev(2*time.Hour, "192.0.2.1", "192.0.2.2", dissect.Modbus, 16, dissect.ActModbusWrite))
	if len(e.Alerts()) != 0 {
		t.Fatalf("the learned master alerted: %+v", e.Alerts())
	}
	w := ev(3*time.Hour, "192.0.2.66", "192.0.2.2", dissect.Modbus, 16, dissect.ActModbusWrite)
	w.Unit = 7
	e.Observe(w)
	var rules []string
	for _, a := range e.Alerts() {
		rules = append(rules, a.Rule)
	}
	want := map[string]bool{"new-device": true, "new-protocol": true, "new-connection": true, "new-function": true, "modbus-write-unknown-master": true}
	if len(rules) != len(want) {
		t.Fatalf("rules %v", rules)
	}
	for _, r := range rules {
		if !want[r] {
			t.Fatalf("unexpected rule %s in %v", r, rules)
		}
	}
	for _, a := range e.Alerts() {
		if a.Rule == "modbus-write-unknown-master" && !strings.HasSuffix(a.Message, "(src=192.0.2.66 dst=192.0.2.2 protocol=modbus function=16 unit=7)") {
			t.Fatalf("evidence: %q", a.Message)
		}
	}
	// configured masters apply during learning too
	e = New(Options{Learning: time.Hour, ModbusMasters: []netip.Addr{netip.MustParseAddr("192.0.2.1")}})
	e.Observe(ev(0, "192.0.2.1", "192.0.2.2", dissect.Modbus, 8, dissect.ActModbusRestart))
	e.Observe(ev(0, "192.0.2.9", "192.0.2.2", dissect.Modbus, 8, dissect.ActModbusRestart))
	if as := e.Alerts(); len(as) != 1 || as[0].Rule != "modbus-restart-unknown-master" || as[0].Src != "192.0.2.9" {
		t.Fatalf("alerts %+v", as)
	}
}

func TestBaselineDeviations(t *testing.T) {
	e := New(Options{Learning: time.Hour})
	e.Observe(ev(0, "192.0.2.1", "192.0.2.2", dissect.DNP3, 1, dissect.ActNone))
	if !e.Learning(t0.Add(time.Minute)) || e.Learning(t0.Add(2*time.Hour)) {
		t.Fatal("learning window")
	}
	e.Observe(ev(2*time.Hour, "192.0.2.1", "192.0.2.2", dissect.DNP3, 1, dissect.ActNone))
	if len(e.Alerts()) != 0 {
		t.Fatalf("baseline traffic alerted: %+v", e.Alerts())
	}
	e.Observe(ev(2*time.Hour, "192.0.2.1", "192.0.2.2", dissect.DNP3, 2, dissect.ActNone))
	e.Observe(ev(2*time.Hour, "192.0.2.1", "192.0.2.3", dissect.DNP3, 1, dissect.ActNone))
	got := map[string]int{}
	for _, a := range e.Alerts() {
		got[a.Rule]++
	}
	if got["new-function"] != 2 || got["new-connection"] != 1 || got["new-device"] != 0 {
		t.Fatalf("deviations %v", got)
	}
	// the baseline survives a round trip through its record
	rec := e.Baseline().Record()
	e2 := New(Options{Learning: time.Hour})
	e2.Baseline().Load(rec)
	e2.Observe(ev(3*time.Hour, "192.0.2.1", "192.0.2.2", dissect.DNP3, 1, dissect.ActNone))
	if len(e2.Alerts()) != 0 {
		t.Fatalf("restored baseline forgot: %+v", e2.Alerts())
	}
}

func TestAckAndRestore(t *testing.T) {
	e := New(Options{MaxAlerts: 2})
	for i := 0; i < 3; i++ {
		e.Observe(ev(time.Duration(i), "192.0.2.1", "192.0.2.2", dissect.IEC104, 45+i, dissect.ActIEC104Command))
	}
	as := e.Alerts()
	if len(as) != 2 || as[0].ID != 2 || e.Dropped != 1 {
		t.Fatalf("bounded alerts %+v", as)
	}
	if err := e.Ack(3); err != nil {
		t.Fatal(err)
	}
	if err := e.Ack(1); !errors.Is(err, ErrNoSuchAlert) {
		t.Fatalf("ack of dropped alert: %v", err)
	}
	e2 := New(Options{})
	e2.Restore(e.Alerts())
	e2.Observe(ev(time.Hour, "192.0.2.1", "192.0.2.2", dissect.IEC104, 47, dissect.ActIEC104Command))
	e2.Observe(ev(time.Hour, "192.0.2.1", "192.0.2.2", dissect.IEC104, 50, dissect.ActIEC104Command))
	as = e2.Alerts()
	if len(as) != 3 || as[1].Status != StatusAcknowledged || as[1].Count != 2 || as[2].ID != 4 {
		t.Fatalf("restored alerts %+v", as)
	}
}

// TestObserveNoAlloc: repeated known traffic does not allocate.
func TestObserveNoAlloc(t *testing.T) {
	e := New(Options{Learning: time.Hour})
	x := ev(0, "192.0.2.1", "192.0.2.2", dissect.Modbus, 3, dissect.ActNone)
	e.Observe(x)
	y := ev(2*time.Hour, "192.0.2.1", "192.0.2.2", dissect.Modbus, 3, dissect.ActNone)
	z := ev(2*time.Hour, "192.0.2.1", "192.0.2.2", dissect.S7comm, 0x29, dissect.ActS7Stop)
	e.Observe(z)
	if n := testing.AllocsPerRun(100, func() { e.Observe(x); e.Observe(y); e.Observe(z) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestFirmwareChanged: the rule names both versions in its message and a
// repeat counts on the same alert.
func TestFirmwareChanged(t *testing.T) {
	sink := &recordSink{}
	e := New(Options{Sink: sink})
	r := ev(0, "192.0.2.20", "192.0.2.10", dissect.S7comm, 0x04, dissect.ActNone)
	e.FirmwareChanged(r, "V3.2.6", "V3.3.1")
	e.FirmwareChanged(r, "V3.2.6", "V3.3.1")
	as := e.Alerts()
	if len(as) != 1 || len(sink.got) != 1 {
		t.Fatalf("%d alerts, %d sent", len(as), len(sink.got))
	}
	a := as[0]
	if a.Rule != "firmware-changed" || a.Severity != SevHigh || a.Count != 2 || a.Src != "192.0.2.20" || a.Protocol != "s7comm" ||
		!strings.Contains(a.Message, `"V3.3.1"`) || !strings.Contains(a.Message, `"V3.2.6"`) {
		t.Fatalf("alert %+v", a)
	}
}
