package monitor

import (
	"strconv"

	"github.com/tapline/tapline/sensorcore/dissect"
)

// ProtocolReport is one protocol's counts in the analyze output contract.
type ProtocolReport struct {
	PDUs uint64 `json:"pdus"`
	// Functions is keyed by the decimal function, service or type code.
	Functions map[string]uint64 `json:"functions"`
	Malformed uint64            `json:"malformed"`
	// MalformedByPlugin counts the malformed PDUs a plugin gave up on at
	// one of its bounds (plugin protocols only; they are in Malformed too).
	MalformedByPlugin uint64 `json:"malformed_by_plugin,omitempty"`
	// Fields counts the values of a plugin's counted fields, by field and
	// value ("type": {"HEL": 2, "MSG": 14}).
	Fields map[string]map[string]uint64 `json:"fields,omitempty"`
}

// protocolReports converts counters into the contract's "protocols" map,
// one key per industrial protocol, present even when zero.
func protocolReports(c *[dissect.MaxProtocols]dissect.Counter) map[string]ProtocolReport {
	return reports(c, dissect.Industrial())
}

// allProtocolReports adds the IT protocols (DHCP, DNS, NTP, TLS, HTTP) for
// Stats.
func allProtocolReports(c *[dissect.MaxProtocols]dissect.Counter) map[string]ProtocolReport {
	var ids []uint8
	for _, d := range dissect.Default().Snapshot().Protocols() {
		ids = append(ids, d.ID)
	}
	return reports(c, ids)
}

func reports(c *[dissect.MaxProtocols]dissect.Counter, ids []uint8) map[string]ProtocolReport {
	out := make(map[string]ProtocolReport, len(ids))
	snap := dissect.Default().Snapshot()
	for _, id := range ids {
		pr := ProtocolReport{PDUs: c[id].PDUs, Malformed: c[id].Malformed, MalformedByPlugin: c[id].PluginLimit, Functions: map[string]uint64{}}
		for fc, n := range c[id].Functions {
			if n > 0 {
				pr.Functions[strconv.Itoa(fc)] = n
			}
		}
		for fc, n := range c[id].Wide {
			pr.Functions[strconv.Itoa(fc)] = n
		}
		if d := snap.Protocol(id); d != nil && len(d.Counts) > 0 {
			pr.Fields = map[string]map[string]uint64{}
			for _, name := range d.Counts {
				pr.Fields[name] = map[string]uint64{}
			}
			for k, n := range c[id].Tally {
				if int(k.Field) < len(d.Counts) && d.CountName != nil {
					pr.Fields[d.Counts[k.Field]][d.CountName(int(k.Field), k.Value)] += n
				}
			}
		}
		out[dissect.Name(id)] = pr
	}
	return out
}
