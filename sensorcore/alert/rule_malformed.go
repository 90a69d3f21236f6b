package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleMalformed: a malformed industrial PDU (bad length, CRC or field),
// which may be a fuzzing attempt or a faulty device.
func ruleMalformed(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if !ev.Malformed {
		return finding{}, false
	}
	switch ev.Proto {
	case dissect.Modbus, dissect.DNP3, dissect.S7comm, dissect.ENIP, dissect.BACnet, dissect.IEC104:
		return finding{rule: "malformed-pdu", severity: SevMedium, title: "Malformed industrial PDU",
			text: "A malformed industrial protocol PDU was seen."}, true
	}
	return finding{}, false
}
