package dissect

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tapline/tapline/sensorcore/decode"
)

// MaxProtocols bounds protocol ids: counters are arrays indexed by id, and
// each protocol owns two bits of a Role.
const MaxProtocols = 32

// Descriptor is everything sensorcore knows about one protocol, in one
// place, the way gopacket registers a layer type: every list downstream
// (analyze's protocol counts, inventory roles, the operations log's
// function names, the always-on alerts, the console) is derived from the
// registered descriptors, so a protocol is added by registering one.
// Built-in dissectors register theirs at start-up; a protocol described
// by a plugin registers at run time through the same call.
type Descriptor struct {
	// ID indexes counters and roles; Register assigns it when zero.
	ID uint8
	// Name is the protocol's key in reports and JSON ("modbus").
	Name string
	// Title is for people ("Modbus/TCP").
	Title string
	// Industrial protocols are reported by analyze, alert on malformed
	// PDUs and make a host an OT asset.
	Industrial bool
	// TCP and UDP say where the protocol lives and how its PDUs are framed
	// and decoded (the ID inside is set by Register); nil when the
	// protocol does not use that transport.
	TCP *TCPProtocol
	UDP *UDPProtocol
	// L2 is set for a protocol carried directly in Ethernet frames
	// (PROFINET DCP).
	L2 *L2Protocol
	// ClientRole and ServerRole name what a host does in the protocol
	// ("Modbus client"); "" when the side has no role worth naming.
	ClientRole, ServerRole string
	// Functions names a function, service or type code ("" unknown), for
	// the operations log.
	Functions func(fc int) string
	// Actions are the security-relevant operations the dissector flags,
	// with the always-on alert each raises (none when Alert is nil).
	Actions []ActionInfo
	// Plugin marks a protocol described by a plugin (sensorcore/plugin):
	// on its own ports it is tried before the built-in dissectors, since
	// the plant that signed it knows its network better.
	Plugin bool
	// Counts names the fields whose values a plugin tallies per PDU
	// (Result.Tallies, Counter.Tally), and CountName renders a tallied
	// value ("HEL", "7").
	Counts    []string
	CountName func(field int, v int64) string
	// Labels name a plugin's fields for people, by field and language
	// ("command" → "en" → "Command"): the console shows the operations
	// log's fields under them in the browser's language.
	Labels map[string]Texts
}

// Texts are one text in several languages, keyed by a BCP 47 language
// tag ("en", "de").
type Texts map[string]string

// Pick returns the text for the first of the languages that has one,
// else English, else any (the smallest tag, for a stable choice).
func (t Texts) Pick(langs ...string) string {
	for _, l := range langs {
		if s, ok := t[l]; ok {
			return s
		}
	}
	if s, ok := t["en"]; ok {
		return s
	}
	best := ""
	for l := range t {
		if best == "" || l < best {
			best = l
		}
	}
	return t[best]
}

// ActionInfo describes one Action and the alert it raises on its own,
// whatever the baseline.
type ActionInfo struct {
	Action Action
	Name   string
	Alert  *ActionAlert
}

// ActionAlert is an always-on alert rule carried by a descriptor.
type ActionAlert struct {
	Rule     string // stable rule id ("s7-plc-stop")
	Severity string // low, medium, high, critical
	Title    string
	Text     string // the message's lead sentence; evidence is appended
	// WithFunction keeps the function code in the alert (and in its
	// de-duplication key).
	WithFunction bool
}

// Registry holds the protocol descriptors. Lookups read an immutable
// snapshot through one atomic load, so the packet path never locks;
// Register publishes a new snapshot.
type Registry struct {
	mu   sync.Mutex // serialises Register, Reserve, Replace, Unregister
	snap atomic.Pointer[Snapshot]
	// reserved keeps the id a name was given and the action ids of its
	// rules, for the life of the process: a plugin loaded again (a new
	// version, or after it was removed) keeps its id, so its counters,
	// inventory roles and classified streams carry on.
	reserved map[string]reservation
	// boot holds the built-in descriptors as they register at start-up
	// (mustRegister); the registry's first use publishes them in one
	// snapshot (snap is nil until then). Publishing a snapshot per
	// protocol rebuilt every list and map a dozen times at every start of
	// sensorcore: 879 allocations, where one snapshot needs a tenth.
	boot []Descriptor
}

type reservation struct {
	id      uint8
	actions map[string]Action
}

// Action ids from FirstPluginAction up are handed out by Reserve; the
// built-in actions stay below.
const FirstPluginAction Action = 64

// Snapshot is the registry at one moment; it never changes. A pipeline
// keeps one and picks up a newer one between packets.
type Snapshot struct {
	// Gen grows with every registration.
	Gen  uint64
	byID [MaxProtocols]*Descriptor
	// TCP and UDP list the protocols by transport in the order content
	// matching tries them (by id).
	TCP []TCPProtocol
	UDP []UDPProtocol
	// L2 lists the protocols carried directly in Ethernet frames.
	L2 []L2Protocol
	// Industrial lists the industrial protocol ids in id order.
	Industrial []uint8
	actions    map[Action]*ActionInfo
	byName     map[string]*Descriptor
}

// NewRegistry makes an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	r.snap.Store(&Snapshot{actions: map[Action]*ActionInfo{}, byName: map[string]*Descriptor{}})
	return r
}

// Register adds d, assigning the lowest free id when d.ID is 0, and
// returns the id. A name or id already taken, a missing name, or an
// action another protocol declared is refused.
func (r *Registry) Register(d Descriptor) (uint8, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	d, err := old.admit(d, r.reserved)
	if err != nil {
		return 0, err
	}
	r.publish(old, d)
	return d.ID, nil
}

// admit checks that d may join s (a name, and a name, id and actions no
// other protocol holds) and gives it the lowest id neither taken nor
// reserved when it has none.
func (s *Snapshot) admit(d Descriptor, reserved map[string]reservation) (Descriptor, error) {
	if d.Name == "" {
		return d, fmt.Errorf("dissect: a protocol descriptor needs a name")
	}
	if _, ok := s.byName[d.Name]; ok {
		return d, fmt.Errorf("dissect: protocol %q is already registered", d.Name)
	}
	if d.ID == 0 {
		taken := map[uint8]bool{}
		for _, v := range reserved {
			taken[v.id] = true
		}
		for id := uint8(1); id < MaxProtocols; id++ {
			if s.byID[id] == nil && !taken[id] {
				d.ID = id
				break
			}
		}
		if d.ID == 0 {
			return d, fmt.Errorf("dissect: protocol %q: all %d protocol ids are taken", d.Name, MaxProtocols-1)
		}
	}
	if d.ID >= MaxProtocols || s.byID[d.ID] != nil {
		return d, fmt.Errorf("dissect: protocol %q: id %d is taken or out of range", d.Name, d.ID)
	}
	for _, a := range d.Actions {
		if _, ok := s.actions[a.Action]; ok || a.Action == ActNone {
			return d, fmt.Errorf("dissect: protocol %q: action %d (%s) is already declared", d.Name, a.Action, a.Name)
		}
	}
	return d, nil
}

// publish stores a snapshot of old with d in its id's place (replacing
// what was there) or, with d.Name empty, with id del removed.
func (r *Registry) publish(old *Snapshot, d Descriptor, del ...uint8) {
	s := &Snapshot{Gen: old.Gen + 1, byID: old.byID}
	for _, id := range del {
		s.byID[id] = nil
	}
	if d.Name != "" {
		s.byID[d.ID] = owned(d)
	}
	s.derive()
	r.snap.Store(s)
}

// owned is a copy of d whose transport bindings are its own, carrying
// its id.
func owned(d Descriptor) *Descriptor {
	if d.TCP != nil {
		t := *d.TCP
		t.ID = d.ID
		d.TCP = &t
	}
	if d.UDP != nil {
		u := *d.UDP
		u.ID = d.ID
		d.UDP = &u
	}
	if d.L2 != nil {
		l := *d.L2
		l.ID = d.ID
		d.L2 = &l
	}
	return &d
}

// derive fills s's lists and maps from s.byID: every list in id order.
func (s *Snapshot) derive() {
	var nTCP, nUDP, nL2, nInd, nName, nAct int
	for _, p := range s.byID {
		if p != nil {
			nTCP, nUDP, nL2 = nTCP+b2i(p.TCP != nil), nUDP+b2i(p.UDP != nil), nL2+b2i(p.L2 != nil)
			nInd, nName, nAct = nInd+b2i(p.Industrial), nName+1, nAct+len(p.Actions)
		}
	}
	s.TCP, s.UDP, s.L2 = make([]TCPProtocol, 0, nTCP), make([]UDPProtocol, 0, nUDP), make([]L2Protocol, 0, nL2)
	s.Industrial = make([]uint8, 0, nInd)
	s.byName, s.actions = make(map[string]*Descriptor, nName), make(map[Action]*ActionInfo, nAct)
	for _, p := range s.byID {
		if p == nil {
			continue
		}
		s.byName[p.Name] = p
		if p.TCP != nil {
			s.TCP = append(s.TCP, *p.TCP)
		}
		if p.UDP != nil {
			s.UDP = append(s.UDP, *p.UDP)
		}
		if p.L2 != nil {
			s.L2 = append(s.L2, *p.L2)
		}
		if p.Industrial {
			s.Industrial = append(s.Industrial, p.ID)
		}
		for i := range p.Actions {
			s.actions[p.Actions[i].Action] = &p.Actions[i]
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// load returns the current snapshot, publishing the built-in descriptors
// first on the registry's first use; r.mu is held. They are admitted one
// by one as Register would (a clash panics, as it would have at start-up)
// into one snapshot, whose Gen counts them as if each had been published.
func (r *Registry) load() *Snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	s := &Snapshot{byName: map[string]*Descriptor{}, actions: map[Action]*ActionInfo{}}
	for _, d := range r.boot {
		d, err := s.admit(d, r.reserved)
		if err != nil {
			panic(err)
		}
		p := owned(d)
		s.byID[p.ID], s.byName[p.Name] = p, p
		for i := range p.Actions {
			s.actions[p.Actions[i].Action] = &p.Actions[i]
		}
		s.Gen++
	}
	s.derive()
	r.boot = nil
	r.snap.Store(s)
	return s
}

// Reserve gives the protocol name an id and each of its rules an action
// id, the same ones every time within the process (a plugin loaded again
// keeps them). It registers nothing: Replace does, with those ids. A name
// a built-in protocol holds is refused, as is a name when every id is
// taken or reserved.
func (r *Registry) Reserve(name string, rules []string) (uint8, []Action, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reserved == nil {
		r.reserved = map[string]reservation{}
	}
	s := r.load()
	res, ok := r.reserved[name]
	if !ok {
		if d := s.byName[name]; d != nil {
			return 0, nil, fmt.Errorf("dissect: protocol %q is built in; choose another name", name)
		}
		taken := map[uint8]bool{}
		for _, v := range r.reserved {
			taken[v.id] = true
		}
		for id := uint8(1); id < MaxProtocols; id++ {
			if s.byID[id] == nil && !taken[id] {
				res = reservation{id: id, actions: map[string]Action{}}
				break
			}
		}
		if res.id == 0 {
			return 0, nil, fmt.Errorf("dissect: protocol %q: all %d protocol ids are taken", name, MaxProtocols-1)
		}
		r.reserved[name] = res
	}
	acts := make([]Action, len(rules))
	for i, rule := range rules {
		a, ok := res.actions[rule]
		if !ok {
			used := map[Action]bool{}
			for _, v := range r.reserved {
				for _, x := range v.actions {
					used[x] = true
				}
			}
			for c := int(FirstPluginAction); c < 256; c++ {
				if !used[Action(c)] && s.actions[Action(c)] == nil {
					a = Action(c)
					break
				}
			}
			if a == ActNone {
				return 0, nil, fmt.Errorf("dissect: protocol %q: no action id left for rule %q", name, rule)
			}
			res.actions[rule] = a
		}
		acts[i] = a
	}
	return res.id, acts, nil
}

// Replace registers d under the id Reserve gave its name, replacing the
// descriptor registered there before (an earlier version of the same
// plugin). Its actions must be those Reserve gave.
func (r *Registry) Replace(d Descriptor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.reserved[d.Name]
	if !ok || res.id != d.ID {
		return fmt.Errorf("dissect: protocol %q: replace needs the id Reserve gave it", d.Name)
	}
	old := r.load()
	mine := map[Action]bool{}
	for _, a := range res.actions {
		mine[a] = true
	}
	for _, a := range d.Actions {
		if !mine[a.Action] {
			return fmt.Errorf("dissect: protocol %q: action %d (%s) was not reserved for it", d.Name, a.Action, a.Name)
		}
	}
	r.publish(old, d)
	return nil
}

// Unregister removes the protocol registered by Replace under name; its
// id stays reserved for it. Built-in protocols cannot be removed.
func (r *Registry) Unregister(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.reserved[name]
	old := r.load()
	if !ok || old.byID[res.id] == nil {
		return
	}
	r.publish(old, Descriptor{}, res.id)
}

// Snapshot returns the registry as it is now.
func (r *Registry) Snapshot() *Snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	return r.first()
}

// first publishes the built-in descriptors (Snapshot's first call).
func (r *Registry) first() *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load()
}

// Protocol returns the descriptor of id, or nil.
func (s *Snapshot) Protocol(id uint8) *Descriptor {
	if id >= MaxProtocols {
		return nil
	}
	return s.byID[id]
}

// ByName returns the descriptor named name, or nil.
func (s *Snapshot) ByName(name string) *Descriptor { return s.byName[name] }

// Protocols lists every descriptor in id order.
func (s *Snapshot) Protocols() []*Descriptor {
	var out []*Descriptor
	for _, p := range s.byID {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// Action returns what the registry knows of a, or nil.
func (s *Snapshot) Action(a Action) *ActionInfo { return s.actions[a] }

// builtin is the process registry: the built-in dissectors register into
// it at start-up (the only package state, as gopacket's layer types), and
// plugins at run time.
var builtin = &Registry{}

// Default returns the process registry.
func Default() *Registry { return builtin }

// mustRegister registers a built-in descriptor at start-up, to be
// published with the others on the registry's first use.
func mustRegister(d Descriptor) {
	builtin.boot = append(builtin.boot, d)
}

// Name is the protocol's key in reports and JSON ("unknown" for an id
// nobody registered).
func Name(id uint8) string {
	if d := builtin.Snapshot().Protocol(id); d != nil {
		return d.Name
	}
	return "unknown"
}

// ID is the id of the protocol named name, or None.
func ID(name string) uint8 {
	if d := builtin.Snapshot().ByName(name); d != nil {
		return d.ID
	}
	return None
}

// Industrial returns the industrial protocol ids in report order: the keys
// of analyze's "protocols" object.
func Industrial() []uint8 { return builtin.Snapshot().Industrial }

// IsIndustrial reports whether id is an industrial protocol.
func IsIndustrial(id uint8) bool {
	d := builtin.Snapshot().Protocol(id)
	return d != nil && d.Industrial
}

// TCPProtocols lists the TCP protocols in the order content matching tries
// them.
func TCPProtocols() []TCPProtocol { return builtin.Snapshot().TCP }

// UDPProtocols lists the UDP protocols.
func UDPProtocols() []UDPProtocol { return builtin.Snapshot().UDP }

// FunctionName names a protocol's function code, "" when unknown.
func FunctionName(id uint8, fc int) string {
	if d := builtin.Snapshot().Protocol(id); d != nil && d.Functions != nil && fc >= 0 {
		return d.Functions(fc)
	}
	return ""
}

// ActionName is a short, stable description of a.
func ActionName(a Action) string {
	if ai := builtin.Snapshot().Action(a); ai != nil {
		return ai.Name
	}
	return ""
}

// ActionAlertOf is the always-on alert a raises, or nil.
func ActionAlertOf(a Action) *ActionAlert {
	if ai := builtin.Snapshot().Action(a); ai != nil {
		return ai.Alert
	}
	return nil
}

// OperationID is the stable id of an operation (the operations log's
// "id"): FNV-1a over the request's time (unix nanoseconds; the response's
// when no request was seen), the client and server ends, the protocol,
// the function and the transaction id. The same traffic gives the same id
// on every run and every sensor, so consumers de-duplicate on it, and an
// alert names the operations that raised it by it.
func OperationID(at int64, client, server decode.Addr, cport, sport uint16, proto uint8, fc, txn int) uint64 {
	return OperationIDOf(at, &client, &server, cport, sport, proto, fc, txn)
}

// OperationIDOf is OperationID of the ends client and server given by
// reference: the operations log's records call it with the ends in their
// entry, without copying both into the call's arguments.
func OperationIDOf(at int64, client, server *decode.Addr, cport, sport uint16, proto uint8, fc, txn int) uint64 {
	// The fixed-size fields are hashed from registers, their big-endian
	// bytes high first, in straight-line code (fnv32): the same id as
	// hashing their bytes in a loop, at about a third of the instructions.
	h := uint64(14695981039346656037)
	h = fnv32(fnv32(h, uint32(uint64(at)>>32)), uint32(at))
	h = fnvAddr(h, client)
	h = fnvAddr(h, server)
	h = (fnv32(h, uint32(cport)<<16|uint32(sport)) ^ uint64(proto)) * fnvPrime
	return fnv32(fnv32(h, uint32(int32(fc))), uint32(int32(txn)))
}

const fnvPrime = 1099511628211

// fnv32 adds the four bytes of v, high first, to the FNV-1a hash h.
func fnv32(h uint64, v uint32) uint64 {
	h = (h ^ uint64(v>>24)) * fnvPrime
	h = (h ^ uint64(v>>16&0xff)) * fnvPrime
	h = (h ^ uint64(v>>8&0xff)) * fnvPrime
	return (h ^ uint64(v&0xff)) * fnvPrime
}

// fnvAddr adds the bytes of a to the FNV-1a hash h (an IPv4 address as
// one word).
func fnvAddr(h uint64, a *decode.Addr) uint64 {
	if a.Len == 4 {
		return fnv32(h, binary.BigEndian.Uint32(a.B[:4]))
	}
	for _, c := range a.B[:a.Len] {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// Role is what a host does in protocols, as a bit set: protocol id i owns
// bit 2i (its client side) and bit 2i+1 (its server side).
type Role uint64

// ClientRole and ServerRole are the role bits of protocol id.
func ClientRole(id uint8) Role { return 1 << (2 * uint(id)) }
func ServerRole(id uint8) Role { return 1 << (2*uint(id) + 1) }

// RoleNames lists the names of the roles set in r, in id order.
func RoleNames(r Role) []string {
	var out []string
	s := builtin.Snapshot()
	for bit := 0; r != 0 && bit < 2*MaxProtocols; bit++ {
		if r&(1<<bit) == 0 {
			continue
		}
		if d := s.Protocol(uint8(bit / 2)); d != nil {
			if n := [2]string{d.ClientRole, d.ServerRole}[bit%2]; n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// RoleFromNames is the inverse of RoleNames; unknown names are ignored.
func RoleFromNames(names []string) Role {
	var r Role
	ps := builtin.Snapshot().Protocols()
	for _, n := range names {
		for _, d := range ps {
			if d.ClientRole == n {
				r |= ClientRole(d.ID)
			}
			if d.ServerRole == n {
				r |= ServerRole(d.ID)
			}
		}
	}
	return r
}
