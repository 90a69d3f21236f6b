package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// LiveNetworkDiff renders the change a bundle makes against the network the
// sensor reports now (`sensorcore status --json`, its current generation's
// settings), as "- before" / "+ after" lines and "  same (unchanged)" ones.
// before is nil on a sensor that has no generation yet: it still runs its
// factory network, reached at sshAddr.
func LiveNetworkDiff(before *netconf.Network, after netconf.Network, sshAddr string) []string {
	addr := func(n netconf.Network) string {
		if p, err := n.Prefix(); err == nil {
			return p.String()
		}
		if n.Mask != "" {
			return n.Address + "/" + n.Mask
		}
		return n.Address
	}
	var d []string
	if before == nil {
		d = append(d, "- (no settings applied yet: factory network, reached at "+sshAddr+")")
		d = append(d, "+ address "+addr(after)+" on "+after.Interface)
		if after.Gateway != "" {
			d = append(d, "+ gateway "+after.Gateway)
		}
		if len(after.DNS) > 0 {
			d = append(d, "+ dns "+strings.Join(after.DNS, ", "))
		}
		if after.Hostname != "" {
			d = append(d, "+ hostname "+after.Hostname)
		}
		return d
	}
	field := func(name, was, now string) {
		switch {
		case was == now && now == "":
		case was == now:
			d = append(d, "  "+name+" "+now+" (unchanged)")
		case was == "":
			d = append(d, "+ "+name+" "+now)
		case now == "":
			d = append(d, "- "+name+" "+was)
		default:
			d = append(d, "- "+name+" "+was, "+ "+name+" "+now)
		}
	}
	field("interface", before.Interface, after.Interface)
	field("address", addr(*before), addr(after))
	field("gateway", before.Gateway, after.Gateway)
	field("dns", strings.Join(before.DNS, ", "), strings.Join(after.DNS, ", "))
	field("hostname", before.Hostname, after.Hostname)
	return d
}

// liveDiff reads the bundle's settings and the status's network and
// records the live before/after diff in the result and an event.
func (p *pusher) liveDiff(st Status, sshAddr string) error {
	b, err := bundle.ReadArchive(bytes.NewReader(p.b.Archive))
	if err != nil {
		return &PreflightError{Reason: "bundle: " + err.Error()}
	}
	var before *netconf.Network
	if len(st.Network) > 0 && string(st.Network) != "null" {
		var n netconf.Network
		if err := json.Unmarshal(st.Network, &n); err != nil {
			return &PreflightError{Reason: fmt.Sprintf("the sensor's status network is unreadable: %v", err)}
		}
		before = &n
	}
	p.res.NetworkBefore = before
	p.res.NetworkDiff = LiveNetworkDiff(before, b.Settings.Network, sshAddr)
	p.emitEvent(Event{Step: StepPreflight, Percent: 100, NetworkDiff: p.res.NetworkDiff,
		Message: "network, the sensor's live settings before and the bundle's after:\n" + strings.Join(p.res.NetworkDiff, "\n")})
	return nil
}
