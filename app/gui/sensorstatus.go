package gui

import (
	"fmt"

	"github.com/tapline/tapline/provision"
)

// statusLines says what the sensor's status reported at the end of its
// push about its monitored devices (against the activation's licensed
// count) and its site uplink: one line each, nil when it reported neither
// (a sensor that does not monitor yet, no uplink configured).
func statusLines(r provision.Result) []string {
	var out []string
	if d := r.Devices; d != nil {
		plan := ""
		if d.Plan != "" {
			plan = " (" + d.Plan + ")"
		}
		switch {
		case d.Over():
			out = append(out, fmt.Sprintf("Devices: %d discovered, over the %d the licence%s covers: ask for a larger plan.", d.Discovered, d.Licensed, plan))
		case d.Licensed > 0:
			out = append(out, fmt.Sprintf("Devices: %d discovered of %d licensed%s.", d.Discovered, d.Licensed, plan))
		default:
			out = append(out, fmt.Sprintf("Devices: %d discovered; no licensed count (not activated).", d.Discovered))
		}
	}
	if u := r.Uplink; u != nil {
		switch {
		case u.Connected:
			out = append(out, fmt.Sprintf("Uplink: streaming to %s; %d waiting, %d operations dropped.", u.Server, u.Outbox, u.Dropped))
		case u.Error != "":
			out = append(out, fmt.Sprintf("Uplink: not connected (%s); %d waiting in the outbox, %d operations dropped.", u.Error, u.Outbox, u.Dropped))
		default:
			out = append(out, fmt.Sprintf("Uplink: not connected yet; %d waiting in the outbox, %d operations dropped.", u.Outbox, u.Dropped))
		}
	}
	return out
}

// statusShort is statusLines for a table cell: "212/500 devices, uplink
// up"; "" when the sensor reported neither.
func statusShort(r provision.Result) string {
	s := ""
	if d := r.Devices; d != nil {
		s = fmt.Sprintf("%d devices", d.Discovered)
		if d.Licensed > 0 {
			s = fmt.Sprintf("%d/%d devices", d.Discovered, d.Licensed)
		}
		if d.Over() {
			s += " (over licence)"
		}
	}
	if u := r.Uplink; u != nil {
		if s != "" {
			s += ", "
		}
		if u.Connected {
			s += "uplink up"
		} else {
			s += "uplink down"
		}
	}
	return s
}
