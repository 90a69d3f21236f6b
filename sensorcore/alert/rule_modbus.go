package alert

import "github.com/tapline/tapline/sensorcore/dissect"

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
func ruleModbus(e *Engine, ev *Event, learning bool) (finding, bool) {
	if ev.Proto != dissect.Modbus || ev.Malformed || (ev.Action != dissect.ActModbusWrite && ev.Action != dissect.ActModbusRestart) {
		return finding{}, false
	}
	if ev.Action == dissect.ActModbusWrite {
		if learning {
			e.base.writes.learn(ev)
			if _, ok := e.masters[ev.Src]; ok || len(e.opts.ModbusMasters) == 0 {
				return finding{}, false
			}
			return finding{rule: "modbus-write-unknown-master", severity: SevHigh, title: "Modbus write from unknown master",
				text: "A host that is not a configured Modbus master wrote to a Modbus server.", withFunction: true}, true
		}
		return e.writeFinding(ev)
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
