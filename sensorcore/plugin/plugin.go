package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/tapline/tapline/sensorcore/dissect"
	"go.yaml.in/yaml/v3"
)

// FormatV1 is the value of a plugin file's format key.
const FormatV1 = "tapline-plugin/1"

// Bounds. The file's own (MaxFields, MaxRepeat, MaxDepth, MaxAlerts,
// MaxCost) are checked when it is parsed; MaxSteps and the repeat caps
// while a PDU is decoded.
const (
	// MaxFileSize is the largest plugin file read.
	MaxFileSize = 256 << 10
	// MaxFields bounds the distinct field names of a plugin.
	MaxFields = 256
	// MaxNodes bounds the field reads a plugin describes, with its
	// named types expanded where they are used.
	MaxNodes = 4096
	// MaxDepth bounds the nesting of groups, switches, repeats and types.
	MaxDepth = 16
	// MaxRepeat is the largest cap (max) a repeat may declare.
	MaxRepeat = 4096
	// MaxSteps bounds the field reads of one PDU, repeats included: a PDU
	// that needs more is malformed by the plugin.
	MaxSteps = 8192
	// MaxAlerts bounds a plugin's alert rules.
	MaxAlerts = 32
	// DefaultCost and MaxCost are the CEL cost an alert condition may
	// spend on one PDU (cel-go's runtime cost units), by default and at
	// most (a rule's cost key).
	DefaultCost = 1000
	MaxCost     = 100000
	// MaxExpr bounds an alert condition's length in bytes.
	MaxExpr = 2048
	// MaxPDU is the largest PDU size framing may declare (the most a TCP
	// stream keeps pending).
	MaxPDU = 65536
	// MaxLoggedBytes bounds how much of a bytes or text field is written
	// into the operations log.
	MaxLoggedBytes = 64
)

// Plugin is a compiled plugin: what its file says, checked, ready to be
// registered (Register) or run (Decode).
type Plugin struct {
	// Name is the protocol's key in reports ("opcua"); Title is for
	// people; Version is the plugin's own version ("1.2.0").
	Name, Title, Version, Description string
	TCPPorts, UDPPorts                []uint16
	// EtherTypes carry the protocol directly in Ethernet frames
	// (transport.ethertype), one PDU per frame.
	EtherTypes []uint16
	// ClientRole and ServerRole name what hosts do in the protocol.
	ClientRole, ServerRole string
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string
	// Warnings are lint findings that did not stop the plugin.
	Warnings []Problem

	little    bool // the file's byte order
	signature []check
	frame     *framing
	root      []node
	slots     []slot
	bySlot    map[string]int
	enums     map[string]*enum
	op        operation
	counts    []int // slots tallied, Descriptor.Counts order
	alerts    []*rule
	identity  []int // slots copied onto the asset
	nodes     int   // reads described, types expanded
	hasAlerts bool
}

// Parse compiles a plugin file. Problems are reported with their lines
// (an *Error); warnings that do not stop the plugin are in Warnings.
func Parse(data []byte) (*Plugin, error) {
	return parse(data, "")
}

// ReadFile parses the plugin file at path; errors name it.
func ReadFile(path string) (*Plugin, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("plugin: %s is not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, &Error{File: path, Problems: []Problem{{Message: fmt.Sprintf("the file is %d bytes, over the %d a plugin may have", fi.Size(), MaxFileSize)}}}
	}
	data := make([]byte, fi.Size()+1)
	n, _ := f.Read(data)
	for n < len(data) {
		m, err := f.Read(data[n:])
		n += m
		if err != nil || m == 0 {
			break
		}
	}
	if n > MaxFileSize {
		return nil, &Error{File: path, Problems: []Problem{{Message: fmt.Sprintf("the file is over the %d bytes a plugin may have", MaxFileSize)}}}
	}
	return parse(data[:n], path)
}

func parse(data []byte, file string) (*Plugin, error) {
	ps := &parser{}
	fail := func() (*Plugin, error) { return nil, &Error{File: file, Problems: ps.probs} }
	if len(data) > MaxFileSize {
		ps.errf(nil, "", "the file is %d bytes, over the %d a plugin may have", len(data), MaxFileSize)
		return fail()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.probs = append(ps.probs, yamlProblem(err))
		return fail()
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		ps.errf(nil, "", "the file is empty; a plugin starts with format: %s", FormatV1)
		return fail()
	}
	ps.checkTree(&doc, 0)
	if ps.failed() {
		return fail()
	}
	c := &compiler{parser: ps, p: &Plugin{bySlot: map[string]int{}, enums: map[string]*enum{}}}
	c.document(doc.Content[0])
	if ps.failed() {
		return fail()
	}
	p := c.p
	p.prepare()
	for i, s := range p.slots {
		if s.identity != "" {
			p.identity = append(p.identity, i)
		}
	}
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	p.Warnings = ps.probs
	return p, nil
}

// yamlProblem turns a YAML syntax error ("yaml: line 3: ...") into a
// Problem at its line.
func yamlProblem(err error) Problem {
	msg := err.Error()
	var line int
	if _, e := fmt.Sscanf(msg, "yaml: line %d:", &line); e == nil {
		if i := len(fmt.Sprintf("yaml: line %d: ", line)); i <= len(msg) {
			return Problem{Line: line, Column: 1, Message: "not valid YAML: " + msg[i:]}
		}
	}
	return Problem{Message: "not valid YAML: " + msg}
}

// Functions names the plugin's function codes (the function field's
// enumeration), "" for an unknown code.
func (p *Plugin) FunctionName(fc int) string {
	if p.op.function < 0 {
		return ""
	}
	e := p.slots[p.op.function].enum
	if e == nil {
		return ""
	}
	return e.ints[int64(fc)].Pick("en")
}

// builtinName reports whether name is a built-in protocol's.
func builtinName(name string) bool {
	d := dissect.Default().Snapshot().ByName(name)
	return d != nil && !d.Plugin
}
