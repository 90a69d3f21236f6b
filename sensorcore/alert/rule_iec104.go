package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleIEC104: a process command (C_SC, C_DC, C_RC, C_SE, C_BO, with or
// without time tag: type ids 45-51 and 58-64) or reset-process command
// (105) in activation, IEC 60870-5-101 §7.2.1.1.
func ruleIEC104(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if ev.Proto != dissect.IEC104 || ev.Action != dissect.ActIEC104Command {
		return finding{}, false
	}
	return finding{rule: "iec104-command", severity: SevHigh, title: "IEC-104 command",
		text: "A controlling station sent a command to a controlled station.", withFunction: true}, true
}
