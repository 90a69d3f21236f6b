package monitor

import (
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// PortWindow is how far back a monitoring port's health looks: packets/s
// and the industrial protocols seen are over the last minute.
const PortWindow = 60

// PortHealth is one monitoring port's capture health (`sensorcore
// validate`, through the engine's health record): traffic and drops, and
// the industrial protocols seen in the last minute. A SPAN port that sees
// traffic but no OT protocol is the commonest site mistake.
type PortHealth struct {
	Interface        string   `json:"interface"`
	Packets          uint64   `json:"packets"`            // since capture started
	Drops            uint64   `json:"drops"`              // kernel drops since capture started
	PacketsPerSecond float64  `json:"packets_per_second"` // over the last minute (or since capture started)
	OTProtocols      []string `json:"ot_protocols"`       // industrial protocols seen in the last minute
	Error            string   `json:"error,omitempty"`    // capture failed on this port
}

// port is one live monitoring port's counters, kept under Monitor.mu.
type port struct {
	name    string
	drops   func() uint64 // the kernel's drop count
	live    *capture.Live
	started int64 // unix seconds
	packets uint64
	err     string
	// per second of the last minute (by the capture timestamp): the
	// second it counts and its packets
	secs [PortWindow]struct {
		sec int64
		n   uint32
	}
	// the second each protocol id was last seen on this port
	seen [dissect.MaxProtocols]int64
}

// count records one packet at unix second s.
func (p *port) count(s int64) {
	p.packets++
	b := &p.secs[s%PortWindow]
	if b.sec != s {
		b.sec, b.n = s, 0
	}
	b.n++
}

// packetOn runs one frame from port p through the pipeline; the PDUs it
// yields are counted as seen on p.
func (m *Monitor) packetOn(p *port, data []byte, ci capture.Info) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := ci.Timestamp().Unix()
	if ci.UnixNano == 0 {
		s = time.Now().Unix()
	}
	p.count(s)
	m.cur = p
	defer func() { m.cur = nil }()
	m.pipe.refresh()
	m.pipe.Packet(data, ci)
}

// seenOn notes that a PDU of protocol id arrived on the port being read.
func (m *Monitor) seenOn(id uint8, ts int64) {
	if m.cur != nil && int(id) < len(m.cur.seen) {
		m.cur.seen[id] = unixSeconds(ts)
	}
}

// unixSeconds is time.Unix(0, ts).Unix(): the whole seconds of ts, in Unix
// nanoseconds, rounded down.
func unixSeconds(ts int64) int64 {
	s := ts / 1e9
	if ts%1e9 < 0 {
		s--
	}
	return s
}

// Ports returns the health of each live monitoring port, as of now.
func (m *Monitor) Ports(now time.Time) []PortHealth {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := now.Unix()
	snap := m.pipe.snap
	var out []PortHealth
	for _, p := range m.ports {
		h := PortHealth{Interface: p.name, Packets: p.packets, Drops: p.drops(), Error: p.err, OTProtocols: []string{}}
		var n uint64
		for _, b := range p.secs {
			if b.sec > t-PortWindow && b.sec <= t {
				n += uint64(b.n)
			}
		}
		span := min(max(t-p.started, 1), PortWindow)
		h.PacketsPerSecond = float64(n) / float64(span)
		for _, id := range snap.Industrial {
			if s := p.seen[id]; s > t-PortWindow && s != 0 {
				if d := snap.Protocol(id); d != nil {
					h.OTProtocols = append(h.OTProtocols, d.Name)
				}
			}
		}
		out = append(out, h)
	}
	return out
}
