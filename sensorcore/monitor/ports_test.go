package monitor

import (
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/dissect"
)

// A port's health looks back one minute: packets/s over the seconds seen,
// the industrial protocols seen in that minute (IT ones never count), and
// both age out.
func TestPortHealthWindow(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	p := &port{name: "mon0", drops: func() uint64 { return 7 }, started: t0.Unix()}
	m.ports = []*port{p}
	for s := int64(0); s < 10; s++ {
		for i := 0; i < 50; i++ {
			p.count(t0.Unix() + s)
		}
	}
	m.cur = p
	m.seenOn(dissect.Modbus, t0.Add(5*time.Second).UnixNano())
	m.seenOn(dissect.DNS, t0.Add(5*time.Second).UnixNano())
	m.cur = nil
	m.seenOn(dissect.S7comm, t0.UnixNano()) // no port reading: not counted anywhere
	h := m.Ports(t0.Add(10 * time.Second))
	if len(h) != 1 || h[0].Interface != "mon0" || h[0].Packets != 500 || h[0].Drops != 7 || h[0].PacketsPerSecond != 50 ||
		len(h[0].OTProtocols) != 1 || h[0].OTProtocols[0] != "modbus" {
		t.Fatalf("after 10 s: %+v", h)
	}
	h = m.Ports(t0.Add(90 * time.Second))
	if h[0].PacketsPerSecond != 0 || len(h[0].OTProtocols) != 0 || h[0].Packets != 500 {
		t.Fatalf("a minute later: %+v", h)
	}
}

// TestUnixSeconds: the whole seconds of a time in Unix nanoseconds are
// time.Time's, before 1970 too.
func TestUnixSeconds(t *testing.T) {
	for _, ts := range []int64{0, 1, 999_999_999, 1e9, 1577836800_123456789, -1, -1e9, -1e9 - 1, -1577836800_123456789} {
		if got, want := unixSeconds(ts), time.Unix(0, ts).Unix(); got != want {
			t.Errorf("unixSeconds(%d) = %d, want %d", ts, got, want)
		}
	}
}
