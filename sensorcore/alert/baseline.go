package alert

import (
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

type connKey struct {
	src, dst decode.Addr
	proto    uint8
}

type funcKey struct {
	src, dst decode.Addr
	proto    uint8
	fc       int
}

type protoKey struct {
	host  decode.Addr
	proto uint8
}

// Baseline is what learning saw: devices, connections (source,
// destination, protocol), protocols per host and function codes per
// connection.
type Baseline struct {
	Start      time.Time
	devices    map[decode.Addr]struct{}
	conns      map[connKey]struct{}
	protos     map[protoKey]struct{}
	funcs      map[funcKey]struct{}
	last, prev funcKey
	cached     int
	lastHost   decode.Addr
	lastHostOK bool
	// gen changes when Load replaces the baseline (Flow caches go stale).
	gen uint64
	// writes is what Modbus clients wrote during learning.
	writes writes
}

// NewBaseline makes an empty baseline.
func NewBaseline() *Baseline {
	return &Baseline{devices: map[decode.Addr]struct{}{}, conns: map[connKey]struct{}{},
		protos: map[protoKey]struct{}{}, funcs: map[funcKey]struct{}{}, writes: newWrites()}
}

// known reports whether ev adds nothing to the baseline. A one-entry cache
// in front of the function map makes runs of identical events cheap.
func (b *Baseline) known(ev *Event) bool {
	if ev.Malformed {
		return false
	}
	if ev.Proto == dissect.None {
		if b.lastHostOK && ev.Src == b.lastHost {
			return true
		}
		_, ok := b.devices[ev.Src]
		if ok {
			b.lastHost, b.lastHostOK = ev.Src, true
		}
		return ok
	}
	k := funcKey{ev.Src, ev.Dst, ev.Proto, ev.Function}
	if b.cached > 0 && k == b.last || b.cached > 1 && k == b.prev {
		return true
	}
	_, ok := b.funcs[k]
	if ok {
		// two entries: a request and its response alternate
		b.prev, b.last = b.last, k
		if b.cached < 2 {
			b.cached++
		}
	}
	return ok
}

func (b *Baseline) learn(ev *Event) {
	if ev.Src.Len != 0 {
		b.devices[ev.Src] = struct{}{}
	}
	if ev.Proto == dissect.None || ev.Malformed {
		return
	}
	b.conns[connKey{ev.Src, ev.Dst, ev.Proto}] = struct{}{}
	b.protos[protoKey{ev.Src, ev.Proto}] = struct{}{}
	// Every PDU is recorded, with function -1 when it has none, so that
	// known() can answer from this one map.
	b.funcs[funcKey{ev.Src, ev.Dst, ev.Proto, ev.Function}] = struct{}{}
}

// deviations returns the learning-mode findings for ev, at most one per
// kind, most specific last. A device first seen after learning is learned
// at once (one alert, not one per packet); so are connections, protocols
// and function codes.
func (b *Baseline) deviations(ev *Event) []finding {
	var out []finding
	if ev.Src.Len != 0 {
		if _, ok := b.devices[ev.Src]; !ok {
			b.devices[ev.Src] = struct{}{}
			out = append(out, finding{rule: "new-device", severity: SevMedium, title: "New device",
				text: "A device not seen during learning sent traffic."})
		}
	}
	if ev.Proto == dissect.None || ev.Malformed {
		return out
	}
	pk := protoKey{ev.Src, ev.Proto}
	if _, ok := b.protos[pk]; !ok {
		b.protos[pk] = struct{}{}
		out = append(out, finding{rule: "new-protocol", severity: SevMedium, title: "New protocol",
			text: "A device used a protocol it did not use during learning."})
	}
	ck := connKey{ev.Src, ev.Dst, ev.Proto}
	if _, ok := b.conns[ck]; !ok {
		b.conns[ck] = struct{}{}
		out = append(out, finding{rule: "new-connection", severity: SevLow, title: "New connection",
			text: "Two devices talked with a protocol they did not use together during learning."})
	}
	fk := funcKey{ev.Src, ev.Dst, ev.Proto, ev.Function}
	if _, ok := b.funcs[fk]; !ok {
		b.funcs[fk] = struct{}{}
		if ev.Function >= 0 {
			out = append(out, finding{rule: "new-function", severity: SevMedium, title: "New function code",
				text: "A function code not seen between these devices during learning was used.", withFunction: true})
		}
	}
	return out
}

// BaselineRecord is the baseline's persistent form.
type BaselineRecord struct {
	Start   time.Time    `json:"start"`
	Devices []string     `json:"devices"`
	Conns   [][3]string  `json:"connections"` // src, dst, protocol
	Funcs   []FuncRecord `json:"functions"`
	// ModbusWriters and ModbusRanges are the Modbus writes learned.
	ModbusWriters []ModbusWriteRecord `json:"modbus_writers,omitempty"`
	ModbusRanges  []ModbusRangeRecord `json:"modbus_ranges,omitempty"`
}

// FuncRecord is one learned function code.
type FuncRecord struct {
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Protocol string `json:"protocol"`
	Function int    `json:"function"`
}

func protoID(name string) uint8 { return dissect.ID(name) }

// Record exports the baseline.
func (b *Baseline) Record() BaselineRecord {
	r := BaselineRecord{Start: b.Start}
	for d := range b.devices {
		r.Devices = append(r.Devices, addrString(d))
	}
	for c := range b.conns {
		r.Conns = append(r.Conns, [3]string{addrString(c.src), addrString(c.dst), dissect.Name(c.proto)})
	}
	for f := range b.funcs {
		r.Funcs = append(r.Funcs, FuncRecord{addrString(f.src), addrString(f.dst), dissect.Name(f.proto), f.fc})
	}
	r.ModbusWriters, r.ModbusRanges = b.writes.record()
	return r
}

// Load replaces the baseline with a saved record.
func (b *Baseline) Load(r BaselineRecord) {
	gen := b.gen + 1
	*b = *NewBaseline()
	b.gen = gen
	b.Start = r.Start
	for _, d := range r.Devices {
		b.devices[parseAddr(d)] = struct{}{}
	}
	for _, c := range r.Conns {
		k := connKey{parseAddr(c[0]), parseAddr(c[1]), protoID(c[2])}
		b.conns[k] = struct{}{}
		b.protos[protoKey{k.src, k.proto}] = struct{}{}
	}
	for _, f := range r.Funcs {
		b.funcs[funcKey{parseAddr(f.Src), parseAddr(f.Dst), protoID(f.Protocol), f.Function}] = struct{}{}
	}
	b.writes.load(r.ModbusWriters, r.ModbusRanges)
}
