package plugin

import (
	"slices"
)

// prepare turns the compiled program into the form the interpreter runs
// on every PDU without a map or an allocation: valid values as bitmaps,
// a switch's integer cases as a table indexed by value (or a sorted list
// when the values spread wide), a switch on direction as two bodies, and
// the unlogged function codes as a sorted list.
func (p *Plugin) prepare() {
	p.prepareNodes(p.root)
	for v := range p.op.unlogged {
		p.op.unloggedList = append(p.op.unloggedList, v)
	}
	slices.Sort(p.op.unloggedList)
}

// Marks say what a stored value is wanted for beyond the program itself:
// fill looks at the identity, logged and counted fields only when the PDU
// stored one.
const (
	markIdentity uint8 = 1 << iota
	markLogged
	markCounted
)

func (p *Plugin) prepareNodes(ns []node) {
	for i := range ns {
		n := &ns[i]
		if n.slot >= 0 {
			sl := &p.slots[n.slot]
			if sl.identity != "" {
				n.mark |= markIdentity
			}
			if sl.logged {
				n.mark |= markLogged
			}
			if sl.tally >= 0 {
				n.mark |= markCounted
			}
		}
		if len(n.valid) > 0 {
			var bits [4]uint64
			small := true
			for _, s := range n.valid {
				if s.lo < 0 || s.hi > 255 {
					small = false
					break
				}
				for v := s.lo; v <= s.hi; v++ {
					bits[v>>6] |= 1 << (v & 63)
				}
			}
			if small {
				n.validBits = &bits
			}
		}
		if n.kind == kSwitch {
			if n.on < 0 {
				n.dirCases[0], n.dirHas[0] = n.strCases["request"]
				n.dirCases[1], n.dirHas[1] = n.strCases["response"]
			} else {
				n.cases = newCaseTable(n.intCases)
				n.onStr = p.slots[n.on].vk == vStr
			}
			for _, b := range n.intCases {
				p.prepareNodes(b)
			}
			for _, b := range n.strCases {
				p.prepareNodes(b)
			}
			p.prepareNodes(n.def)
		}
		p.prepareNodes(n.body)
	}
}

// maxDenseCases bounds the span of values a case table indexes directly.
const maxDenseCases = 1024

// caseTable finds the body of a switch's integer case.
type caseTable struct {
	lo     int64
	dense  []int32 // value-lo → index in bodies + 1; 0: no case
	keys   []int64 // sorted, when the values spread wider than maxDenseCases
	bodies [][]node
}

func newCaseTable(m map[int64][]node) caseTable {
	var t caseTable
	if len(m) == 0 {
		return t
	}
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.bodies = append(t.bodies, m[k])
	}
	lo, hi := keys[0], keys[len(keys)-1]
	if hi-lo < maxDenseCases && hi-lo >= 0 {
		t.lo = lo
		t.dense = make([]int32, hi-lo+1)
		for i, k := range keys {
			t.dense[k-lo] = int32(i + 1)
		}
		return t
	}
	t.keys = keys
	return t
}

// find returns the body of case v.
func (t *caseTable) find(v int64) ([]node, bool) {
	if t.dense != nil {
		d := uint64(v - t.lo)
		if v < t.lo || d >= uint64(len(t.dense)) {
			return nil, false
		}
		if i := t.dense[d]; i > 0 {
			return t.bodies[i-1], true
		}
		return nil, false
	}
	if i, ok := slices.BinarySearch(t.keys, v); ok {
		return t.bodies[i], true
	}
	return nil, false
}

// validValue reports whether v is one of the node's valid values.
func (n *node) validValue(v int64) bool {
	if b := n.validBits; b != nil {
		return v >= 0 && v <= 255 && b[v>>6]&(1<<(v&63)) != 0
	}
	for _, s := range n.valid {
		if v >= s.lo && v <= s.hi {
			return true
		}
	}
	return false
}

// unlogged reports whether function code fc is counted but no operation.
func (o *operation) isUnlogged(fc int64) bool {
	for _, v := range o.unloggedList {
		if v == fc {
			return true
		}
		if v > fc {
			return false
		}
	}
	return false
}
