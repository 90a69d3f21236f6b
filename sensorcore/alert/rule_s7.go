package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleS7: S7comm PLC stop (function 0x29), PLC start (PI service
// P_PROGRAM), block download (0x1A/0x1B) or upload (0x1D), and firmware
// update, always (s7comm.c function names).
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
	case dissect.ActS7Firmware:
		return finding{rule: "s7-firmware-update", severity: SevCritical, title: "S7 firmware update",
			text: "A client started a firmware update on an S7 PLC."}, true
	}
	return finding{}, false
}
