package plugin

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The YAML is read as a node tree (go.yaml.in/yaml/v3), never decoded into
// structs by reflection: every key is looked up by name, so an unknown or
// misspelt key is an error at its own line, and every value's line is at
// hand for the message.

// parser collects problems while walking the tree.
type parser struct {
	probs []Problem
	seen  map[Problem]bool
}

func (ps *parser) add(n *yaml.Node, path string, warn bool, format string, args ...any) {
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...), Warning: warn}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	// A problem inside a type is found at each of its uses: say it once.
	if ps.seen == nil {
		ps.seen = map[Problem]bool{}
	}
	if ps.seen[p] {
		return
	}
	ps.seen[p] = true
	ps.probs = append(ps.probs, p)
}

func (ps *parser) errf(n *yaml.Node, path, format string, args ...any) {
	ps.add(n, path, false, format, args...)
}

func (ps *parser) warnf(n *yaml.Node, path, format string, args ...any) {
	ps.add(n, path, true, format, args...)
}

func (ps *parser) failed() bool {
	for _, p := range ps.probs {
		if !p.Warning {
			return true
		}
	}
	return false
}

// mapping is a YAML mapping whose keys are taken one by one; done reports
// the keys nobody took.
type mapping struct {
	ps    *parser
	n     *yaml.Node
	path  string
	keys  []string
	nodes map[string]*yaml.Node // values
	knode map[string]*yaml.Node // keys, for their lines
	used  map[string]bool
}

func (ps *parser) mapping(n *yaml.Node, path string) *mapping {
	if n == nil || n.Kind != yaml.MappingNode {
		ps.errf(n, path, "want a mapping (key: value lines), found %s", kindName(n))
		return nil
	}
	m := &mapping{ps: ps, n: n, path: path, nodes: map[string]*yaml.Node{}, knode: map[string]*yaml.Node{}, used: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			ps.errf(k, path, "a key must be a plain word")
			continue
		}
		if _, dup := m.nodes[k.Value]; dup {
			ps.errf(k, path, "key %q appears twice", k.Value)
			continue
		}
		m.keys = append(m.keys, k.Value)
		m.nodes[k.Value], m.knode[k.Value] = v, k
	}
	return m
}

// get returns the value of key (nil when absent) and marks it used.
func (m *mapping) get(key string) *yaml.Node {
	m.used[key] = true
	return m.nodes[key]
}

func (m *mapping) sub(key string) string {
	if m.path == "" {
		return key
	}
	return m.path + "." + key
}

// done reports the keys that were not taken, with the keys that were
// known, so a misspelt key says what was meant.
func (m *mapping) done(known ...string) {
	for _, k := range m.keys {
		if !m.used[k] {
			m.ps.errf(m.knode[k], m.path, "unknown key %q%s", k, suggest(k, known))
		}
	}
}

func suggest(k string, known []string) string {
	best, bd := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bd {
			best, bd = c, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(known) > 0 {
		return " (known here: " + strings.Join(known, ", ") + ")"
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev = cur
	}
	return prev[len(b)]
}

func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "an empty value"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// str reads a string scalar.
func (ps *parser) str(n *yaml.Node, path string) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		ps.errf(n, path, "want a text value, found %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// integer reads an integer scalar: decimal, 0x hexadecimal, 0o octal or
// 0b binary, with an optional sign.
func (ps *parser) integer(n *yaml.Node, path string) (int64, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		ps.errf(n, path, "want a number, found %s", kindName(n))
		return 0, false
	}
	v, err := parseInt(n.Value)
	if err != nil {
		ps.errf(n, path, "%q is not a whole number (write 12, 0x0c or 0b1100)", n.Value)
		return 0, false
	}
	return v, true
}

// intIn reads an integer within lo..hi.
func (ps *parser) intIn(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	v, ok := ps.integer(n, path)
	if ok && (v < lo || v > hi) {
		ps.errf(n, path, "%d is outside %d..%d", v, lo, hi)
		return 0, false
	}
	return v, ok
}

func parseInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case strings.HasPrefix(s, "0b") || strings.HasPrefix(s, "0B"):
		base, s = 2, s[2:]
	case strings.HasPrefix(s, "0o") || strings.HasPrefix(s, "0O"):
		base, s = 8, s[2:]
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		if u > 1<<63 {
			return 0, strconv.ErrRange
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		// u8 values above 2^63 are kept as their two's complement.
		return int64(u), nil
	}
	return int64(u), nil
}

func (ps *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || (n.Value != "true" && n.Value != "false") {
		ps.errf(n, path, "want true or false, found %s", kindName(n))
		return false, false
	}
	return n.Value == "true", true
}

// list reads a sequence; a single scalar stands for a list of one when
// one is true.
func (ps *parser) list(n *yaml.Node, path string, one bool) ([]*yaml.Node, bool) {
	if n == nil {
		return nil, true
	}
	if n.Kind == yaml.SequenceNode {
		return n.Content, true
	}
	if one && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []*yaml.Node{n}, true
	}
	ps.errf(n, path, "want a list ([a, b] or lines starting with -), found %s", kindName(n))
	return nil, false
}

// texts reads a text that may be given in several languages: a plain
// string (English) or a mapping of BCP 47 tags to strings ({en: ..., de:
// ...}). English is required.
func (ps *parser) texts(n *yaml.Node, path string) (map[string]string, bool) {
	if n == nil {
		return nil, true
	}
	if n.Kind == yaml.ScalarNode {
		s, ok := ps.str(n, path)
		if !ok {
			return nil, false
		}
		if !printable(s) {
			ps.errf(n, path, "the text holds control characters")
			return nil, false
		}
		return map[string]string{"en": s}, true
	}
	m := ps.mapping(n, path)
	if m == nil {
		return nil, false
	}
	out := map[string]string{}
	ok := true
	for _, k := range m.keys {
		v := m.get(k)
		if !langTag(k) {
			ps.errf(m.knode[k], path, "%q is not a language tag (en, de, fr, pt-BR, ...)", k)
			ok = false
			continue
		}
		s, good := ps.str(v, path+"."+k)
		if good && !printable(s) {
			ps.errf(v, path+"."+k, "the text holds control characters")
			good = false
		}
		if !good {
			ok = false
			continue
		}
		out[k] = s
	}
	if _, has := out["en"]; !has && ok {
		ps.errf(n, path, "give the English text too (en: ...): it is the default when the browser asks for a language the plugin lacks")
		ok = false
	}
	return out, ok
}

func langTag(s string) bool {
	if len(s) < 2 || len(s) > 12 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z' && i > 2:
		case c == '-' && i >= 2 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// plainASCII reports whether s can be written into the operations log
// without escaping: printable ASCII without quotes or backslashes.
func plainASCII(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// identifier reports whether s is a field, type, enum or protocol name:
// a lower-case letter, then lower-case letters, digits and underscores,
// at most 32 in all.
func identifier(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkTree refuses anchors, aliases and merge keys (a plugin is read by
// people: every value is where it is used, and an alias bomb cannot
// expand), and nesting deeper than maxYAMLDepth.
func (ps *parser) checkTree(n *yaml.Node, depth int) {
	if n == nil {
		return
	}
	if depth > maxYAMLDepth {
		ps.errf(n, "", "nested deeper than %d levels", maxYAMLDepth)
		return
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		ps.errf(n, "", "YAML anchors and aliases (& and *) are not accepted: write each value where it is used, or name a type under types:")
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!merge" {
		ps.errf(n, "", "YAML merge keys (<<) are not accepted")
		return
	}
	for _, c := range n.Content {
		ps.checkTree(c, depth+1)
		if ps.failed() {
			return
		}
	}
}

const maxYAMLDepth = 64
