package alert

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/dissect"
)

// write is a Modbus write event from src to dst's unit, function fc, at
// addr for n items.
func write(at time.Duration, src, dst string, unit, fc, addr, n int) *Event {
	e := ev(at, src, dst, dissect.Modbus, fc, dissect.ActModbusWrite)
	e.Unit, e.Address, e.Quantity = unit, addr, n
	return e
}

// TestModbusWriteLearning: after learning, writes a master made during
// learning (same server and unit, addresses inside what was written,
// coils and registers apart) raise nothing; a write from a host that never
// wrote, to another unit, or outside the ranges raises its own alert; the
// learned writes survive a save and load.
func TestModbusWriteLearning(t *testing.T) {
	learn := func(e *Engine) {
		e.Observe(write(0, "192.0.2.1", "192.0.2.2", 1, 16, 100, 10))                              // registers 100-109
		e.Observe(write(time.Minute, "192.0.2.1", "192.0.2.2", 1, 6, 110, 1))                      // 110: adjacent, merged
		e.Observe(write(2*time.Minute, "192.0.2.1", "192.0.2.2", 1, 15, 0, 8))                     // coils 0-7
		e.Observe(ev(3*time.Minute, "192.0.2.5", "192.0.2.2", dissect.Modbus, 3, dissect.ActNone)) // a read: not a writer
	}
	after := 2 * time.Hour
	tests := []struct {
		name string
		ev   *Event
		rule string
	}{
		{"same write", write(after, "192.0.2.1", "192.0.2.2", 1, 16, 100, 10), ""},
		{"inside the merged range", write(after, "192.0.2.1", "192.0.2.2", 1, 23, 105, 6), ""},
		{"a coil written before", write(after, "192.0.2.1", "192.0.2.2", 1, 5, 7, 1), ""},
		{"past the range", write(after, "192.0.2.1", "192.0.2.2", 1, 16, 108, 4), "modbus-write-new-range"},
		{"registers where only coils were written", write(after, "192.0.2.1", "192.0.2.2", 1, 6, 3, 1), "modbus-write-new-range"},
		{"another unit", write(after, "192.0.2.1", "192.0.2.2", 2, 16, 100, 1), "modbus-write-new-unit"},
		{"another server", write(after, "192.0.2.1", "192.0.2.3", 1, 16, 100, 1), "modbus-write-new-unit"},
		{"a host that only read", write(after, "192.0.2.5", "192.0.2.2", 1, 16, 100, 1), "modbus-write-unknown-master"},
		{"a new host", write(after, "192.0.2.66", "192.0.2.2", 1, 16, 100, 1), "modbus-write-unknown-master"},
	}
	for _, restored := range []bool{false, true} {
		for _, tc := range tests {
			e := New(Options{Learning: time.Hour})
			learn(e)
			if restored {
				b, _ := json.Marshal(e.Baseline().Record())
				var rec BaselineRecord
				json.Unmarshal(b, &rec)
				e = New(Options{Learning: time.Hour})
				e.Baseline().Load(rec)
			}
			if len(e.Alerts()) != 0 {
				t.Fatalf("learning alerted: %+v", e.Alerts())
			}
			e.Observe(tc.ev)
			got := ""
			for _, a := range e.Alerts() {
				if a.Rule[:6] == "modbus" {
					got = a.Rule
				}
			}
			if got != tc.rule {
				t.Errorf("%s (restored %v): %q, want %q", tc.name, restored, got, tc.rule)
			}
		}
	}
	// With masters configured, another host's writes alert even while
	// learning; a configured master is trusted to write, but not to
	// units it did not write to.
	e := New(Options{Learning: time.Hour, ModbusMasters: []netip.Addr{netip.MustParseAddr("192.0.2.9")}})
	learn(e)
	e.Observe(write(0, "192.0.2.9", "192.0.2.2", 1, 16, 100, 1))
	e.Observe(write(after, "192.0.2.9", "192.0.2.2", 1, 16, 100, 1))
	e.Observe(write(after, "192.0.2.9", "192.0.2.2", 4, 16, 100, 1))
	var fromMaster []string
	unknown := 0
	for _, a := range e.Alerts() {
		switch {
		case a.Src == "192.0.2.9":
			fromMaster = append(fromMaster, a.Rule)
		case a.Rule == "modbus-write-unknown-master":
			unknown++
		}
	}
	if len(fromMaster) != 1 || fromMaster[0] != "modbus-write-new-unit" || unknown != 3 {
		t.Fatalf("configured master's alerts %v, %d from the unconfigured writer", fromMaster, unknown)
	}
}

// TestModbusRangesBounded: a learning period full of scattered writes
// keeps at most maxRanges ranges per table, merging the closest, so what
// was written stays allowed.
func TestModbusRangesBounded(t *testing.T) {
	var rs []addrRange
	for a := uint32(0); a < 4*maxRanges; a++ {
		rs = addRange(rs, addrRange{a * 10, a * 10})
	}
	if len(rs) > maxRanges {
		t.Fatalf("%d ranges", len(rs))
	}
	for a := uint32(0); a < 4*maxRanges; a++ {
		if !covered(rs, addrRange{a * 10, a * 10}) {
			t.Fatalf("address %d was written and is no longer covered", a*10)
		}
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].lo <= rs[i-1].hi+1 {
			t.Fatalf("ranges overlap or touch: %v %v", rs[i-1], rs[i])
		}
	}
}

// TestModbusWriteLearningRepeats: learning a long run of writes that
// mostly repeat their client, server, unit and table, interleaved with
// others, records exactly what recording each write on its own records.
func TestModbusWriteLearningRepeats(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}
	fcs := []int{5, 6, 15, 16, 22, 23}
	w := newWrites()
	want := newWrites()
	src, dst, unit, fc := hosts[0], hosts[1], 1, 16
	for i := 0; i < 5000; i++ {
		if rnd.IntN(4) == 0 { // another client, server, unit or table now and then
			src, dst, unit, fc = hosts[rnd.IntN(3)], hosts[rnd.IntN(3)], rnd.IntN(3), fcs[rnd.IntN(len(fcs))]
		}
		e := write(0, src, dst, unit, fc, rnd.IntN(2000)-10, rnd.IntN(20))
		if i%1000 == 999 {
			e.Address = -1 // no address: a PDU too short for its fields
		}
		w.learn(e, nil)
		// Each write on its own.
		want.clients[e.Src] = struct{}{}
		want.units[writeUnitKey{e.Src, e.Dst, e.Unit}] = struct{}{}
		if rg, ok := writeRange(e); ok {
			k := writeTableKey{e.Dst, e.Unit, modbusTable(e.Function)}
			if rs := want.tables[k]; !covered(rs, rg) {
				want.tables[k] = addRange(rs, rg)
			}
		}
	}
	if !reflect.DeepEqual(w.clients, want.clients) || !reflect.DeepEqual(w.units, want.units) || !reflect.DeepEqual(w.tables, want.tables) {
		t.Fatalf("learned %d clients, %d units, %d tables; each on its own: %d, %d, %d",
			len(w.clients), len(w.units), len(w.tables), len(want.clients), len(want.units), len(want.tables))
	}
}

// TestModbusWriteFlowMemo: masters polling servers in turn, some writes
// repeating, some reaching new units and addresses, with learning ending
// midway (and packets from before its end now and then), with or without
// configured masters (one of the clients, or none): the events through
// each flow's memo (Known, KnownWrite, ObserveFlow, as the pipeline calls
// them) raise the same alerts, with the same counts, and learn the same
// baseline as each event observed on its own.
func TestModbusWriteFlowMemo(t *testing.T) {
	hosts := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}
	fcs := []int{5, 6, 15, 16, 22, 23}
	for _, masters := range [][]netip.Addr{nil, {netip.MustParseAddr("192.0.2.1")}} {
		rnd := rand.New(rand.NewPCG(3, 4))
		opts := Options{Learning: time.Hour, ModbusMasters: masters}
		plain, memo := New(opts), New(opts)
		flows := map[[2]string]*Flow{}
		for i := 0; i < 20000; i++ {
			src, dst := hosts[rnd.IntN(2)], hosts[2+rnd.IntN(2)]
			at := time.Duration(i) * 400 * time.Millisecond // learning ends at write 9000
			if i%50 == 0 {
				at %= 30 * time.Minute // a packet from an earlier time (another capture file): learning again
			}
			e := write(at, src, dst, rnd.IntN(3), fcs[rnd.IntN(len(fcs))], rnd.IntN(200)-5, rnd.IntN(12))
			if i%97 == 0 {
				e.Action = dissect.ActNone // a read now and then
			}
			e.Malformed = i%501 == 0
			cp := *e
			plain.Observe(&cp)
			f := flows[[2]string{src, dst}]
			if f == nil {
				f = &Flow{}
				flows[[2]string{src, dst}] = f
			}
			r := &dissect.Result{Proto: e.Proto, Function: e.Function, Action: e.Action, Unit: e.Unit, Address: e.Address, Quantity: e.Quantity}
			if memo.Known(f, e.Proto, e.Function, e.Action, e.Malformed) ||
				e.Action == dissect.ActModbusWrite && !e.Malformed && memo.KnownWrite(f, e.Time.UnixNano(), r) {
				continue
			}
			memo.ObserveFlow(e, f)
		}
		got, want := memo.Alerts(), plain.Alerts()
		if len(want) == 0 {
			t.Fatal("no alert raised: nothing compared")
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("masters %v: %d alerts through the flow memo, %d without:\n%+v\n%+v", masters, len(got), len(want), got, want)
		}
		gw, gr := memo.base.writes.record()
		ww, wr := plain.base.writes.record()
		if len(gw) != len(ww) || len(gr) != len(wr) || !reflect.DeepEqual(memo.base.writes.tables, plain.base.writes.tables) {
			t.Fatalf("masters %v: learned %d writers, %d tables through the memo; %d, %d without", masters, len(gw), len(gr), len(ww), len(wr))
		}
	}
}
