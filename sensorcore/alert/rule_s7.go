package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleS7: S7comm PLC stop (function 0x29), PLC start (PI service
// P_PROGRAM), block download (request download 0x1A) or upload (start
// upload 0x1D), always (s7comm.c function names). Firmware updates have no
// classic S7comm function code or PI service of their own: their result is
// caught by firmware-changed (rule_firmware.go).
func ruleS7(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if ev.Proto != dissect.S7comm {
		return finding{}, false
	}
	switch ev.Action {
	case dissect.ActS7Stop:
		return finding{rule: "s7-plc-stop", severity: SevCritical, title: "S7 PLC stop",
			text: "A client told an S7 PLC to stop its program."}, true
	case dissect.ActS7Start:
		return finding{rule: "s7-plc-start", severity: SevHigh, title: "S7 PLC start",
			text: "A client told an S7 PLC to start its program."}, true
	case dissect.ActS7Download:
		return finding{rule: "s7-block-download", severity: SevHigh, title: "S7 block download",
			text: "A client downloaded a program block to an S7 PLC."}, true
	case dissect.ActS7Upload:
		return finding{rule: "s7-block-upload", severity: SevMedium, title: "S7 block upload",
			text: "A client uploaded a program block from an S7 PLC."}, true
	}
	return finding{}, false
}
