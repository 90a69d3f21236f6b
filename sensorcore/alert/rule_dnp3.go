package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleDNP3: cold restart (13), warm restart (14), stop application (18)
// and direct operate without select (5, 6), IEEE 1815-2012 table 4-5.
func ruleDNP3(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if ev.Proto != dissect.DNP3 {
		return finding{}, false
	}
	switch ev.Action {
	case dissect.ActDNP3ColdRestart:
		return finding{rule: "dnp3-cold-restart", severity: SevHigh, title: "DNP3 cold restart",
			text: "A master told an outstation to restart cold."}, true
	case dissect.ActDNP3WarmRestart:
		return finding{rule: "dnp3-warm-restart", severity: SevHigh, title: "DNP3 warm restart",
			text: "A master told an outstation to restart warm."}, true
	case dissect.ActDNP3StopApp:
		return finding{rule: "dnp3-stop-application", severity: SevHigh, title: "DNP3 stop application",
			text: "A master told an outstation to stop an application."}, true
	case dissect.ActDNP3DirectOperate:
		return finding{rule: "dnp3-direct-operate", severity: SevMedium, title: "DNP3 direct operate without select",
			text: "A master operated an output without select-before-operate.", withFunction: true}, true
	}
	return finding{}, false
}
