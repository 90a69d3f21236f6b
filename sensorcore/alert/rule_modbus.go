package alert

import (
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// ruleModbus: a Modbus write (function codes 5, 6, 15, 16, 22, 23, MB-AP
// §6) or a Diagnostics restart-communications request (08/0001, MB-AP
// §6.8.1).
//
// Writes: while learning, every write is recorded (client, server and
// unit, address ranges) and raises nothing, except from a host that is not
// a configured master when masters are configured. After learning, a
// write raises modbus-write-unknown-master when its client did not write
// during learning and is not configured, modbus-write-new-unit when it
// writes to a server or unit it did not write to, and
// modbus-write-new-range when it writes addresses outside what was
// written to that unit (writeFinding).
//
// Restarts: from a host that is not a known master (configured, or, when
// none are configured, a host that sent Modbus requests during learning).
//
// f is the event's Flow, nil when it has none: its memo of the write
// baseline (writeMemo) answers for writes the baseline already holds.
func ruleModbus(e *Engine, ev *Event, learning bool, f *Flow) (finding, bool) {
	if ev.Proto != dissect.Modbus || ev.Malformed || (ev.Action != dissect.ActModbusWrite && ev.Action != dissect.ActModbusRestart) {
		return finding{}, false
	}
	if ev.Action == dissect.ActModbusWrite {
		var m *writeMemo
		if f != nil {
			m = &f.writes
		}
		held := m != nil && m.covers(ev.Unit, ev.Function, ev.Address, ev.Quantity)
		if learning {
			if !held {
				e.base.writes.learn(ev, m)
			}
			if len(e.opts.ModbusMasters) == 0 || e.configuredMaster(ev.Src) {
				return finding{}, false
			}
			return finding{rule: "modbus-write-unknown-master", severity: SevHigh, title: "Modbus write from unknown master",
				text: "A host that is not a configured Modbus master wrote to a Modbus server.", withFunction: true}, true
		}
		if held {
			return finding{}, false // the baseline holds it: no deviation
		}
		return e.writeFinding(ev, m)
	}
	if _, ok := e.masters[ev.Src]; ok {
		return finding{}, false
	}
	if learning && len(e.opts.ModbusMasters) == 0 {
		return finding{}, false
	}
	return finding{rule: "modbus-restart-unknown-master", severity: SevHigh, title: "Modbus restart from unknown master",
		text: "A host that is not a known Modbus master asked a server to restart communications.", withFunction: true}, true
}

// configuredMaster reports whether src is one of Options.ModbusMasters
// (the map is not consulted when none are configured: no hashing of the
// address for every write).
func (e *Engine) configuredMaster(src decode.Addr) bool {
	if len(e.opts.ModbusMasters) == 0 {
		return false
	}
	_, ok := e.masters[src]
	return ok
}
