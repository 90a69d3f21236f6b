// Package siteview is the laptop's view of a site (docs/site.md): it
// reads the site's streams from its NATS JetStream servers and merges
// what every sensor streams into one model: the sensors and their
// health, one asset table across sensors (an asset seen by two sensors is
// one row naming both), the alerts of all sensors with the operators'
// acknowledgements, and the operations log. The Site screen and
// `tapline site status|assets|alerts|events` both read it; it knows
// nothing of widgets or terminals.
package siteview

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tapline/tapline/sensorcore/site"
)

// Sensor is one sensor as the site sees it.
type Sensor struct {
	Name     string       `json:"name"`
	Status   *site.Status `json:"status,omitempty"`
	Health   *site.Health `json:"health,omitempty"`
	LastSeen time.Time    `json:"last_seen"` // the newest message it sent
}

// Asset is one device across the site's sensors.
type Asset struct {
	site.Asset
	Sensors []string `json:"sensors"` // every sensor that sees it
}

// Alert is one sensor's alert with the site's acknowledgement.
type Alert struct {
	Sensor string `json:"sensor"`
	site.Alert
	Ack *site.Ack `json:"ack,omitempty"` // an operator acknowledged it from the site view
}

// Acknowledged reports whether the sensor or an operator acknowledged it.
func (a Alert) Acknowledged() bool { return a.Status == "acknowledged" || a.Ack != nil }

// Operation is one operation, with every sensor that logged it (two
// sensors on one link log the same operation under the same id).
type Operation struct {
	site.Operation
	Sensors []string        `json:"sensors"`
	Raw     json.RawMessage `json:"record"`
}

// Model is a site's merged state. It is safe for concurrent use.
type Model struct {
	mu      sync.Mutex
	site    string
	sensors map[string]*Sensor
	assets  map[string]map[string]site.Asset // asset id -> sensor -> asset
	alerts  map[string]*Alert                // sensor + key
	acks    map[string]*site.Ack             // sensor + key
	ops     []*Operation
	opIndex map[string]*Operation
	maxOps  int
	// Dropped counts operations sensors reported dropped by their outbox.
	dropped uint64
	// received counts the operations merged since the model was made
	// (each once, whatever sensors logged it).
	received uint64
	// Refused counts messages that did not decode (a wrong type, another
	// sensor's name on a subject): never merged.
	refused int
}

// NewModel makes an empty model of the site, keeping at most maxOps
// operations (the newest; default 100,000).
func NewModel(siteName string, maxOps int) *Model {
	if maxOps <= 0 {
		maxOps = 100000
	}
	return &Model{site: siteName, sensors: map[string]*Sensor{}, assets: map[string]map[string]site.Asset{},
		alerts: map[string]*Alert{}, acks: map[string]*site.Ack{}, opIndex: map[string]*Operation{}, maxOps: maxOps}
}

// Apply merges one message; it reports false when the message is not a
// sensor's message of this site or does not decode.
func (m *Model) Apply(subject string, data []byte) bool {
	p, ok := site.Parse(subject)
	if !ok || p.Site != m.site {
		m.mu.Lock()
		m.refused++
		m.mu.Unlock()
		return false
	}
	v, err := site.Decode(p, data)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.refused++
		return false
	}
	s := m.sensors[p.Sensor]
	if s == nil && p.Kind != site.KindAck {
		s = &Sensor{Name: p.Sensor}
		m.sensors[p.Sensor] = s
	}
	seen := func(t time.Time) {
		if t.After(s.LastSeen) {
			s.LastSeen = t
		}
	}
	switch x := v.(type) {
	case *site.Status:
		s.Status = x
		seen(x.Time)
	case *site.Health:
		s.Health = x
		seen(x.Time)
	case *site.AssetMessage:
		by := m.assets[x.Asset.ID]
		if by == nil {
			by = map[string]site.Asset{}
			m.assets[x.Asset.ID] = by
		}
		by[p.Sensor] = x.Asset
		seen(x.Time)
	case *site.AlertMessage:
		a := &Alert{Sensor: p.Sensor, Alert: x.Alert, Ack: m.acks[p.Sensor+"/"+p.Key]}
		m.alerts[p.Sensor+"/"+p.Key] = a
		seen(x.Time)
	case *site.Ack:
		m.acks[p.Sensor+"/"+p.Key] = x
		if a := m.alerts[p.Sensor+"/"+p.Key]; a != nil {
			a.Ack = x
		}
	case *site.Ops:
		m.dropped += x.Dropped
		for _, r := range x.Operations {
			var o site.Operation
			if json.Unmarshal(r, &o) != nil || o.ID == "" {
				m.refused++
				continue
			}
			if e := m.opIndex[o.ID]; e != nil {
				if !contains(e.Sensors, p.Sensor) {
					e.Sensors = append(e.Sensors, p.Sensor)
				}
				continue
			}
			op := &Operation{Operation: o, Sensors: []string{p.Sensor}, Raw: append(json.RawMessage(nil), r...)}
			m.received++
			m.ops = append(m.ops, op)
			m.opIndex[o.ID] = op
		}
		if len(m.ops) > m.maxOps {
			for _, o := range m.ops[:len(m.ops)-m.maxOps] {
				delete(m.opIndex, o.ID)
			}
			m.ops = append([]*Operation(nil), m.ops[len(m.ops)-m.maxOps:]...)
		}
		seen(x.Time)
	}
	return true
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Sensors returns every sensor, by name.
func (m *Model) Sensors() []Sensor {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Sensor, 0, len(m.sensors))
	for _, s := range m.sensors {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Assets returns one row per device across the sensors, by id: the
// union of what each sensor knows (protocols, roles, addresses), the
// identity any of them saw, the earliest first and latest last seen.
func (m *Model) Assets() []Asset {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Asset, 0, len(m.assets))
	for id, by := range m.assets {
		var a Asset
		a.ID = id
		names := make([]string, 0, len(by))
		for n := range by {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			x := by[n]
			a.Sensors = append(a.Sensors, n)
			a.IPs = union(a.IPs, x.IPs)
			a.Protocols = union(a.Protocols, x.Protocols)
			a.Roles = union(a.Roles, x.Roles)
			a.Router = a.Router || x.Router
			for _, f := range []struct{ dst, src *string }{{&a.MAC, &x.MAC}, {&a.Vendor, &x.Vendor}, {&a.Hostname, &x.Hostname},
				{&a.Identity.Vendor, &x.Identity.Vendor}, {&a.Identity.Model, &x.Identity.Model}, {&a.Identity.Firmware, &x.Identity.Firmware},
				{&a.Identity.Serial, &x.Identity.Serial}, {&a.Identity.Name, &x.Identity.Name}} {
				if *f.dst == "" {
					*f.dst = *f.src
				}
			}
			if a.FirstSeen.IsZero() || x.FirstSeen.Before(a.FirstSeen) {
				a.FirstSeen = x.FirstSeen
			}
			if x.LastSeen.After(a.LastSeen) {
				a.LastSeen = x.LastSeen
			}
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func union(a, b []string) []string {
	for _, x := range b {
		if !contains(a, x) {
			a = append(a, x)
		}
	}
	sort.Strings(a)
	return a
}

// AlertFilter selects alerts; zero values select everything.
type AlertFilter struct {
	Sensor      string
	MinSeverity string // low, medium, high, critical
	Open        bool   // only those nobody acknowledged
	Text        string // in the title, message, rule or addresses
}

var severityRank = map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}

// Alerts returns the alerts f selects, newest first.
func (m *Model) Alerts(f AlertFilter) []Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Alert
	for _, a := range m.alerts {
		switch {
		case f.Sensor != "" && a.Sensor != f.Sensor,
			f.MinSeverity != "" && severityRank[a.Severity] < severityRank[f.MinSeverity],
			f.Open && a.Acknowledged(),
			f.Text != "" && !strings.Contains(strings.ToLower(a.Title+" "+a.Message+" "+a.Rule+" "+a.Src+" "+a.Dst), strings.ToLower(f.Text)):
			continue
		}
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		return out[i].Sensor+out[i].Key < out[j].Sensor+out[j].Key
	})
	return out
}

// Operations returns the operations where device (an IP address, or
// empty for all) is the client or the server, oldest first, at most max
// (the newest; 0: all).
func (m *Model) Operations(device string, max int) []Operation {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Operation
	for _, o := range m.ops {
		if device == "" || o.Client.IP == device || o.Server.IP == device {
			out = append(out, *o)
		}
	}
	if max > 0 && len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}

// Licence is the site's devices against its licence.
type Licence struct {
	Discovered int  `json:"discovered"` // devices across the site, each counted once
	Licensed   int  `json:"licensed"`   // the sensors' licences together, or the site's own
	Over       bool `json:"over"`
}

// Licence counts the site's devices (each once, whichever sensors see
// it) against siteLicensed, or when that is 0 the sum of the sensors'
// licensed counts.
func (m *Model) Licence(siteLicensed int) Licence {
	m.mu.Lock()
	l := Licence{Discovered: len(m.assets), Licensed: siteLicensed}
	if l.Licensed == 0 {
		for _, s := range m.sensors {
			if s.Status != nil {
				l.Licensed += s.Status.Devices.Licensed
			}
		}
	}
	m.mu.Unlock()
	l.Over = l.Licensed > 0 && l.Discovered > l.Licensed
	return l
}

// Counts says how much the model holds and how much it refused.
func (m *Model) Counts() (sensors, assets, alerts, ops, refused int, dropped uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sensors), len(m.assets), len(m.alerts), len(m.ops), m.refused, m.dropped
}

// Received is how many operations the model merged since it was made,
// each once (it keeps only the newest maxOps).
func (m *Model) Received() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.received
}
