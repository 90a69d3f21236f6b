package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleCIP: CIP Reset (0x05), Start (0x06) or Stop (0x07) requests, CIP
// Vol 1 appendix A table.
func ruleCIP(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if ev.Proto != dissect.ENIP {
		return finding{}, false
	}
	switch ev.Action {
	case dissect.ActCIPReset:
		return finding{rule: "cip-reset", severity: SevHigh, title: "CIP reset",
			text: "A scanner sent a CIP Reset service."}, true
	case dissect.ActCIPStart:
		return finding{rule: "cip-start", severity: SevHigh, title: "CIP start",
			text: "A scanner sent a CIP Start service."}, true
	case dissect.ActCIPStop:
		return finding{rule: "cip-stop", severity: SevCritical, title: "CIP stop",
			text: "A scanner sent a CIP Stop service."}, true
	}
	return finding{}, false
}
