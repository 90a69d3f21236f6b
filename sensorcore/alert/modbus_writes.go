package alert

import (
	"sort"

	"github.com/tapline/tapline/sensorcore/decode"
)

// What learning records of Modbus writes (MB-AP §6: Write Single Coil 5,
// Write Single Register 6, Write Multiple Coils 15, Write Multiple
// Registers 16, Mask Write Register 22, Read/Write Multiple Registers 23):
// which clients wrote, to which server and unit, and which address ranges
// of each server's unit were written, coils and registers apart. After
// learning a write is an alert when its client never wrote, when it
// writes to a server or unit it never wrote to, or when it writes
// addresses outside every range written to that unit's table.

// Modbus data tables a write goes to.
const (
	tableCoils     = 0 // 5, 15
	tableRegisters = 1 // 6, 16, 22, 23
)

// modbusTable is the table function fc writes.
func modbusTable(fc int) int {
	if fc == 5 || fc == 15 {
		return tableCoils
	}
	return tableRegisters
}

var tableNames = [2]string{"coils", "registers"}

// Bounds against a learning period full of hostile writes.
const (
	maxWriteUnits  = 65536 // (client, server, unit) triples
	maxWriteTables = 65536 // (server, unit, table) keys
	maxRanges      = 256   // ranges kept per table; beyond, the closest merge
)

type writeUnitKey struct {
	client, server decode.Addr
	unit           int
}

type writeTableKey struct {
	server decode.Addr
	unit   int
	table  int
}

// addrRange is an inclusive range of Modbus addresses.
type addrRange struct{ lo, hi uint32 }

// writes is the learned Modbus write baseline.
type writes struct {
	clients map[decode.Addr]struct{}
	units   map[writeUnitKey]struct{}
	tables  map[writeTableKey][]addrRange // sorted, disjoint, not adjacent
	// A master writes the same server's unit and table many times in a
	// row: the last unit key learned (in clients and units, when
	// lastOK) and the last table key with its ranges (when tableOK)
	// spare such writes the maps' hashing of their 40-byte keys.
	last       writeUnitKey
	lastOK     bool
	table      writeTableKey
	tableOK    bool
	tableRange []addrRange // tables[table]
}

func newWrites() writes {
	return writes{clients: map[decode.Addr]struct{}{}, units: map[writeUnitKey]struct{}{}, tables: map[writeTableKey][]addrRange{}}
}

// writeRange is the range a write event covers, false when the event
// carries no address (a PDU too short for its fields).
func writeRange(ev *Event) (addrRange, bool) { return rangeOf(ev.Address, ev.Quantity) }

// rangeOf is the range of quantity items from address (writeRange).
func rangeOf(address, quantity int) (addrRange, bool) {
	if address < 0 || address > 0xffff {
		return addrRange{}, false
	}
	q := quantity
	if q < 1 {
		q = 1
	}
	hi := address + q - 1
	if hi > 0xffff {
		hi = 0xffff
	}
	return addrRange{uint32(address), uint32(hi)}, true
}

// learn records a write, and notes in m (when not nil) what the baseline
// then holds for it.
func (w *writes) learn(ev *Event, m *writeMemo) {
	if uk := (writeUnitKey{ev.Src, ev.Dst, ev.Unit}); !w.lastOK || w.last != uk {
		w.clients[ev.Src] = struct{}{}
		w.lastOK = false
		if len(w.units) < maxWriteUnits {
			w.units[uk] = struct{}{}
			w.last, w.lastOK = uk, true
		}
	}
	if m != nil && w.lastOK {
		m.unit, m.unitOK = ev.Unit, true
	}
	rg, ok := writeRange(ev)
	if !ok {
		return
	}
	k := writeTableKey{ev.Dst, ev.Unit, modbusTable(ev.Function)}
	var rs []addrRange
	if w.tableOK && w.table == k {
		rs = w.tableRange
	} else {
		var had bool
		if rs, had = w.tables[k]; !had && len(w.tables) >= maxWriteTables {
			return
		}
	}
	if !covered(rs, rg) {
		rs = addRange(rs, rg)
		w.tables[k] = rs
	}
	w.table, w.tableRange, w.tableOK = k, rs, true
	if m != nil {
		m.note(ev.Unit, k.table, rs)
	}
}

// writeMemo is a Flow's memo of the Modbus write baseline for the flow's
// client and server: the unit last found among those the client wrote to
// on the server, and per table the ranges last found written to a unit
// of the server. A master polling many servers in turn misses the
// baseline's own one-entry memo (writes.last) on every write; this memo
// spares each such write the maps' hashing of their 40-byte keys. The
// baseline only grows (a range merges into a wider one, never shrinks;
// Load starts a new generation, which empties every Flow), so what the
// memo covers the baseline covers.
type writeMemo struct {
	unit   int
	unitOK bool
	tables [2]struct {
		unit   int
		ok     bool
		ranges []addrRange
	}
}

// note records that the baseline holds ranges for the flow server's unit
// and table.
func (m *writeMemo) note(unit, table int, ranges []addrRange) {
	t := &m.tables[table]
	t.unit, t.ok, t.ranges = unit, true, ranges
}

// covers reports whether the baseline holds a write of function fc by the
// flow's client to its server's unit, of quantity items from address: the
// client wrote to that unit, and every address lies in a range written.
func (m *writeMemo) covers(unit, fc, address, quantity int) bool {
	if !m.unitOK || m.unit != unit {
		return false
	}
	rg, ok := rangeOf(address, quantity)
	if !ok {
		return true
	}
	t := &m.tables[modbusTable(fc)]
	return t.ok && t.unit == unit && covered(t.ranges, rg)
}

// covered reports whether rg lies inside one of rs.
func covered(rs []addrRange, rg addrRange) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].hi >= rg.lo })
	return i < len(rs) && rs[i].lo <= rg.lo && rg.hi <= rs[i].hi
}

// addRange merges rg into the sorted ranges rs; beyond maxRanges the two
// ranges with the smallest gap between them merge (so learning widens
// what it allows rather than forget it).
func addRange(rs []addrRange, rg addrRange) []addrRange {
	out := make([]addrRange, 0, len(rs)+1)
	placed := false
	for _, r := range rs {
		switch {
		case r.hi+1 < rg.lo:
			out = append(out, r)
		case rg.hi+1 < r.lo:
			if !placed {
				out, placed = append(out, rg), true
			}
			out = append(out, r)
		default: // overlapping or adjacent: absorb
			rg = addrRange{min(rg.lo, r.lo), max(rg.hi, r.hi)}
		}
	}
	if !placed {
		out = append(out, rg)
		sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	}
	for len(out) > maxRanges {
		best := 0
		for i := 1; i+1 < len(out); i++ {
			if out[i+1].lo-out[i].hi < out[best+1].lo-out[best].hi {
				best = i
			}
		}
		out[best].hi = out[best+1].hi
		out = append(out[:best+1], out[best+2:]...)
	}
	return out
}

// writeFinding is what a write after learning deviates in, if anything:
// its client wrote nothing during learning (and is not a configured
// master), or it writes to a server or unit it did not write to, or to
// addresses never written to that unit's table.
//
// When it finds nothing it notes in m (when not nil) what the baseline
// holds for the write.
func (e *Engine) writeFinding(ev *Event, m *writeMemo) (finding, bool) {
	if _, ok := e.base.writes.clients[ev.Src]; !ok && !e.configuredMaster(ev.Src) {
		return finding{rule: "modbus-write-unknown-master", severity: SevHigh, title: "Modbus write from unknown master",
			text: "A host that did not write during learning (and is not a configured master) wrote to a Modbus server.", withFunction: true}, true
	}
	if _, ok := e.base.writes.units[writeUnitKey{ev.Src, ev.Dst, ev.Unit}]; !ok {
		return finding{rule: "modbus-write-new-unit", severity: SevHigh, title: "Modbus write to a new unit",
			text: "A Modbus master wrote to a server or unit it did not write to during learning.", withFunction: true}, true
	}
	if m != nil {
		m.unit, m.unitOK = ev.Unit, true
	}
	rg, ok := writeRange(ev)
	if !ok {
		return finding{}, false
	}
	table := modbusTable(ev.Function)
	rs := e.base.writes.tables[writeTableKey{ev.Dst, ev.Unit, table}]
	if !covered(rs, rg) {
		return finding{rule: "modbus-write-new-range", severity: SevMedium, title: "Modbus write to new addresses",
			text: "A Modbus master wrote " + tableNames[table] + " outside every range written to this unit during learning.", withFunction: true}, true
	}
	if m != nil {
		m.note(ev.Unit, table, rs)
	}
	return finding{}, false
}

// ModbusWriteRecord is a learned writer of one server's unit, in the
// baseline's persistent form.
type ModbusWriteRecord struct {
	Client string `json:"client"`
	Server string `json:"server"`
	Unit   int    `json:"unit"`
}

// ModbusRangeRecord is the address ranges written to one server's unit
// and table during learning.
type ModbusRangeRecord struct {
	Server string      `json:"server"`
	Unit   int         `json:"unit"`
	Table  string      `json:"table"` // coils or registers
	Ranges [][2]uint32 `json:"ranges"`
}

func (w *writes) record() ([]ModbusWriteRecord, []ModbusRangeRecord) {
	var ws []ModbusWriteRecord
	for k := range w.units {
		ws = append(ws, ModbusWriteRecord{addrString(k.client), addrString(k.server), k.unit})
	}
	var rs []ModbusRangeRecord
	for k, v := range w.tables {
		rr := ModbusRangeRecord{Server: addrString(k.server), Unit: k.unit, Table: tableNames[k.table]}
		for _, r := range v {
			rr.Ranges = append(rr.Ranges, [2]uint32{r.lo, r.hi})
		}
		rs = append(rs, rr)
	}
	return ws, rs
}

func (w *writes) load(ws []ModbusWriteRecord, rs []ModbusRangeRecord) {
	w.tableOK = false // its ranges may change
	for _, x := range ws {
		c := parseAddr(x.Client)
		w.clients[c] = struct{}{}
		w.units[writeUnitKey{c, parseAddr(x.Server), x.Unit}] = struct{}{}
	}
	for _, x := range rs {
		t := tableRegisters
		if x.Table == tableNames[tableCoils] {
			t = tableCoils
		}
		k := writeTableKey{parseAddr(x.Server), x.Unit, t}
		for _, r := range x.Ranges {
			if r[0] <= r[1] && r[1] <= 0xffff {
				w.tables[k] = addRange(w.tables[k], addrRange{r[0], r[1]})
			}
		}
	}
}
