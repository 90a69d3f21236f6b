package plugin

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/common/types"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// The interpreter runs a plugin's program over one PDU. It works in
// place on the PDU's bytes (text and bytes values alias them), checks
// every read against the end of its window, counts every step against
// MaxSteps and every repeat against its cap, and reuses its state from
// PDU to PDU (kept in dissect.Result.Aux), so a PDU costs no allocation.

// Predeclared errors: every one wraps dissect.ErrMalformed.
var (
	errShort   = dissect.Malformed("plugin: the PDU ends inside a field")
	errValid   = dissect.Malformed("plugin: a field's value is not one the plugin allows")
	errCase    = dissect.Malformed("plugin: a switch found no case for the value and has no default")
	errNegSize = dissect.Malformed("plugin: a size or count is negative")
	errTrail   = dissect.Malformed("plugin: bytes left where the PDU should end")
)

// value is a field's value in one PDU. It holds no pointer: a text or
// bytes value is where it lies in the PDU (off, n), so writing it costs
// no write barrier and the values of a PDU are forgotten by moving the
// state's generation on, not by clearing them.
type value struct {
	gen uint32 // the value is set in this PDU when gen is the state's
	off int32  // text and bytes: where in the PDU
	n   int32
	i   int64
}

// state is one pipeline's interpreter state for one plugin.
type state struct {
	p       *Plugin
	vals    []value
	gen     uint32
	pdu     []byte // the PDU being decoded (values alias it)
	steps   int
	request bool
	buf     []byte // the operations log fields
	act     celVars
	memo    []ruleMemo // per alert rule
	keyBuf  []byte
	marks   uint8 // the marks of the values this PDU stored
}

// scratch is what a pipeline keeps in dissect.Result.Aux: one state per
// plugin it has met.
type scratch struct {
	states []*state
}

func (p *Plugin) state(r *dissect.Result) *state {
	sc, _ := r.Aux.(*scratch)
	if sc == nil {
		sc = &scratch{}
		r.Aux = sc
	}
	for _, st := range sc.states {
		if st.p == p {
			return st
		}
	}
	st := &state{p: p, vals: make([]value, len(p.slots)), buf: make([]byte, 0, 256), memo: make([]ruleMemo, len(p.alerts))}
	st.act = celVars{p: p, st: st}
	if len(sc.states) >= 64 {
		sc.states = sc.states[1:] // old plugin versions go first
	}
	sc.states = append(sc.states, st)
	return st
}

// isSet reports whether slot s was read in this PDU.
func (st *state) isSet(s int) bool { return st.vals[s].gen == st.gen }

// bytesOf is a text or bytes value's bytes (aliasing the PDU).
func (st *state) bytesOf(v *value) []byte { return st.pdu[v.off : v.off+v.n] }

// intOf is slot s's integer when this PDU carried it.
func (st *state) intOf(s int) (int64, bool) {
	if s < 0 || st.vals[s].gen != st.gen {
		return 0, false
	}
	return st.vals[s].i, true
}

// reader reads a window [off, end) of the PDU.
type reader struct {
	off, end int
	bit      int // bits of pdu[off] already read (bit fields)
}

func (r *reader) align() {
	if r.bit > 0 {
		r.off++
		r.bit = 0
	}
}

func (r *reader) left() int { return r.end - r.off }

func readInt(b []byte, width int, little, signed bool) int64 {
	var u uint64
	if little {
		for i := width - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
	} else {
		for i := 0; i < width; i++ {
			u = u<<8 | uint64(b[i])
		}
	}
	if signed && width < 8 && u&(1<<(8*uint(width)-1)) != 0 {
		u |= ^uint64(0) << (8 * uint(width))
	}
	return int64(u)
}

// errStop ends the PDU's reading without error: an optional field found
// its window ended. It ends every enclosing list up to the PDU, except a
// group of its own size (only that window ended).
var errStop = errors.New("plugin: optional field absent")

// run decodes b with the program; the values are in st.vals.
func (st *state) run(b []byte, dir decode.Direction) error {
	st.gen++
	if st.gen == 0 { // once in 2^32 PDUs: no value may look current
		clear(st.vals)
		st.gen = 1
	}
	st.pdu = b
	st.steps = 0
	st.marks = 0
	st.request = dir != decode.DirToClient
	rd := reader{end: len(b)}
	if err := st.list(st.p.root, &rd); err != errStop {
		return err
	}
	return nil
}

// list runs nodes in order. Integers, the most common read, are read
// here; everything else in node.
func (st *state) list(nodes []node, rd *reader) error {
	for i := range nodes {
		n := &nodes[i]
		st.steps++
		if st.steps > MaxSteps {
			return dissect.ErrPluginLimit
		}
		if n.kind == kInt {
			if rd.bit > 0 {
				rd.off++
				rd.bit = 0
			}
			if rd.end-rd.off < n.width {
				if n.optional {
					return errStop
				}
				return errShort
			}
			var v int64
			b := st.pdu[rd.off:]
			switch {
			case n.width == 1:
				v = int64(b[0])
				if n.signed {
					v = int64(int8(v))
				}
			case n.width == 2 && !n.little:
				v = int64(binary.BigEndian.Uint16(b))
				if n.signed {
					v = int64(int16(v))
				}
			case n.width == 4 && !n.little:
				v = int64(binary.BigEndian.Uint32(b))
				if n.signed {
					v = int64(int32(v))
				}
			default:
				v = readInt(b, n.width, n.little, n.signed)
			}
			rd.off += n.width
			if n.valid != nil && !n.validValue(v) {
				if n.slot >= 0 {
					st.vals[n.slot] = value{gen: st.gen, i: v}
				}
				return errValid
			}
			if n.slot >= 0 {
				st.vals[n.slot] = value{gen: st.gen, i: v}
				st.marks |= n.mark
			}
			continue
		}
		if n.kind == kSwitch && n.on >= 0 && !n.onStr {
			// a switch on an integer: its case's fields follow here
			v := &st.vals[n.on]
			if v.gen != st.gen {
				if !n.hasDef {
					continue // switched on a field this PDU did not carry
				}
				if err := st.list(n.def, rd); err != nil {
					return err
				}
				continue
			}
			t := &n.cases
			var body []node
			if d := uint64(v.i - t.lo); t.dense != nil && v.i >= t.lo && d < uint64(len(t.dense)) && t.dense[d] > 0 {
				body = t.bodies[t.dense[d]-1]
			} else if b, ok := t.find(v.i); ok {
				body = b
			} else if n.hasDef {
				body = n.def
			} else {
				return errCase
			}
			if err := st.list(body, rd); err != nil {
				return err
			}
			continue
		}
		if err := st.node(n, rd); err != nil {
			return err
		}
	}
	return nil
}

// readBits reads width bits (1-64) from b at bit offset bit of b[0], most
// significant first; b holds every byte they touch.
func readBits(b []byte, bit, width int) uint64 {
	nb := (bit + width + 7) / 8
	if nb > 8 { // a 64-bit field that starts inside a byte: bit by bit
		var v uint64
		off := 0
		for k := 0; k < width; k++ {
			v = v<<1 | uint64((b[off]>>(7-uint(bit)))&1)
			if bit++; bit == 8 {
				bit = 0
				off++
			}
		}
		return v
	}
	var acc uint64
	for _, c := range b[:nb] {
		acc = acc<<8 | uint64(c)
	}
	acc >>= uint(8*nb - bit - width)
	if width < 64 {
		acc &= 1<<uint(width) - 1
	}
	return acc
}

func (st *state) node(n *node, rd *reader) error {
	switch n.kind {
	case kBits:
		need := (rd.bit + n.width + 7) / 8
		if rd.left() < need {
			return st.short(n)
		}
		v := readBits(st.pdu[rd.off:], rd.bit, n.width)
		rd.bit += n.width
		rd.off += rd.bit / 8
		rd.bit %= 8
		return st.keep(n, int64(v), 0, 0)
	case kBytes, kStr, kSkip:
		rd.align()
		sz, err := st.size(&n.size, rd)
		if err != nil {
			if err == errShort && n.optional {
				return errStop
			}
			return err
		}
		if sz < 0 {
			sz = 0 // a negative length prefix is an absent value (OPC UA's null)
		}
		if rd.left() < sz {
			return st.short(n)
		}
		off := rd.off
		rd.off += sz
		if n.kind == kSkip {
			return nil
		}
		return st.keep(n, 0, off, sz)
	case kEnd:
		rd.align()
		if rd.left() > 0 {
			return errTrail
		}
		return nil
	case kGroup:
		rd.align()
		if !n.size.given {
			return st.list(n.body, rd)
		}
		sz, err := st.size(&n.size, rd)
		if err != nil {
			return err
		}
		if sz < 0 {
			return errNegSize
		}
		if rd.left() < sz {
			return st.short(n)
		}
		sub := reader{off: rd.off, end: rd.off + sz}
		rd.off += sz
		if err := st.list(n.body, &sub); err != errStop {
			return err
		}
		return nil // only the group's window ended
	case kSwitch:
		var body []node
		var ok bool
		if n.on < 0 {
			k := 1
			if st.request {
				k = 0
			}
			body, ok = n.dirCases[k], n.dirHas[k]
		} else if v := &st.vals[n.on]; v.gen != st.gen {
			ok = false
		} else if st.p.slots[n.on].vk == vStr {
			body, ok = n.strCases[string(st.bytesOf(v))]
		} else {
			body, ok = n.cases.find(v.i)
		}
		if !ok {
			if !n.hasDef {
				if n.on >= 0 && !st.isSet(n.on) {
					return nil // switched on a field this PDU did not carry
				}
				return errCase
			}
			body = n.def
		}
		return st.list(body, rd)
	case kRepeat:
		if n.size.rest {
			for k := 0; ; k++ {
				rd.align()
				if rd.left() == 0 {
					return nil
				}
				if k >= n.max {
					return dissect.ErrPluginLimit
				}
				before, beforeBit := rd.off, rd.bit
				if err := st.list(n.body, rd); err != nil {
					return err
				}
				if rd.off == before && rd.bit == beforeBit {
					return dissect.ErrPluginLimit // an item that reads nothing would repeat forever
				}
			}
		}
		cnt, err := st.size(&n.size, rd)
		if err != nil {
			return err
		}
		if cnt < 0 {
			return errNegSize
		}
		if cnt > n.max {
			return dissect.ErrPluginLimit
		}
		for k := 0; k < cnt; k++ {
			if err := st.list(n.body, rd); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

func (st *state) short(n *node) error {
	if n.optional {
		return errStop
	}
	return errShort
}

// keep checks an integer against the node's valid values and stores the
// value (an integer, or the text or bytes at off, cnt) in its slot.
func (st *state) keep(n *node, i int64, off, cnt int) error {
	if n.valid != nil && !n.validValue(i) {
		if n.slot >= 0 {
			st.vals[n.slot] = value{gen: st.gen, i: i}
		}
		return errValid
	}
	if n.slot >= 0 {
		if n.kind == kStr {
			cnt = trimPad(st.pdu[off : off+cnt])
		}
		st.vals[n.slot] = value{gen: st.gen, i: i, off: int32(off), n: int32(cnt)}
		st.marks |= n.mark
	}
	return nil
}

// trimPad is the length of b without the NULs and spaces fixed-size texts
// are padded with.
func trimPad(b []byte) int {
	n := len(b)
	for n > 0 && (b[n-1] == 0 || b[n-1] == ' ') {
		n--
	}
	return n
}

// size evaluates a size or count.
func (st *state) size(s *size, rd *reader) (int, error) {
	switch {
	case s.rest:
		return rd.left(), nil
	case s.prefix != nil:
		p := s.prefix
		if rd.left() < p.width {
			return 0, errShort
		}
		v := readInt(st.pdu[rd.off:], p.width, p.little, p.signed)
		rd.off += p.width
		if p.width == 8 && !p.signed && v < 0 {
			v = MaxPDU + 1 // a u8 over 2^63
		}
		return clampSize(v), nil
	case s.slot >= 0:
		v, _ := st.intOf(s.slot) // a field this PDU did not carry is 0
		return clampSize(v), nil
	}
	return s.fixed, nil
}

// clampSize bounds a size or count read from the PDU to what an int
// holds everywhere: anything over MaxPDU is past any window (a size) and
// over any repeat's cap (a count), anything under -MaxPDU is negative.
func clampSize(v int64) int {
	switch {
	case v > MaxPDU:
		return MaxPDU + 1
	case v < -MaxPDU:
		return -MaxPDU - 1
	}
	return int(v)
}

// frameLen is the framing's Len: the PDU's length at the start of b, 0
// when more bytes are needed, -1 when b does not start a PDU.
func (p *Plugin) frameLen(b []byte) int {
	f := p.frame
	for i := range f.checks {
		switch f.checks[i].test(b, p.little) {
		case -1:
			return -1
		}
	}
	if len(b) < f.at+f.size {
		return 0
	}
	v := readInt(b[f.at:], f.size, f.little, false) + f.adjust
	if v < int64(f.min) || v > int64(f.max) {
		return -1
	}
	if len(b) < int(v) {
		return 0
	}
	return int(v)
}

// test returns 1 when the check holds, -1 when it fails, 0 when b is too
// short to tell.
func (c *check) test(b []byte, little bool) int {
	if c.size > 0 {
		if len(b) < c.at+c.size {
			return 0
		}
		v := uint64(readInt(b[c.at:], c.size, little, false)) & c.mask
		for _, x := range c.ints {
			if v == x&c.mask {
				return 1
			}
		}
		return -1
	}
	undecided := false
	for _, x := range c.bytes {
		if len(b) < c.at+len(x) {
			undecided = true
			continue
		}
		if string(b[c.at:c.at+len(x)]) == string(x) {
			return 1
		}
	}
	if undecided {
		return 0
	}
	return -1
}

// match is the content test: the signature and the framing checks hold,
// and the bytes frame cleanly (whole PDUs, possibly ending with the start
// of one).
func (p *Plugin) match(b []byte) bool {
	if len(p.signature) == 0 {
		return false // found on its ports only
	}
	for i := range p.signature {
		if p.signature[i].test(b, p.little) != 1 {
			return false
		}
	}
	if p.frame == nil {
		return true
	}
	for len(b) > 0 {
		n := p.frameLen(b)
		if n < 0 {
			return false
		}
		if n == 0 {
			return true
		}
		b = b[n:]
	}
	return true
}

// matchPort is the looser test on the protocol's own ports, for UDP: the
// signature when there is one, else any datagram that frames.
func (p *Plugin) matchPort(b []byte) bool {
	if len(p.signature) > 0 {
		return p.match(b)
	}
	return p.frame == nil || p.frameLen(b) > 0
}

// Decode decodes one PDU into r, for the protocol registered under id.
func (p *Plugin) Decode(id uint8, b []byte, dir decode.Direction, r *dissect.Result) error {
	r.Reset(id)
	st := p.state(r)
	err := st.run(b, dir)
	p.fill(st, id, dir, r)
	if err != nil {
		return err
	}
	if p.hasAlerts {
		return p.evalAlerts(st, r)
	}
	return nil
}

// fill copies what the operation, inventory and counts take from the
// values into r.
func (p *Plugin) fill(st *state, id uint8, dir decode.Direction, r *dissect.Result) {
	if v, ok := st.intOf(p.op.function); ok && v >= 0 && v <= 1<<31-1 {
		r.Function = int(v)
	}
	r.Request = st.request
	r.Response = !st.request
	if v, ok := st.intOf(p.op.status); ok && v >= 0 && v <= 1<<31-1 {
		r.Request, r.Response, r.Status = false, true, int(v)
	} else if r.Response {
		r.Status = 0
	}
	if r.Request {
		r.SrcRole, r.DstRole = dissect.ClientRole(id), dissect.ServerRole(id)
	} else {
		r.SrcRole, r.DstRole = dissect.ServerRole(id), dissect.ClientRole(id)
	}
	if len(p.op.unloggedList) > 0 && p.op.isUnlogged(int64(r.Function)) {
		r.Request, r.Response = false, false // counted, but no operation
	}
	if v, ok := st.intOf(p.op.transaction); ok && v >= 0 && v <= 1<<31-1 {
		r.Txn = int(v)
	}
	if v, ok := st.intOf(p.op.unit); ok && v >= 0 && v <= 1<<31-1 {
		r.Unit = int(v)
	}
	if v, ok := st.intOf(p.op.address); ok && v >= 0 && v <= 1<<31-1 {
		r.Address = int(v)
	}
	if v, ok := st.intOf(p.op.quantity); ok && v >= 0 && v <= 1<<31-1 {
		r.Quantity = int(v)
	}
	if st.marks == 0 {
		return
	}
	for k, s := range p.counts {
		if st.marks&markCounted == 0 {
			break
		}
		if !st.isSet(s) {
			continue
		}
		v := &st.vals[s]
		if p.slots[s].vk == vStr {
			r.AddTally(uint8(k), packString(st.bytesOf(v)))
		} else {
			r.AddTally(uint8(k), v.i)
		}
	}
	if st.marks&markLogged != 0 {
		st.buf = p.appendFields(st.buf[:0], st)
		r.SetFields(st.buf)
	}
	if st.marks&markIdentity == 0 {
		return
	}
	for _, i := range p.identity {
		if !st.isSet(i) {
			continue
		}
		sl := &p.slots[i]
		s := p.text(st, i)
		if s == "" {
			continue
		}
		switch sl.identity {
		case "vendor":
			r.WriteIdent().Vendor = s
		case "model":
			r.WriteIdent().Model = s
		case "firmware":
			r.WriteIdent().Firmware = s
		case "serial":
			r.WriteIdent().Serial = s
		case "name":
			r.WriteIdent().Name = s
		}
		r.HasIdent = true
	}
}

// packString packs up to the first 8 bytes of a text into a tally value.
func packString(b []byte) int64 {
	var v [8]byte
	copy(v[:], b)
	return int64(binary.BigEndian.Uint64(v[:]))
}

func unpackString(v int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return strings.TrimRight(string(b[:]), "\x00")
}

// countName renders a tallied value: its enum name, else the number or
// text.
func (p *Plugin) countName(field int, v int64) string {
	if field < 0 || field >= len(p.counts) {
		return ""
	}
	s := &p.slots[p.counts[field]]
	if s.vk == vStr {
		str := unpackString(v)
		if s.enum != nil {
			if t, ok := s.enum.strs[str]; ok {
				return t.Pick("en")
			}
		}
		return sanitize(str)
	}
	if s.enum != nil {
		if t, ok := s.enum.ints[v]; ok {
			return t.Pick("en")
		}
	}
	return strconv.FormatInt(v, 10)
}

// text is slot's value in this PDU for people: an enum's name (in the
// first of langs it has), a number, a text (sanitised), or hex bytes.
func (p *Plugin) text(st *state, slot int, langs ...string) string {
	s := &p.slots[slot]
	v := &st.vals[slot]
	switch s.vk {
	case vStr:
		b := st.bytesOf(v)
		if s.enum != nil {
			if t, ok := s.enum.strs[string(b)]; ok {
				return t.Pick(langs...)
			}
		}
		return sanitize(string(b))
	case vBytes:
		const hexd = "0123456789abcdef"
		b := st.bytesOf(v)
		if len(b) > MaxLoggedBytes {
			b = b[:MaxLoggedBytes]
		}
		out := make([]byte, 0, 2*len(b))
		for _, c := range b {
			out = append(out, hexd[c>>4], hexd[c&15])
		}
		return string(out)
	}
	if s.enum != nil {
		if t, ok := s.enum.ints[v.i]; ok {
			return t.Pick(langs...)
		}
	}
	return strconv.FormatInt(v.i, 10)
}

// sanitize keeps a text from the wire printable: invalid UTF-8 and
// control characters become U+FFFD, and it is cut at MaxLoggedBytes.
func sanitize(s string) string {
	if len(s) > MaxLoggedBytes {
		s = s[:MaxLoggedBytes]
	}
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			r = '\ufffd'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// appendFields writes the logged fields that this PDU carried as JSON
// object members: numbers as numbers (with NAME_name for an enum's
// name), texts as strings, bytes as hex strings.
func (p *Plugin) appendFields(b []byte, st *state) []byte {
	first := true
	for _, s := range p.op.log {
		if !st.isSet(s) {
			continue
		}
		v := &st.vals[s]
		if !first {
			b = append(b, ',')
		}
		first = false
		sl := &p.slots[s]
		b = append(b, '"')
		b = append(b, sl.name...)
		b = append(b, `":`...)
		switch sl.vk {
		case vInt:
			b = strconv.AppendInt(b, v.i, 10)
			if sl.enum != nil {
				if t, ok := sl.enum.ints[v.i]; ok {
					b = append(b, `,"`...)
					b = append(b, sl.name...)
					b = append(b, `_name":"`...)
					b = append(b, t["en"]...) // plain ASCII (checked when parsed)
					b = append(b, '"')
				}
			}
		case vStr:
			x := st.bytesOf(v)
			if len(x) > MaxLoggedBytes {
				x = x[:MaxLoggedBytes]
			}
			b = appendJSONString(b, x)
		case vBytes:
			const hexd = "0123456789abcdef"
			x := st.bytesOf(v)
			if len(x) > MaxLoggedBytes {
				x = x[:MaxLoggedBytes]
			}
			b = append(b, '"')
			for _, c := range x {
				b = append(b, hexd[c>>4], hexd[c&15])
			}
			b = append(b, '"')
		}
	}
	return b
}

// appendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s []byte) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
			default:
				b = append(b, c)
			}
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[:n]...)
		}
		s = s[n:]
	}
	return append(b, '"')
}

// ruleMemo is a rule's last evaluation in one state: the values of the
// fields its condition reads (key) and what it gave. The same values give
// the same outcome (a condition is a pure function of them, its cost
// too), so a stream of PDUs whose fields of interest repeat, as a PMU's
// data frames do, evaluates each rule once.
type ruleMemo struct {
	key   []byte
	valid bool
	out   int8 // 0 false, 1 true, 2 over its cost or failed
}

// maxMemoKey bounds the bytes of a memo key; a condition over longer
// texts is evaluated every time.
const maxMemoKey = 512

// memoKey appends the values rule ru reads in this PDU to b; ok is false
// when they are too long to remember.
func (st *state) memoKey(b []byte, ru *rule) ([]byte, bool) {
	if ru.usesRequest {
		if st.request {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	for _, s := range ru.refs {
		if !st.isSet(s) {
			b = append(b, 0)
			continue
		}
		v := &st.vals[s]
		if st.p.slots[s].vk == vInt {
			b = append(b, 1)
			b = binary.LittleEndian.AppendUint64(b, uint64(v.i))
			continue
		}
		x := st.bytesOf(v)
		if len(b)+len(x)+5 > maxMemoKey {
			return b, false
		}
		b = append(b, 2)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(x)))
		b = append(b, x...)
	}
	return b, len(b) <= maxMemoKey
}

// evalAlerts runs the alert conditions; the first that holds sets the
// PDU's action and renders the alert's texts. A condition that exceeds
// its cost (or fails to evaluate) makes the PDU malformed by the plugin.
// A condition whose fields did not change since its last evaluation is
// not evaluated again.
func (p *Plugin) evalAlerts(st *state, r *dissect.Result) error {
	for k, ru := range p.alerts {
		m := &st.memo[k]
		var out int8
		key, ok := st.memoKey(st.keyBuf[:0], ru)
		st.keyBuf = key[:0]
		if ok && m.valid && string(m.key) == string(key) {
			out = m.out
		} else {
			res, _, err := ru.prg.Eval(&st.act)
			switch {
			case err != nil:
				out = 2
			case res == types.True:
				out = 1
			}
			if ok {
				m.key, m.out, m.valid = append(m.key[:0], key...), out, true
			} else {
				m.valid = false
			}
		}
		switch out {
		case 2:
			return dissect.ErrPluginLimit
		case 0:
			continue
		}
		r.Action = dissect.Action(ru.action)
		d := &dissect.ActionDetail{Title: dissect.Texts{}, Message: dissect.Texts{}}
		for lang, t := range ru.title {
			d.Title[lang] = t
		}
		for lang, m := range ru.msg {
			d.Message[lang] = placeholder().ReplaceAllStringFunc(m, func(ph string) string {
				name := ph[1 : len(ph)-1]
				i, ok := p.bySlot[name]
				if !ok || !st.isSet(i) {
					return "?"
				}
				return p.text(st, i, lang)
			})
		}
		r.SetDetail(d)
		return nil
	}
	return nil
}
