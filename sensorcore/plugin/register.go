package plugin

import (
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// Descriptor is the plugin's protocol as the registry holds it, under the
// id and action ids the registry reserved for its name and rules.
func (p *Plugin) descriptor(id uint8, actions []dissect.Action) dissect.Descriptor {
	d := dissect.Descriptor{ID: id, Name: p.Name, Title: p.Title, Industrial: true, Plugin: true,
		ClientRole: p.ClientRole, ServerRole: p.ServerRole, Functions: p.FunctionName}
	dec := func(b []byte, dir decode.Direction, r *dissect.Result) error { return p.Decode(id, b, dir, r) }
	if len(p.TCPPorts) > 0 {
		d.TCP = &dissect.TCPProtocol{Ports: p.TCPPorts, Match: p.match, Len: p.frameLen, Decode: dec}
	}
	if len(p.UDPPorts) > 0 {
		u := &dissect.UDPProtocol{Ports: p.UDPPorts, Match: p.matchPort, Decode: dec}
		if p.frame != nil {
			u.Len = p.frameLen
		}
		if len(p.signature) == 0 {
			u.PortOnly = true
		}
		d.UDP = u
	}
	if len(p.EtherTypes) > 0 {
		d.L2 = &dissect.L2Protocol{EtherTypes: p.EtherTypes, Decode: dec}
	}
	for i, r := range p.alerts {
		r.action = uint8(actions[i])
		d.Actions = append(d.Actions, dissect.ActionInfo{Action: actions[i], Name: r.title.Pick("en"),
			Alert: &dissect.ActionAlert{Rule: r.id, Severity: r.severity, Title: r.title.Pick("en"), Text: r.msg.Pick("en"), WithFunction: r.withFunction}})
	}
	for _, s := range p.counts {
		d.Counts = append(d.Counts, p.slots[s].name)
	}
	if len(d.Counts) > 0 {
		d.CountName = p.countName
	}
	d.Labels = map[string]dissect.Texts{}
	for _, s := range p.slots {
		if s.label != nil {
			d.Labels[s.name] = dissect.Texts(s.label)
		}
	}
	return d
}

// Register registers the plugin's protocol in reg, replacing an earlier
// version of the same plugin: it keeps the id (and so its counters,
// roles and classified streams) and its rules keep their action ids.
func (p *Plugin) Register(reg *dissect.Registry) (uint8, error) {
	rules := make([]string, len(p.alerts))
	for i, r := range p.alerts {
		rules[i] = r.id
	}
	id, actions, err := reg.Reserve(p.Name, rules)
	if err != nil {
		return 0, err
	}
	return id, reg.Replace(p.descriptor(id, actions))
}
