package alert

import "strconv"

// Classic S7comm has no firmware-update function code or PI service (the
// PI services Wireshark's s7comm dissector knows are _INSE, _DELE,
// P_PROGRAM, _MODU, _GARB and the SINUMERIK _N_ services), so an update
// itself is not visible on the wire. What is visible is its result: the
// firmware version a device reports (S7 SZL 0x001C/0x0011, Modbus Read
// Device Identification, CIP ListIdentity revision) differs from the one it
// reported before. The Monitor compares them (it knows the inventory) and
// calls FirmwareChanged.

// FirmwareChanged raises "firmware-changed" for a PDU (ev) in which the
// source reported firmware to after having reported from.
func (e *Engine) FirmwareChanged(ev *Event, from, to string) {
	e.raise(ev, finding{rule: "firmware-changed", severity: SevHigh, title: "Firmware changed",
		text: "The device reported firmware " + strconv.Quote(to) + " after reporting " + strconv.Quote(from) +
			": its firmware was updated or the device replaced."})
}
