package plugin

import (
	"encoding/binary"
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

// value is a field's value in one PDU.
type value struct {
	set bool
	i   int64
	b   []byte
}

// state is one pipeline's interpreter state for one plugin.
type state struct {
	p       *Plugin
	vals    []value
	steps   int
	request bool
	buf     []byte // the operations log fields
	act     celVars
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
	st := &state{p: p, vals: make([]value, len(p.slots)), buf: make([]byte, 0, 256)}
	st.act = celVars{p: p, st: st}
	if len(sc.states) >= 64 {
		sc.states = sc.states[1:] // old plugin versions go first
	}
	sc.states = append(sc.states, st)
	return st
}

// reader reads a window of the PDU.
type reader struct {
	b   []byte
	off int
	bit int // bits of b[off] already read (bit fields)
}

func (r *reader) align() {
	if r.bit > 0 {
		r.off++
		r.bit = 0
	}
}

func (r *reader) left() int { return len(r.b) - r.off }

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

// run decodes b with the program; the values are in st.vals.
func (st *state) run(b []byte, dir decode.Direction) error {
	for i := range st.vals {
		st.vals[i] = value{}
	}
	st.steps = 0
	st.request = dir != decode.DirToClient
	rd := reader{b: b}
	_, err := st.list(st.p.root, &rd)
	return err
}

// list runs nodes in order. stop reports that an optional field found its
// window ended, which ends the list without error.
func (st *state) list(nodes []node, rd *reader) (stop bool, err error) {
	for i := range nodes {
		n := &nodes[i]
		st.steps++
		if st.steps > MaxSteps {
			return false, dissect.ErrPluginLimit
		}
		if stop, err := st.node(n, rd); err != nil || stop {
			return stop, err
		}
	}
	return false, nil
}

func (st *state) node(n *node, rd *reader) (bool, error) {
	switch n.kind {
	case kInt:
		rd.align()
		if rd.left() < n.width {
			return st.short(n)
		}
		v := readInt(rd.b[rd.off:], n.width, n.little, n.signed)
		rd.off += n.width
		return false, st.keep(n, v, nil)
	case kBits:
		need := (rd.bit + n.width + 7) / 8
		if rd.left() < need {
			return st.short(n)
		}
		var v uint64
		for k := 0; k < n.width; k++ {
			bit := (rd.b[rd.off] >> (7 - uint(rd.bit))) & 1
			v = v<<1 | uint64(bit)
			rd.bit++
			if rd.bit == 8 {
				rd.bit = 0
				rd.off++
			}
		}
		return false, st.keep(n, int64(v), nil)
	case kBytes, kStr, kSkip:
		rd.align()
		sz, err := st.size(&n.size, rd)
		if err != nil {
			if err == errShort && n.optional {
				return true, nil
			}
			return false, err
		}
		if sz < 0 {
			sz = 0 // a negative length prefix is an absent value (OPC UA's null)
		}
		if rd.left() < sz {
			return st.short(n)
		}
		v := rd.b[rd.off : rd.off+sz]
		rd.off += sz
		if n.kind == kSkip {
			return false, nil
		}
		return false, st.keep(n, 0, v)
	case kEnd:
		rd.align()
		if rd.left() > 0 {
			return false, errTrail
		}
		return false, nil
	case kGroup:
		rd.align()
		if !n.size.given {
			return st.list(n.body, rd)
		}
		sz, err := st.size(&n.size, rd)
		if err != nil {
			return false, err
		}
		if sz < 0 {
			return false, errNegSize
		}
		if rd.left() < sz {
			return st.short(n)
		}
		sub := reader{b: rd.b[rd.off : rd.off+sz]}
		rd.off += sz
		_, err = st.list(n.body, &sub)
		return false, err
	case kSwitch:
		var body []node
		var ok bool
		if n.on < 0 {
			k := "response"
			if st.request {
				k = "request"
			}
			body, ok = n.strCases[k]
		} else if v := &st.vals[n.on]; st.p.slots[n.on].vk == vStr {
			body, ok = n.strCases[string(v.b)]
		} else if v.set {
			body, ok = n.intCases[v.i]
		}
		if !ok {
			if !n.hasDef {
				if n.on >= 0 && !st.vals[n.on].set {
					return false, nil // switched on a field this PDU did not carry
				}
				return false, errCase
			}
			body = n.def
		}
		return st.list(body, rd)
	case kRepeat:
		if n.size.rest {
			for k := 0; ; k++ {
				rd.align()
				if rd.left() == 0 {
					return false, nil
				}
				if k >= n.max {
					return false, dissect.ErrPluginLimit
				}
				before := rd.off
				if stop, err := st.list(n.body, rd); err != nil || stop {
					return stop, err
				}
				if rd.off == before {
					return false, dissect.ErrPluginLimit // an item that reads nothing would repeat forever
				}
			}
		}
		cnt, err := st.size(&n.size, rd)
		if err != nil {
			return false, err
		}
		if cnt < 0 {
			return false, errNegSize
		}
		if cnt > n.max {
			return false, dissect.ErrPluginLimit
		}
		for k := 0; k < cnt; k++ {
			if stop, err := st.list(n.body, rd); err != nil || stop {
				return stop, err
			}
		}
		return false, nil
	}
	return false, nil
}

func (st *state) short(n *node) (bool, error) {
	if n.optional {
		return true, nil
	}
	return false, errShort
}

func (st *state) keep(n *node, i int64, b []byte) error {
	if n.valid != nil {
		ok := false
		for _, s := range n.valid {
			if i >= s.lo && i <= s.hi {
				ok = true
				break
			}
		}
		if !ok {
			if n.slot >= 0 {
				st.vals[n.slot] = value{set: true, i: i}
			}
			return errValid
		}
	}
	if n.slot >= 0 {
		if n.kind == kStr {
			b = trimPad(b)
		}
		st.vals[n.slot] = value{set: true, i: i, b: b}
	}
	return nil
}

// trimPad drops the NULs and spaces fixed-size texts are padded with.
func trimPad(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
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
		v := readInt(rd.b[rd.off:], p.width, p.little, p.signed)
		rd.off += p.width
		if v > MaxPDU {
			return 0, errShort
		}
		return int(v), nil
	case s.slot >= 0:
		v := st.vals[s.slot].i
		if v > MaxPDU {
			return 0, errShort
		}
		if v < -MaxPDU {
			return 0, errNegSize
		}
		return int(v), nil
	}
	return s.fixed, nil
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
	get := func(s int) (int64, bool) {
		if s < 0 || !st.vals[s].set {
			return 0, false
		}
		return st.vals[s].i, true
	}
	if v, ok := get(p.op.function); ok && v >= 0 && v <= 1<<31-1 {
		r.Function = int(v)
	}
	r.Request = st.request
	r.Response = !st.request
	if v, ok := get(p.op.status); ok && v >= 0 && v <= 1<<31-1 {
		r.Request, r.Response, r.Status = false, true, int(v)
	} else if r.Response {
		r.Status = 0
	}
	if r.Request {
		r.SrcRole, r.DstRole = dissect.ClientRole(id), dissect.ServerRole(id)
	} else {
		r.SrcRole, r.DstRole = dissect.ServerRole(id), dissect.ClientRole(id)
	}
	if p.op.unlogged[int64(r.Function)] {
		r.Request, r.Response = false, false // counted, but no operation
	}
	if v, ok := get(p.op.transaction); ok && v >= 0 && v <= 1<<31-1 {
		r.Txn = int(v)
	}
	if v, ok := get(p.op.unit); ok && v >= 0 && v <= 1<<31-1 {
		r.Unit = int(v)
	}
	if v, ok := get(p.op.address); ok && v >= 0 && v <= 1<<31-1 {
		r.Address = int(v)
	}
	if v, ok := get(p.op.quantity); ok && v >= 0 && v <= 1<<31-1 {
		r.Quantity = int(v)
	}
	for k, s := range p.counts {
		v := &st.vals[s]
		if !v.set {
			continue
		}
		if p.slots[s].vk == vStr {
			r.AddTally(uint8(k), packString(v.b))
		} else {
			r.AddTally(uint8(k), v.i)
		}
	}
	if len(p.op.log) > 0 {
		st.buf = p.appendFields(st.buf[:0], st)
		r.Fields = st.buf
	}
	for _, i := range p.identity {
		sl := &p.slots[i]
		if !st.vals[i].set {
			continue
		}
		s := p.text(i, &st.vals[i])
		if s == "" {
			continue
		}
		switch sl.identity {
		case "vendor":
			r.Ident.Vendor = s
		case "model":
			r.Ident.Model = s
		case "firmware":
			r.Ident.Firmware = s
		case "serial":
			r.Ident.Serial = s
		case "name":
			r.Ident.Name = s
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

// text is a value for people: an enum's name, a number, a text
// (sanitised), or hex bytes.
func (p *Plugin) text(slot int, v *value, langs ...string) string {
	s := &p.slots[slot]
	switch s.vk {
	case vStr:
		if s.enum != nil {
			if t, ok := s.enum.strs[string(v.b)]; ok {
				return t.Pick(langs...)
			}
		}
		return sanitize(string(v.b))
	case vBytes:
		const hexd = "0123456789abcdef"
		b := v.b
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
		v := &st.vals[s]
		if !v.set {
			continue
		}
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
			x := v.b
			if len(x) > MaxLoggedBytes {
				x = x[:MaxLoggedBytes]
			}
			b = appendJSONString(b, x)
		case vBytes:
			const hexd = "0123456789abcdef"
			x := v.b
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

// evalAlerts runs the alert conditions; the first that holds sets the
// PDU's action and renders the alert's texts. A condition that exceeds
// its cost (or fails to evaluate) makes the PDU malformed by the plugin.
func (p *Plugin) evalAlerts(st *state, r *dissect.Result) error {
	for _, ru := range p.alerts {
		out, _, err := ru.prg.Eval(&st.act)
		if err != nil {
			return dissect.ErrPluginLimit
		}
		if out != types.True {
			continue
		}
		r.Action = dissect.Action(ru.action)
		d := &dissect.ActionDetail{Title: dissect.Texts{}, Message: dissect.Texts{}}
		for lang, t := range ru.title {
			d.Title[lang] = t
		}
		for lang, m := range ru.msg {
			d.Message[lang] = placeholder.ReplaceAllStringFunc(m, func(ph string) string {
				name := ph[1 : len(ph)-1]
				i, ok := p.bySlot[name]
				if !ok || !st.vals[i].set {
					return "?"
				}
				return p.text(i, &st.vals[i], lang)
			})
		}
		r.Detail = d
		return nil
	}
	return nil
}
