package alert

import "github.com/tapline/tapline/sensorcore/dissect"

// ruleAction: an action whose protocol descriptor carries an always-on
// alert (S7 PLC stop, DNP3 cold restart, CIP stop, IEC-104 command, ...;
// each protocol's file in sensorcore/dissect declares its own, with the
// specification section it comes from).
//
// A malformed PDU raises malformed-pdu only: what it seems to ask is not
// what a device would do.
func ruleAction(_ *Engine, ev *Event, _ bool) (finding, bool) {
	if ev.Malformed {
		return finding{}, false
	}
	aa := dissect.ActionAlertOf(ev.Action)
	if aa == nil {
		return finding{}, false
	}
	return finding{rule: aa.Rule, severity: aa.Severity, title: aa.Title, text: aa.Text, withFunction: aa.WithFunction, detail: ev.Detail}, true
}
