package alert

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// Severities, lowest first.
const (
	SevLow      = "low"
	SevMedium   = "medium"
	SevHigh     = "high"
	SevCritical = "critical"
)

// Statuses.
const (
	StatusNew          = "new"
	StatusAcknowledged = "acknowledged"
)

// ErrNoSuchAlert is returned by Ack for an unknown id.
var ErrNoSuchAlert = errors.New("alert: no such alert")

// Alert is one alert as shown by the console, `sensorcore alerts --json`
// and syslog.
type Alert struct {
	ID       uint64    `json:"id"`
	Time     time.Time `json:"time"`
	LastSeen time.Time `json:"last_seen"`
	Count    uint64    `json:"count"`
	Severity string    `json:"severity"`
	Rule     string    `json:"rule"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	Protocol string    `json:"protocol,omitempty"`
	Function *int      `json:"function,omitempty"`
	Src      string    `json:"src,omitempty"`
	Dst      string    `json:"dst,omitempty"`
	Status   string    `json:"status"`
	// UID is the alert's stable id: the same traffic raises the same UID
	// on every run and every sensor (for de-duplication downstream), unlike
	// ID, which numbers the alerts of one engine.
	UID string `json:"uid,omitempty"`
	// Operations are the ids of the operations log records that raised
	// it (at most MaxEvidence: the first ones and the latest).
	Operations []OperationRef `json:"operations,omitempty"`
	// Texts are the title and message in further languages, by BCP 47
	// tag, when the rule that raised it has them (a plugin's rules):
	// the console shows the one the browser asks for.
	Texts map[string]Text `json:"texts,omitempty"`
}

// Text is an alert's title and message in one language.
type Text struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// In returns the alert's title and message in the first of the
// languages it has, else its own (English).
func (a *Alert) In(langs ...string) Text {
	for _, l := range langs {
		if t, ok := a.Texts[l]; ok {
			return t
		}
	}
	return Text{Title: a.Title, Message: a.Message}
}

// Event is what the pipeline tells the engine about one PDU or host.
type Event struct {
	Time      time.Time
	Src, Dst  decode.Addr
	SrcPort   uint16
	DstPort   uint16
	Proto     uint8 // dissect protocol id; None for a host-only event
	Function  int   // -1 when none
	Action    dissect.Action
	Request   bool
	Malformed bool
	// Unit is the Modbus unit id or IEC-104 common address, -1 when none;
	// it is evidence only and not part of an alert's identity.
	Unit int
	// Txn is the PDU's transaction id (-1 none), for the operation id.
	Txn int
	// Notification marks a PDU a device sent unasked, which the
	// operations log keeps as an operation of its own.
	Notification bool
	// Op is the id of the operations log record the PDU belongs to when
	// the pipeline knows it (a reply paired with its request); else the
	// engine computes it for requests and notifications.
	Op uint64
	// Address and Quantity are a Modbus request's first address and
	// count (-1 when absent), for learning what masters write.
	Address, Quantity int
	// PDU is the decoded PDU, whose objects (CROB points, CIP class, S7
	// block, ...) an alert's message names; it is only read while the
	// event is observed, and may be nil.
	PDU *dissect.Result
	// Detail is the alert text a plugin's rule rendered for the PDU.
	Detail *dissect.ActionDetail
}

// OperationRef is an operations log record's id, written as its 16 hex
// digits.
type OperationRef uint64

// MarshalText writes the 16 hex digits.
func (r OperationRef) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%016x", uint64(r)), nil }

// UnmarshalText reads 16 hex digits.
func (r *OperationRef) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil || len(b) != 16 {
		return fmt.Errorf("alert: operation id %q: want 16 hex digits", b)
	}
	*r = OperationRef(v)
	return nil
}

// operation is the operations log id of the record the event belongs to:
// the one the pipeline gave, else that of a request or a notification
// (0 when it is none: a host event, a malformed PDU, a PDU that is no
// operation, or a response, whose operation is named by its request).
func (ev *Event) operation() OperationRef {
	if ev.Op != 0 {
		return OperationRef(ev.Op)
	}
	if ev.Proto == dissect.None || ev.Malformed || !dissect.IsIndustrial(ev.Proto) {
		return 0
	}
	if ev.Function < 0 && (ev.PDU == nil || ev.PDU.Group < 0) {
		return 0
	}
	switch {
	case ev.Request:
		txn := ev.Txn
		if ev.Dst.Len == 6 && ev.Dst.B[0]&1 != 0 {
			txn = -1 // to a multicast address: pairs with nothing
		}
		return OperationRef(dissect.OperationID(ev.Time.UnixNano(), ev.Src, ev.Dst, ev.SrcPort, ev.DstPort, ev.Proto, ev.Function, txn))
	case ev.Notification:
		return OperationRef(dissect.OperationID(ev.Time.UnixNano(), ev.Dst, ev.Src, ev.DstPort, ev.SrcPort, ev.Proto, ev.Function, ev.Txn))
	}
	return 0
}

// MaxEvidence bounds the operation ids an alert keeps: the first ones,
// then the latest in the last place.
const MaxEvidence = 16

// Options configure an Engine.
type Options struct {
	// Learning is the learning period, from the first event. Zero means
	// learning never ends (only always-on rules fire).
	Learning time.Duration
	// ModbusMasters are the hosts allowed to write to Modbus servers. When
	// empty, the hosts that send Modbus requests during learning are.
	ModbusMasters []netip.Addr
	// MaxAlerts bounds the alerts kept; the oldest are dropped first.
	MaxAlerts int
	// Sink receives every new alert (syslog forwarding); may be nil.
	Sink Sink
}

// Sink receives new alerts.
type Sink interface{ Send(a Alert) }

type dedupKey struct {
	rule     string
	src, dst decode.Addr
	proto    uint8
	fc       int
}

// Engine evaluates events. It is not safe for concurrent use.
type Engine struct {
	opts    Options
	base    *Baseline
	masters map[decode.Addr]struct{}
	alerts  []*Alert
	index   map[dedupKey]*Alert
	byID    map[uint64]*Alert
	nextID  uint64
	Dropped uint64
	// raised counts raise calls (new alerts and repeats).
	raised uint64
	// learnEnd caches the end of learning (unix nanoseconds) computed
	// from the baseline start learnFrom.
	learnFrom, learnEnd int64
}

// New makes an engine with an empty baseline.
func New(opts Options) *Engine {
	if opts.MaxAlerts <= 0 {
		opts.MaxAlerts = 10000
	}
	e := &Engine{opts: opts, base: NewBaseline(), masters: map[decode.Addr]struct{}{},
		index: map[dedupKey]*Alert{}, byID: map[uint64]*Alert{}, nextID: 1}
	for _, m := range opts.ModbusMasters {
		e.masters[addrOf(m)] = struct{}{}
	}
	return e
}

// Baseline exposes the learned baseline (for persistence).
func (e *Engine) Baseline() *Baseline { return e.base }

// Learning reports whether the engine is still learning at now.
func (e *Engine) Learning(now time.Time) bool { return e.learningAt(now.UnixNano()) }

// learningAt is Learning at now in Unix nanoseconds.
func (e *Engine) learningAt(now int64) bool {
	if e.opts.Learning == 0 || e.base.Start.IsZero() {
		return true
	}
	if start := e.base.Start.UnixNano(); start != e.learnFrom || e.learnEnd == 0 {
		e.learnFrom, e.learnEnd = start, e.base.Start.Add(e.opts.Learning).UnixNano()
	}
	return now < e.learnEnd
}

// LearningEnds is when learning ends (zero when it never does).
func (e *Engine) LearningEnds() time.Time {
	if e.opts.Learning == 0 || e.base.Start.IsZero() {
		return time.Time{}
	}
	return e.base.Start.Add(e.opts.Learning)
}

// Observe evaluates one event against the baseline and every always-on
// rule.
func (e *Engine) Observe(ev *Event) {
	if e.base.Start.IsZero() {
		e.base.Start = ev.Time
	}
	learning := e.Learning(ev.Time)
	if e.base.known(ev) {
		// Fast path: this exact (source, destination, protocol, function)
		// is in the baseline, so are its device, protocol and connection.
	} else if learning {
		e.base.learn(ev)
		if ev.Proto == dissect.Modbus && ev.Request && !ev.Malformed && len(e.opts.ModbusMasters) == 0 {
			e.masters[ev.Src] = struct{}{}
		}
	} else {
		for _, d := range e.base.deviations(ev) {
			e.raise(ev, d)
		}
	}
	e.rules(ev, learning, nil)
}

// rules runs the always-on rules; f is the event's Flow (ObserveFlow),
// nil when it has none.
func (e *Engine) rules(ev *Event, learning bool, f *Flow) {
	if ev.Action == dissect.ActNone && !ev.Malformed {
		return // every always-on rule needs an action or a malformed PDU
	}
	// Called directly rather than through a list of function values: the
	// small rules are inlined, and a rule that does not fire costs a few
	// compares instead of a call and an 80-byte finding copied back
	// through the stack (a stall, read back in wider words than written).
	if ev.Proto == dissect.Modbus { // ruleModbus's first condition
		if fd, ok := ruleModbus(e, ev, learning, f); ok {
			e.raise(ev, fd)
		}
	}
	if fd, ok := ruleAction(e, ev, learning); ok {
		e.raise(ev, fd)
	}
	if fd, ok := ruleMalformed(e, ev, learning); ok {
		e.raise(ev, fd)
	}
}

// Flow remembers, for the events of one direction of one flow (a fixed
// source and destination address), which ones the baseline already holds:
// such an event with no action and not malformed changes nothing (no
// deviation, no always-on rule), so ObserveFlow skips it with a bit test
// instead of map lookups. The zero Flow is empty; Reset empties it for
// another flow.
type Flow struct {
	base   *Baseline
	gen    uint64
	device bool      // the source is a known device
	proto  uint8     // protocol the function bits are for
	funcs  [4]uint64 // known function codes 0-255 of proto
	none   bool      // proto's PDUs without a function code are known
	// writes is what the Modbus write baseline holds for the flow
	// (ruleModbus), and quiet whether a Modbus write of the flow raised
	// nothing after learning [0] or while learning [1]. Which rules a
	// write the baseline holds can raise depends only on its source and
	// on the phase (ruleModbus: the configured masters, which never
	// change), so when one raised nothing, one the memo covers raises
	// nothing either (KnownWrite).
	writes writeMemo
	quiet  [2]bool
}

// Reset empties f.
func (f *Flow) Reset() { *f = Flow{} }

// has reports whether the baseline holds events of f's flow with this
// protocol (dissect.None: the source device) and function.
func (f *Flow) has(proto uint8, fc int) bool {
	if proto == dissect.None {
		return f.device
	}
	return proto == f.proto && (fc >= 0 && fc < 256 && f.funcs[fc>>6]&(1<<(fc&63)) != 0 || fc == -1 && f.none)
}

// Known reports whether an event of f's flow with this protocol
// (dissect.None for a host event), function, action and malformed flag
// would change nothing, so the caller need not even build it.
func (e *Engine) Known(f *Flow, proto uint8, fc int, act dissect.Action, malformed bool) bool {
	return !malformed && act == dissect.ActNone && f.base == e.base && f.gen == e.base.gen && f.has(proto, fc)
}

// KnownWrite is Known for a Modbus write r (not malformed) of f's flow
// at ts (Unix nanoseconds): true when the baseline holds the write and a
// write of the flow raised nothing before in the same phase
// (Flow.quiet), so the caller need not build its event.
func (e *Engine) KnownWrite(f *Flow, ts int64, r *dissect.Result) bool {
	return r.Proto == dissect.Modbus && f.base == e.base && f.gen == e.base.gen && f.has(r.Proto, r.Function) &&
		f.quiet[phase(e.learningAt(ts))] && f.writes.covers(r.Unit, r.Function, r.Address, r.Quantity)
}

// phase is Flow.quiet's index for learning.
func phase(learning bool) int {
	if learning {
		return 1
	}
	return 0
}

// ObserveFlow is Observe for an event of f's flow.
func (e *Engine) ObserveFlow(ev *Event, f *Flow) {
	valid := f.base == e.base && f.gen == e.base.gen
	if valid && !ev.Malformed && f.has(ev.Proto, ev.Function) {
		// In the baseline: nothing to learn or report as a deviation,
		// only the always-on rules can fire.
		if ev.Action == dissect.ActNone {
			return
		}
		raised := e.raised
		learning := e.Learning(ev.Time)
		e.rules(ev, learning, f)
		if ev.Action == dissect.ActModbusWrite && e.raised == raised {
			f.quiet[phase(learning)] = true
		}
		return
	}
	e.Observe(ev)
	if ev.Malformed {
		return
	}
	if !valid {
		*f = Flow{base: e.base, gen: e.base.gen}
	}
	if ev.Proto == dissect.None {
		_, f.device = e.base.devices[ev.Src]
		return
	}
	// Observe left the event's function in the baseline (known, learned,
	// or added with its deviation), so the memo takes it without looking
	// it up again.
	if ev.Proto != f.proto {
		f.proto, f.funcs, f.none = ev.Proto, [4]uint64{}, false
	}
	switch fc := ev.Function; {
	case fc == -1:
		f.none = true
	case fc >= 0 && fc < 256:
		f.funcs[fc>>6] |= 1 << (fc & 63)
	}
}

// finding is what a rule returns: a stable rule id, severity, title and the
// message's lead sentence (evidence is appended by raise).
type finding struct {
	rule, severity, title, text string
	withFunction                bool
	// detail holds the title and text in several languages (a plugin's
	// rule), replacing title and text.
	detail *dissect.ActionDetail
}

func (e *Engine) raise(ev *Event, f finding) {
	e.raised++
	fc := -1
	if f.withFunction {
		fc = ev.Function
	}
	k := dedupKey{rule: f.rule, src: ev.Src, dst: ev.Dst, proto: ev.Proto, fc: fc}
	if a, ok := e.index[k]; ok {
		a.Count++
		if ev.Time.After(a.LastSeen) {
			a.LastSeen = ev.Time
		}
		if op := ev.operation(); op != 0 {
			if len(a.Operations) < MaxEvidence {
				a.Operations = append(a.Operations, op)
			} else {
				a.Operations[MaxEvidence-1] = op
			}
		}
		return
	}
	a := &Alert{
		ID: e.nextID, Time: ev.Time.UTC(), LastSeen: ev.Time.UTC(), Count: 1,
		Severity: f.severity, Rule: f.rule, Title: f.title, Status: StatusNew,
		Src: addrString(ev.Src), Dst: addrString(ev.Dst),
	}
	e.nextID++
	if ev.Proto != dissect.None {
		a.Protocol = dissect.Name(ev.Proto)
	}
	if op := ev.operation(); op != 0 {
		a.Operations = append(make([]OperationRef, 0, MaxEvidence), op)
	}
	a.UID = alertUID(f.rule, ev, fc)
	if fc >= 0 {
		v := fc
		a.Function = &v
	}
	evid := evidence(a, ev)
	a.Message = f.text + evid
	if d := f.detail; d != nil {
		a.Title, a.Message = d.Title.Pick("en"), d.Message.Pick("en")+evid
		a.Texts = map[string]Text{}
		for l, t := range d.Title {
			a.Texts[l] = Text{Title: t, Message: d.Message.Pick(l) + evid}
		}
	}
	e.add(k, a)
	if e.opts.Sink != nil {
		e.opts.Sink.Send(*a)
	}
}

// alertUID is FNV-1a over the rule, the ends, the protocol, the function
// kept and the first event's time.
func alertUID(rule string, ev *Event, fc int) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(fmt.Sprintf("%s|%v|%v|%d|%d|%d", rule, ev.Src.B[:ev.Src.Len], ev.Dst.B[:ev.Dst.Len], ev.Proto, fc, ev.Time.UnixNano())) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

func (e *Engine) add(k dedupKey, a *Alert) {
	if len(e.alerts) >= e.opts.MaxAlerts {
		old := e.alerts[0]
		e.alerts = e.alerts[1:]
		delete(e.byID, old.ID)
		for kk, v := range e.index {
			if v == old {
				delete(e.index, kk)
				break
			}
		}
		e.Dropped++
	}
	e.alerts = append(e.alerts, a)
	e.index[k] = a
	e.byID[a.ID] = a
}

// evidence is the alert's message tail: the addresses, protocol and
// function, and what the PDU addressed (dissect.Evidence).
func evidence(a *Alert, ev *Event) string {
	unit := ev.Unit
	s := ""
	if a.Src != "" {
		s += " src=" + a.Src
	}
	if a.Dst != "" {
		s += " dst=" + a.Dst
	}
	if a.Protocol != "" {
		s += " protocol=" + a.Protocol
	}
	if a.Function != nil {
		s += fmt.Sprintf(" function=%d", *a.Function)
	}
	if unit >= 0 && a.Protocol != "" && ev.Proto != dissect.IEC104 {
		s += fmt.Sprintf(" unit=%d", unit)
	}
	if ev.PDU != nil && !ev.Malformed {
		if o := dissect.Evidence(ev.PDU); o != "" {
			s += " " + o
		}
	}
	if s == "" {
		return ""
	}
	return " (" + s[1:] + ")"
}

// Alerts returns copies of every alert, oldest first.
func (e *Engine) Alerts() []Alert {
	out := make([]Alert, len(e.alerts))
	for i, a := range e.alerts {
		out[i] = *a
	}
	return out
}

// Ack marks an alert acknowledged.
func (e *Engine) Ack(id uint64) error {
	a, ok := e.byID[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoSuchAlert, id)
	}
	a.Status = StatusAcknowledged
	return nil
}

// Restore loads alerts saved by a previous run; new ids continue after the
// highest restored one. Repeats of restored alerts keep counting on them.
func (e *Engine) Restore(alerts []Alert) {
	sort.Slice(alerts, func(i, j int) bool { return alerts[i].ID < alerts[j].ID })
	for i := range alerts {
		a := alerts[i]
		fc := -1
		if a.Function != nil {
			fc = *a.Function
		}
		k := dedupKey{rule: a.Rule, src: parseAddr(a.Src), dst: parseAddr(a.Dst), proto: dissect.ID(a.Protocol), fc: fc}
		e.add(k, &a)
		if a.ID >= e.nextID {
			e.nextID = a.ID + 1
		}
	}
}

func addrOf(ip netip.Addr) decode.Addr {
	var a decode.Addr
	if ip.Is4() || ip.Is4In6() {
		b := ip.Unmap().As4()
		copy(a.B[:4], b[:])
		a.Len = 4
	} else if ip.IsValid() {
		a.B, a.Len = ip.As16(), 16
	}
	return a
}

// parseAddr reads an alert's or baseline's end: an IP address, or the
// MAC address of a link-layer protocol's end.
func parseAddr(s string) decode.Addr {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		if hw, err := net.ParseMAC(s); err == nil && len(hw) == 6 {
			return decode.MACAddr([6]byte(hw))
		}
		return decode.Addr{}
	}
	return addrOf(ip)
}

func addrString(a decode.Addr) string {
	switch a.Len {
	case 4:
		return netip.AddrFrom4([4]byte(a.B[:4])).String()
	case 6:
		return net.HardwareAddr(a.B[:6]).String()
	case 16:
		return netip.AddrFrom16(a.B).String()
	}
	return ""
}
