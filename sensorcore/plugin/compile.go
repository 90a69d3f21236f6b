package plugin

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// kind is what a node reads.
type kind uint8

const (
	kInt    kind = iota // an integer of 1-8 bytes
	kBits               // 1-64 bits, most significant first
	kBytes              // bytes, shown as hex
	kStr                // text
	kSkip               // bytes passed over
	kGroup              // fields, optionally in a window of their own size
	kSwitch             // the fields of the case a value selects
	kRepeat             // fields repeated a counted number of times
	kEnd                // the window must end here
)

// valueKind is what a field holds.
type valueKind uint8

const (
	vInt valueKind = iota
	vStr
	vBytes
)

// slot is one named field: every declaration of a name shares it.
type slot struct {
	name     string
	vk       valueKind
	line     int
	enum     *enum
	label    map[string]string
	identity string // vendor, model, firmware, serial, name; "" none
	logged   bool
	tally    int // index in Plugin.counts, -1 when not counted
}

// enum names values.
type enum struct {
	name string
	ints map[int64]texts
	strs map[string]texts
}

type texts map[string]string

// Pick is the text in the first language given that has one, else
// English.
func (t texts) Pick(langs ...string) string {
	for _, l := range langs {
		if s, ok := t[l]; ok {
			return s
		}
	}
	return t["en"]
}

// span is an allowed range of values, inclusive.
type span struct{ lo, hi int64 }

// size says how many bytes (or repeats) something takes.
type size struct {
	fixed  int   // when slot < 0 and !rest and prefix == nil
	slot   int   // from a field's value; -1 none
	rest   bool  // to the end of the enclosing window
	prefix *node // a length read first (bytes and text)
	given  bool
}

// node is one step of the program.
type node struct {
	kind   kind
	slot   int // -1: the value is not kept
	line   int
	width  int // kInt: bytes; kBits: bits
	little bool
	signed bool
	size   size // kBytes, kStr, kSkip; kGroup window; kRepeat count
	valid  []span
	// optional fields may be missing at the end of their window: the
	// read and the rest of its list are skipped, not malformed.
	optional bool
	body     []node
	max      int // kRepeat cap
	on       int // kSwitch: slot switched on; -1 the direction
	intCases map[int64][]node
	strCases map[string][]node
	def      []node
	hasDef   bool

	// Made by prepare (program.go) for the interpreter's hot path.
	validBits *[4]uint64 // valid as a bitmap, when every span is within 0..255
	cases     caseTable  // intCases as a table indexed by value
	dirCases  [2][]node  // a switch on direction: [0] request, [1] response
	dirHas    [2]bool
	mark      uint8 // what the stored value is wanted for (markIdentity, ...)
	onStr     bool  // a switch on a text field
}

// check is one test at a fixed offset (signature, framing).
type check struct {
	at    int
	size  int // kInt compare width, 0 for byte strings
	mask  uint64
	ints  []uint64
	bytes [][]byte
}

// framing finds a PDU's length in its header (TCP, and UDP datagrams
// holding several PDUs).
type framing struct {
	at, size int
	little   bool
	adjust   int64
	min, max int
	checks   []check
}

// operation maps fields onto the operations log and the pairing.
type operation struct {
	function, transaction, status, unit, address, quantity int // slots, -1 none
	log                                                    []int
	// unlogged are function codes whose PDUs are counted but are no
	// operation (a PMU's stream of data frames).
	unlogged map[int64]bool
	// unloggedList is unlogged sorted, for the hot path (prepare).
	unloggedList []int64
}

type compiler struct {
	*parser
	p     *Plugin
	types map[string]*yaml.Node
	// expanding holds the named types being expanded, against cycles.
	expanding map[string]bool
	depth     int
	// refs are references to fields, resolved once every field is known.
	refs []ref
	// overNodes is set once the reads described passed MaxNodes: the
	// expansion stops there (a type used in many places, in types used
	// in many places, would otherwise multiply without end).
	overNodes bool
	// uses counts the types expanded, bounded by MaxNodes too (types of
	// no fields would otherwise expand without end and count nothing).
	uses int
}

// tooMany reports whether the reads described passed MaxNodes, refusing
// the file at n the first time.
func (c *compiler) tooMany(n *yaml.Node, path string) bool {
	if c.p.nodes <= MaxNodes && c.uses <= MaxNodes {
		return false
	}
	if !c.overNodes {
		c.overNodes = true
		c.errf(n, path, "more than %d field reads or type uses with the types expanded here: each use of a type repeats its fields, so types used in many places, inside types used in many places, multiply", MaxNodes)
	}
	return true
}

type ref struct {
	name string
	n    *yaml.Node
	path string
	set  func(slot int)
	want valueKind
	// declared is the count of slots declared when the reference was
	// read: the field must be among them (read before).
	declared int
	before   bool
}

var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z.+-]{1,32}$`) })

func (c *compiler) document(n *yaml.Node) {
	m := c.mapping(n, "")
	if m == nil {
		return
	}
	p := c.p
	p.op = operation{function: -1, transaction: -1, status: -1, unit: -1, address: -1, quantity: -1}
	if f, ok := c.str(m.get("format"), "format"); !ok || f != FormatV1 {
		if ok {
			c.errf(m.get("format"), "format", "format %q is not %q (the only format this sensorcore reads)", f, FormatV1)
		}
	}
	if v := m.get("protocol"); v != nil {
		if s, ok := c.str(v, "protocol"); ok {
			switch {
			case !identifier(s):
				c.errf(v, "protocol", "%q is not a protocol name: a lower-case letter, then lower-case letters, digits or _, at most 32", s)
			case builtinName(s):
				c.errf(v, "protocol", "%q is a built-in protocol's name; name the plugin's protocol differently (e.g. %s_plugin)", s, s)
			default:
				p.Name = s
			}
		}
	} else {
		c.errf(n, "", "protocol: is missing (the name reports count the protocol under, e.g. protocol: opcua)")
	}
	if v := m.get("title"); v != nil {
		if s, ok := c.str(v, "title"); ok {
			if !plainASCII(s) || len(s) > 64 {
				c.errf(v, "title", "the title must be at most 64 printable ASCII characters without quotes or backslashes")
			}
			p.Title = s
		}
	} else {
		c.errf(n, "", "title: is missing (the protocol's name for people, e.g. title: OPC UA Binary)")
	}
	if v := m.get("version"); v != nil {
		if s, ok := c.str(v, "version"); ok {
			if !versionRE().MatchString(s) {
				c.errf(v, "version", "%q is not a version: 0-9 A-Z a-z . + - only, at most 32 (e.g. 1.0.0)", s)
			}
			p.Version = s
		}
	} else {
		c.errf(n, "", "version: is missing (the plugin's own version, e.g. version: 1.0.0: status and the console show it)")
	}
	if v := m.get("description"); v != nil {
		if s, ok := c.str(v, "description"); ok {
			p.Description = s
		}
	}
	if v := m.get("byte_order"); v != nil {
		p.little = c.order(v, "byte_order")
	} else {
		c.errf(n, "", "byte_order: is missing (big or little: how the protocol's integers are written)")
	}
	c.transport(m.get("transport"), n)
	c.types = map[string]*yaml.Node{}
	if tn := m.get("types"); tn != nil {
		if tm := c.mapping(tn, "types"); tm != nil {
			for _, k := range tm.keys {
				if !identifier(k) {
					c.errf(tm.knode[k], "types", "%q is not a type name (lower-case letters, digits, _)", k)
				}
				c.types[k] = tm.get(k)
			}
		}
	}
	c.enums(m.get("enums"))
	if sn := m.get("signature"); sn != nil {
		p.signature = c.checks(sn, "signature")
	}
	if fn := m.get("framing"); fn != nil {
		c.framing(fn, "framing")
	} else if len(p.TCPPorts) > 0 {
		c.errf(n, "", "framing: is missing: a TCP protocol needs its length field, so PDUs that span or share segments come out whole")
	}
	fields := m.get("fields")
	if fields == nil {
		c.errf(n, "", "fields: is missing (the PDU's fields in order)")
	} else {
		p.root = c.fieldList(fields, "fields")
	}
	if len(p.slots) > MaxFields {
		c.errf(fields, "fields", "%d field names, over %d", len(p.slots), MaxFields)
	}
	if p.nodes > MaxNodes && !c.overNodes {
		c.errf(fields, "fields", "%d field reads with the types expanded, over %d", p.nodes, MaxNodes)
	}
	c.resolve()
	c.operation(m.get("operation"), n)
	c.counts(m.get("counts"))
	c.inventory(m.get("inventory"))
	c.alertRules(m.get("alerts"))
	c.resolve()
	if len(p.signature) == 0 && len(p.TCPPorts)+len(p.UDPPorts) > 0 && !c.failed() {
		c.warnf(n, "", "no signature: the protocol is found only on its ports; a signature finds it on any port")
	}
	m.done("format", "protocol", "title", "version", "description", "byte_order", "transport", "signature", "framing",
		"fields", "types", "enums", "operation", "counts", "inventory", "alerts")
}

func (c *compiler) order(n *yaml.Node, path string) bool {
	s, ok := c.str(n, path)
	if !ok {
		return false
	}
	switch s {
	case "big", "be":
		return false
	case "little", "le":
		return true
	}
	c.errf(n, path, "%q is not a byte order: big or little", s)
	return false
}

func (c *compiler) transport(n *yaml.Node, doc *yaml.Node) {
	if n == nil {
		c.errf(doc, "", "transport: is missing (tcp: [ports], udp: [ports] and/or ethertype: [0xNNNN])")
		return
	}
	m := c.mapping(n, "transport")
	if m == nil {
		return
	}
	ports := func(key string) []uint16 {
		v := m.get(key)
		if v == nil {
			return nil
		}
		items, _ := c.list(v, "transport."+key, true)
		var out []uint16
		for i, it := range items {
			if x, ok := c.intIn(it, fmt.Sprintf("transport.%s[%d]", key, i), 1, 65535); ok {
				out = append(out, uint16(x))
			}
		}
		if len(items) == 0 {
			c.errf(v, "transport."+key, "give at least one port")
		}
		return out
	}
	c.p.TCPPorts, c.p.UDPPorts = ports("tcp"), ports("udp")
	if v := m.get("ethertype"); v != nil {
		items, _ := c.list(v, "transport.ethertype", true)
		for i, it := range items {
			path := fmt.Sprintf("transport.ethertype[%d]", i)
			x, ok := c.intIn(it, path, 0x0600, 0xffff)
			if !ok {
				continue
			}
			switch x {
			case 0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x9100:
				c.errf(it, path, "0x%04x is IP, ARP or a VLAN tag, which sensorcore decodes itself; give the EtherType of the protocol (PROFINET 0x8892, GOOSE 0x88b8)", x)
				continue
			}
			c.p.EtherTypes = append(c.p.EtherTypes, uint16(x))
		}
		if len(items) == 0 {
			c.errf(v, "transport.ethertype", "give at least one EtherType, e.g. [0x8892]")
		}
	}
	if m.nodes["tcp"] == nil && m.nodes["udp"] == nil && m.nodes["ethertype"] == nil {
		c.errf(n, "transport", "give tcp: [ports], udp: [ports], ethertype: [0xNNNN] or several")
	}
	m.done("tcp", "udp", "ethertype")
}

func (c *compiler) enums(n *yaml.Node) {
	if n == nil {
		return
	}
	m := c.mapping(n, "enums")
	if m == nil {
		return
	}
	for _, name := range m.keys {
		path := "enums." + name
		if !identifier(name) {
			c.errf(m.knode[name], "enums", "%q is not an enumeration name (lower-case letters, digits, _)", name)
		}
		em := c.mapping(m.get(name), path)
		if em == nil {
			continue
		}
		e := &enum{name: name, ints: map[int64]texts{}, strs: map[string]texts{}}
		for _, k := range em.keys {
			kp := path + "." + k
			t, ok := c.texts(em.get(k), kp)
			if !ok {
				continue
			}
			if !plainASCII(t["en"]) || len(t["en"]) > 64 {
				c.errf(em.nodes[k], kp, "the English name must be at most 64 printable ASCII characters without quotes or backslashes (it is written into the operations log as it is); other languages may use any letters")
			}
			kn := em.knode[k]
			if kn.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				e.strs[k] = t
			} else if v, err := parseInt(k); err == nil {
				e.ints[v] = t
			} else {
				e.strs[k] = t
			}
		}
		c.p.enums[name] = e
	}
}

func (c *compiler) checks(n *yaml.Node, path string) []check {
	items, ok := c.list(n, path, false)
	if !ok {
		return nil
	}
	var out []check
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		m := c.mapping(it, ip)
		if m == nil {
			continue
		}
		var ck check
		at, _ := c.intIn(m.get("at"), ip+".at", 0, MaxPDU)
		ck.at = int(at)
		width := int64(0)
		if w := m.get("size"); w != nil {
			width, _ = c.intIn(w, ip+".size", 1, 8)
		}
		if mk := m.get("mask"); mk != nil {
			v, _ := c.integer(mk, ip+".mask")
			ck.mask = uint64(v)
		}
		vals, _ := c.list(m.get("is"), ip+".is", true)
		if m.nodes["is"] == nil {
			c.errf(it, ip, "is: is missing (the value or values expected at this offset)")
		}
		for j, v := range vals {
			vp := fmt.Sprintf("%s.is[%d]", ip, j)
			if v.Kind == yaml.ScalarNode && (v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || v.Tag == "!!str") {
				if len(v.Value) == 0 || len(v.Value) > 64 {
					c.errf(v, vp, "a text to match must have 1 to 64 bytes")
					continue
				}
				ck.bytes = append(ck.bytes, []byte(v.Value))
				continue
			}
			x, ok := c.integer(v, vp)
			if !ok {
				continue
			}
			ck.ints = append(ck.ints, uint64(x))
		}
		if len(ck.ints) > 0 && len(ck.bytes) > 0 {
			c.errf(it, ip, "mix of numbers and texts: a check compares either one or the other")
		}
		if len(ck.ints) > 0 {
			if width == 0 {
				width = 1
			}
			ck.size = int(width)
			if ck.mask == 0 {
				ck.mask = ^uint64(0) >> (64 - 8*uint(width))
			}
		}
		m.done("at", "is", "size", "mask")
		out = append(out, ck)
	}
	return out
}

func (c *compiler) framing(n *yaml.Node, path string) {
	m := c.mapping(n, path)
	if m == nil {
		return
	}
	f := &framing{little: c.p.little, min: 1, max: MaxPDU}
	if ln := m.get("length"); ln == nil {
		c.errf(n, path, "length: is missing ({at: OFFSET, size: 1-8}: where the PDU's length is written)")
	} else if lm := c.mapping(ln, path+".length"); lm != nil {
		at, _ := c.intIn(lm.get("at"), path+".length.at", 0, 1024)
		sz, _ := c.intIn(lm.get("size"), path+".length.size", 1, 8)
		f.at, f.size = int(at), int(sz)
		if o := lm.get("byte_order"); o != nil {
			f.little = c.order(o, path+".length.byte_order")
		}
		lm.done("at", "size", "byte_order")
	}
	if a := m.get("adjust"); a != nil {
		f.adjust, _ = c.intIn(a, path+".adjust", -MaxPDU, MaxPDU)
	}
	if v := m.get("min"); v != nil {
		x, _ := c.intIn(v, path+".min", 1, MaxPDU)
		f.min = int(x)
	}
	if v := m.get("max"); v != nil {
		x, _ := c.intIn(v, path+".max", 1, MaxPDU)
		f.max = int(x)
	}
	if f.min < f.at+f.size {
		f.min = f.at + f.size
	}
	if f.max < f.min {
		c.errf(n, path, "max (%d) is below min (%d, at least the length field's end)", f.max, f.min)
	}
	if ck := m.get("checks"); ck != nil {
		f.checks = c.checks(ck, path+".checks")
	}
	m.done("length", "adjust", "min", "max", "checks")
	c.p.frame = f
}

// fieldList compiles a list of fields, or a named type's.
func (c *compiler) fieldList(n *yaml.Node, path string) []node {
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return c.typeRef(n, path)
	}
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	items, ok := c.list(n, path, false)
	if !ok {
		return nil
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > MaxDepth {
		c.errf(n, path, "nested deeper than %d levels (groups, switches, repeats and types)", MaxDepth)
		return nil
	}
	out := make([]node, 0, len(items))
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if c.tooMany(it, ip) {
			return nil
		}
		if it.Kind == yaml.ScalarNode && it.Tag != "!!null" {
			// A type's name alone includes its fields here.
			out = append(out, c.typeRef(it, ip)...)
			continue
		}
		if nd, ok := c.field(it, ip); ok {
			out = append(out, nd)
		}
	}
	return out
}

func (c *compiler) typeRef(n *yaml.Node, path string) []node {
	c.uses++
	if c.tooMany(n, path) {
		return nil
	}
	name := n.Value
	tn, ok := c.types[name]
	if !ok {
		c.errf(n, path, "no type %q under types:", name)
		return nil
	}
	if c.expanding == nil {
		c.expanding = map[string]bool{}
	}
	if c.expanding[name] {
		c.errf(n, path, "type %q contains itself: recursive types are not accepted (every PDU must be read in bounded steps)", name)
		return nil
	}
	c.expanding[name] = true
	defer delete(c.expanding, name)
	return c.fieldList(tn, "types."+name)
}

var fieldKeys = []string{"id", "type", "size", "prefix", "byte_order", "enum", "valid", "label", "identity", "optional",
	"switch", "cases", "default", "repeat", "max", "fields"}

var intType = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([us])([1-8])(be|le)?$`) })
var bitType = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^b([1-9]|[1-5][0-9]|6[0-4])$`) })

func (c *compiler) field(n *yaml.Node, path string) (node, bool) {
	m := c.mapping(n, path)
	if m == nil {
		return node{}, false
	}
	defer m.done(fieldKeys...)
	c.p.nodes++
	nd := node{slot: -1, line: n.Line, on: -1}
	id := ""
	if v := m.get("id"); v != nil {
		if s, ok := c.str(v, path+".id"); ok {
			if !identifier(s) || reserved[s] {
				c.errf(v, path+".id", "%q is not a field name: a lower-case letter, then lower-case letters, digits or _ (at most 32), and not one of %s", s, reservedList())
				return node{}, false
			}
			id = s
			path = path + "(" + s + ")"
		}
	}
	typ := ""
	if v := m.get("type"); v != nil {
		typ, _ = c.str(v, path+".type")
	}
	little := c.p.little
	if v := m.get("byte_order"); v != nil {
		little = c.order(v, path+".byte_order")
	}
	sw, rep, flds := m.get("switch"), m.get("repeat"), m.get("fields")
	structural := 0
	for _, x := range []*yaml.Node{sw, rep} {
		if x != nil {
			structural++
		}
	}
	if structural > 1 || (structural == 1 && typ != "") || (typ != "" && flds != nil) {
		c.errf(n, path, "a field is one of: a type (type:), a switch (switch: and cases:), a repeat (repeat: and fields:) or a group (fields:)")
		return node{}, false
	}
	vk := vInt
	switch {
	case sw != nil:
		nd.kind = kSwitch
		c.switchNode(m, &nd, sw, path)
	case rep != nil:
		nd.kind = kRepeat
		c.repeatNode(m, &nd, rep, path)
	case flds != nil:
		nd.kind = kGroup
		if sz := m.get("size"); sz != nil {
			nd.size = c.sizeSpec(sz, path+".size", false)
		}
		nd.body = c.fieldList(flds, path+".fields")
	case typ == "":
		c.errf(n, path, "type: is missing (u1..u8, s1..s8, b1..b64, bytes, str or skip), or give switch:, repeat: or fields:")
		return node{}, false
	case intType().MatchString(typ):
		g := intType().FindStringSubmatch(typ)
		nd.kind, nd.signed = kInt, g[1] == "s"
		nd.width, _ = strconv.Atoi(g[2])
		nd.little = little
		if g[3] != "" {
			nd.little = g[3] == "le"
		}
	case typ == "end":
		nd.kind = kEnd
	case bitType().MatchString(typ):
		nd.kind = kBits
		nd.width, _ = strconv.Atoi(typ[1:])
	case typ == "bytes" || typ == "str" || typ == "skip":
		nd.kind, vk = kBytes, vBytes
		if typ == "str" {
			nd.kind, vk = kStr, vStr
		}
		if typ == "skip" {
			nd.kind = kSkip
		}
		sz, pre := m.get("size"), m.get("prefix")
		switch {
		case sz != nil && pre != nil:
			c.errf(n, path, "give size: or prefix:, not both")
		case pre != nil:
			nd.size = c.prefix(pre, path+".prefix", little)
		case sz != nil:
			nd.size = c.sizeSpec(sz, path+".size", true)
		default:
			c.errf(n, path, "%s needs size: (a number, an earlier field, or rest) or prefix: (the integer type of a length read first, e.g. u2)", typ)
		}
	default:
		c.errf(m.nodes["type"], path+".type", "unknown type %q: u1..u8 and s1..s8 (optionally ending be or le), b1..b64, bytes, str, skip, end", typ)
		return node{}, false
	}
	if nd.kind == kInt || nd.kind == kBits || nd.kind == kBytes || nd.kind == kStr {
		if id == "" && nd.kind != kSkip {
			c.warnf(n, path, "a field without id: is read and forgotten; give it an id, or use type: skip")
		}
	}
	if v := m.get("valid"); v != nil {
		if nd.kind != kInt && nd.kind != kBits {
			c.errf(v, path+".valid", "valid: applies to integer fields")
		} else {
			nd.valid = c.spans(v, path+".valid")
		}
	}
	if v := m.get("optional"); v != nil {
		nd.optional, _ = c.boolean(v, path+".optional")
	}
	if id != "" && nd.kind <= kStr {
		nd.slot = c.declare(id, vk, n, path, m)
	} else if id != "" {
		if nd.kind == kSkip || nd.kind == kEnd {
			c.errf(m.nodes["id"], path, "%s keeps no value: leave out its id", typ)
		}
		for _, k := range []string{"enum", "label", "identity"} {
			if m.nodes[k] != nil {
				c.errf(m.nodes[k], path, "%s: applies to a field that holds a value (a type other than skip)", k)
			}
		}
	} else {
		for _, k := range []string{"enum", "label", "identity"} {
			m.get(k)
			if m.nodes[k] != nil {
				c.errf(m.nodes[k], path, "%s: needs the field's id:", k)
			}
		}
	}
	return nd, true
}

// reserved names cannot be field ids: they are CEL words or the
// switch on the PDU's direction.
var reserved = map[string]bool{"direction": true, "request": true, "true": true, "false": true, "null": true, "in": true,
	"as": true, "break": true, "const": true, "continue": true, "else": true, "for": true, "function": true, "if": true,
	"import": true, "let": true, "loop": true, "package": true, "namespace": true, "return": true, "var": true, "void": true, "while": true}

func reservedList() string {
	var out []string
	for k := range reserved {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// declare gives id its slot (shared by every declaration of the name,
// which must agree on what it holds) and reads its enum, label and
// identity.
func (c *compiler) declare(id string, vk valueKind, n *yaml.Node, path string, m *mapping) int {
	p := c.p
	i, ok := p.bySlot[id]
	if !ok {
		i = len(p.slots)
		p.bySlot[id] = i
		p.slots = append(p.slots, slot{name: id, vk: vk, line: n.Line, tally: -1})
	} else if p.slots[i].vk != vk {
		c.errf(n, path, "field %q is declared at line %d holding another kind of value; one name, one kind (number, text or bytes)", id, p.slots[i].line)
	}
	s := &p.slots[i]
	if v := m.get("enum"); v != nil {
		if name, ok := c.str(v, path+".enum"); ok {
			e := p.enums[name]
			switch {
			case e == nil:
				c.errf(v, path+".enum", "no enumeration %q under enums:", name)
			case s.enum != nil && s.enum != e:
				c.errf(v, path+".enum", "field %q already names its values with enumeration %q", id, s.enum.name)
			case vk == vBytes:
				c.errf(v, path+".enum", "an enumeration names numbers or texts, not bytes")
			default:
				s.enum = e
			}
		}
	}
	if v := m.get("label"); v != nil {
		if t, ok := c.texts(v, path+".label"); ok {
			s.label = t
		}
	}
	if v := m.get("identity"); v != nil {
		if w, ok := c.str(v, path+".identity"); ok {
			switch w {
			case "vendor", "model", "firmware", "serial", "name":
				s.identity = w
			default:
				c.errf(v, path+".identity", "%q: identity is one of vendor, model, firmware, serial, name", w)
			}
		}
	}
	return i
}

// sizeSpec reads a size: a number, rest, or an earlier field's name.
func (c *compiler) sizeSpec(n *yaml.Node, path string, allowRest bool) size {
	sz := size{slot: -1, given: true}
	if n.Kind == yaml.ScalarNode && n.Value == "rest" {
		if !allowRest {
			c.errf(n, path, "rest is not a window size")
		}
		sz.rest = true
		return sz
	}
	if n.Kind == yaml.ScalarNode {
		if v, err := parseInt(n.Value); err == nil {
			if v < 0 || v > MaxPDU {
				c.errf(n, path, "%d is outside 0..%d", v, MaxPDU)
			}
			sz.fixed = int(v)
			return sz
		}
	}
	name, ok := c.str(n, path)
	if !ok {
		return sz
	}
	c.refer(name, n, path, vInt, true, func(s int) { sz.slot = s })
	// sz is returned by value before the reference resolves: resolve
	// now when the field is known (it must be: it comes before).
	if i, ok := c.p.bySlot[name]; ok && c.p.slots[i].vk == vInt {
		sz.slot = i
	}
	return sz
}

func (c *compiler) prefix(n *yaml.Node, path string, little bool) size {
	s, ok := c.str(n, path)
	if !ok || !intType().MatchString(s) {
		c.errf(n, path, "prefix: is the integer type of the length read first (u1, u2, u4le, s4, ...)")
		return size{slot: -1}
	}
	g := intType().FindStringSubmatch(s)
	w, _ := strconv.Atoi(g[2])
	pn := &node{kind: kInt, slot: -1, width: w, signed: g[1] == "s", little: little}
	if g[3] != "" {
		pn.little = g[3] == "le"
	}
	return size{slot: -1, prefix: pn, given: true}
}

func (c *compiler) spans(n *yaml.Node, path string) []span {
	items, _ := c.list(n, path, true)
	var out []span
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if it.Kind == yaml.ScalarNode && strings.Contains(it.Value, "..") {
			a, b, _ := strings.Cut(it.Value, "..")
			lo, e1 := parseInt(strings.TrimSpace(a))
			hi, e2 := parseInt(strings.TrimSpace(b))
			if e1 != nil || e2 != nil || hi < lo {
				c.errf(it, ip, "%q is not a range: write LOW..HIGH (e.g. 65..72)", it.Value)
				continue
			}
			out = append(out, span{lo, hi})
			continue
		}
		if v, ok := c.integer(it, ip); ok {
			out = append(out, span{v, v})
		}
	}
	return out
}

func (c *compiler) switchNode(m *mapping, nd *node, sw *yaml.Node, path string) {
	name, ok := c.str(sw, path+".switch")
	if !ok {
		return
	}
	isDir := name == "direction"
	var vk valueKind
	if !isDir {
		i, known := c.p.bySlot[name]
		if !known {
			c.errf(sw, path+".switch", "no field %q read before this switch (a switch chooses on a field read earlier, or on direction)", name)
			return
		}
		nd.on, vk = i, c.p.slots[i].vk
		if vk == vBytes {
			c.errf(sw, path+".switch", "field %q holds bytes; switch on a number or a text", name)
		}
	}
	cn := m.get("cases")
	cm := c.mapping(cn, path+".cases")
	if cm == nil {
		return
	}
	nd.intCases, nd.strCases = map[int64][]node{}, map[string][]node{}
	for _, k := range cm.keys {
		kp := path + ".cases." + k
		body := c.fieldList(cm.get(k), kp)
		kn := cm.knode[k]
		switch {
		case isDir:
			if k != "request" && k != "response" {
				c.errf(kn, kp, "a switch on direction has the cases request and response")
				continue
			}
			nd.strCases[k] = body
		case vk == vStr:
			nd.strCases[k] = body
		default:
			v, err := parseInt(k)
			if err != nil {
				if e := c.p.slots[nd.on].enum; e != nil {
					// a case may be written as the value's enum name
					found := false
					for val, t := range e.ints {
						if t["en"] == k {
							v, found = val, true
							break
						}
					}
					if found {
						nd.intCases[v] = body
						continue
					}
				}
				c.errf(kn, kp, "%q is not a number (or a name of %s's enumeration)", k, name)
				continue
			}
			nd.intCases[v] = body
		}
	}
	if d := m.get("default"); d != nil {
		nd.def, nd.hasDef = c.fieldList(d, path+".default"), true
	}
}

func (c *compiler) repeatNode(m *mapping, nd *node, rep *yaml.Node, path string) {
	nd.size = c.sizeSpec(rep, path+".repeat", true)
	mx := m.get("max")
	if mx == nil {
		c.errf(rep, path, "a repeat needs max: (the most items a PDU may hold, at most %d): a PDU asking for more is malformed by the plugin", MaxRepeat)
	} else {
		v, _ := c.intIn(mx, path+".max", 1, MaxRepeat)
		nd.max = int(v)
		if !nd.size.rest && nd.size.slot < 0 && nd.size.fixed > nd.max {
			c.errf(rep, path+".repeat", "repeat %d is over its max %d", nd.size.fixed, nd.max)
		}
	}
	f := m.get("fields")
	if f == nil {
		c.errf(rep, path, "a repeat needs fields: (what each item holds)")
		return
	}
	nd.body = c.fieldList(f, path+".fields")
}

// refer records a reference to a field by name, checked by resolve.
func (c *compiler) refer(name string, n *yaml.Node, path string, want valueKind, before bool, set func(int)) {
	c.refs = append(c.refs, ref{name: name, n: n, path: path, set: set, want: want, declared: len(c.p.slots), before: before})
}

func (c *compiler) resolve() {
	for _, r := range c.refs {
		i, ok := c.p.bySlot[r.name]
		switch {
		case !ok:
			c.errf(r.n, r.path, "no field %q%s", r.name, suggest(r.name, c.names()))
		case r.before && i >= r.declared:
			c.errf(r.n, r.path, "field %q is read after this point; a size or count must come from a field read before", r.name)
		case r.want == vInt && c.p.slots[i].vk != vInt:
			c.errf(r.n, r.path, "field %q is not a number", r.name)
		default:
			r.set(i)
		}
	}
	c.refs = nil
}

func (c *compiler) names() []string {
	out := make([]string, len(c.p.slots))
	for i, s := range c.p.slots {
		out[i] = s.name
	}
	return out
}

func (c *compiler) operation(n *yaml.Node, doc *yaml.Node) {
	if n == nil {
		c.errf(doc, "", "operation: is missing (at least function: the field holding the function, service or message code)")
		return
	}
	m := c.mapping(n, "operation")
	if m == nil {
		return
	}
	op := &c.p.op
	one := func(key string, dst *int) {
		if v := m.get(key); v != nil {
			if name, ok := c.str(v, "operation."+key); ok {
				c.refer(name, v, "operation."+key, vInt, false, func(s int) { *dst = s })
			}
		}
	}
	one("function", &op.function)
	one("transaction", &op.transaction)
	one("status", &op.status)
	one("unit", &op.unit)
	one("address", &op.address)
	one("quantity", &op.quantity)
	if m.nodes["function"] == nil {
		c.errf(n, "operation", "function: is missing (the field holding the function, service or message code)")
	}
	if v := m.get("log"); v != nil {
		items, _ := c.list(v, "operation.log", true)
		for i, it := range items {
			ip := fmt.Sprintf("operation.log[%d]", i)
			if name, ok := c.str(it, ip); ok {
				c.refer(name, it, ip, 255, false, func(s int) {
					if !c.p.slots[s].logged {
						c.p.slots[s].logged = true
						op.log = append(op.log, s)
					}
				})
			}
		}
	}
	if v := m.get("unlogged"); v != nil {
		items, _ := c.list(v, "operation.unlogged", true)
		op.unlogged = map[int64]bool{}
		for i, it := range items {
			ip := fmt.Sprintf("operation.unlogged[%d]", i)
			if x, err := parseInt(it.Value); err == nil && it.Kind == yaml.ScalarNode {
				op.unlogged[x] = true
				continue
			}
			name, _ := c.str(it, ip)
			found := false
			for _, e := range c.p.enums {
				for val, t := range e.ints {
					if t["en"] == name {
						op.unlogged[val], found = true, true
					}
				}
			}
			if !found {
				c.errf(it, ip, "%q is neither a number nor a name in an enumeration", name)
			}
		}
	}
	m.done("function", "transaction", "status", "unit", "address", "quantity", "log", "unlogged")
}

func (c *compiler) counts(n *yaml.Node) {
	if n == nil {
		return
	}
	items, _ := c.list(n, "counts", true)
	for i, it := range items {
		ip := fmt.Sprintf("counts[%d]", i)
		name, ok := c.str(it, ip)
		if !ok {
			continue
		}
		c.refer(name, it, ip, 255, false, func(s int) {
			sl := &c.p.slots[s]
			switch {
			case sl.tally >= 0:
				c.errf(it, ip, "field %q is counted twice", name)
			case sl.vk == vBytes:
				c.errf(it, ip, "field %q holds bytes; count numbers or texts", name)
			case len(c.p.counts) >= 8:
				c.errf(it, ip, "at most 8 counted fields")
			default:
				sl.tally = len(c.p.counts)
				c.p.counts = append(c.p.counts, s)
			}
		})
	}
}

func (c *compiler) inventory(n *yaml.Node) {
	if n == nil {
		return
	}
	m := c.mapping(n, "inventory")
	if m == nil {
		return
	}
	role := func(key string) string {
		v := m.get(key)
		if v == nil {
			return ""
		}
		s, ok := c.str(v, "inventory."+key)
		if ok && (!plainASCII(s) || len(s) > 48 || s == "") {
			c.errf(v, "inventory."+key, "a role name is 1 to 48 printable ASCII characters without quotes or backslashes")
		}
		return s
	}
	c.p.ClientRole, c.p.ServerRole = role("client_role"), role("server_role")
	m.done("client_role", "server_role")
}
