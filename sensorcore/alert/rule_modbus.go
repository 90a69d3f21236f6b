package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleModbus: a Modbus write (function codes 5, 6, 15, 16, 22, 23, MB-AP
// §6) or a Diagnostics restart-communications request (08/0001, MB-AP
// §6.8.1) from a host that is not a known master. Known masters are the
// configured ones or, when none are configured, the hosts that sent Modbus
// requests during learning; while learning with none configured, every
// host is presumed a master.
func ruleModbus(e *Engine, ev *Event, learning bool) (finding, bool) {
	if ev.Proto != dissect.Modbus || (ev.Action != dissect.ActModbusWrite && ev.Action != dissect.ActModbusRestart) {
		return finding{}, false
	}
	if _, ok := e.masters[ev.Src]; ok {
		return finding{}, false
	}
	if learning && len(e.opts.ModbusMasters) == 0 {
		return finding{}, false
	}
	if ev.Action == dissect.ActModbusRestart {
		return finding{rule: "modbus-restart-unknown-master", severity: SevHigh, title: "Modbus restart from unknown master",
			text: "A host that is not a known Modbus master asked a server to restart communications.", withFunction: true}, true
	}
	return finding{rule: "modbus-write-unknown-master", severity: SevHigh, title: "Modbus write from unknown master",
		text: "A host that is not a known Modbus master wrote to a Modbus server.", withFunction: true}, true
}
