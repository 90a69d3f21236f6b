package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleMalformed: a malformed industrial PDU (bad length, CRC or field),
// which may be a fuzzing attempt or a faulty device.
func ruleMalformed(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if !ev.Malformed {
		return finding{}, false
	}
	if !dissect.IsIndustrial(ev.Proto) {
		return finding{}, false
	}
	return finding{rule: "malformed-pdu", severity: SevMedium, title: "Malformed industrial PDU",
		text: "A malformed industrial protocol PDU was seen."}, true
}
