package plugin

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"go.yaml.in/yaml/v3"
)

// rule is one alert rule: a CEL condition over the PDU's fields.
type rule struct {
	id           string
	severity     string
	title, msg   texts
	prg          cel.Program
	withFunction bool
	line         int
	// action is the dissect.Action the registry reserved for the rule.
	action uint8
	// refs are the slots the condition reads, in slot order, and
	// usesRequest whether it reads request: when none of them changed
	// from one PDU to the next, neither did the condition's outcome.
	refs        []int
	usesRequest bool
}

var ruleID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]{1,47}$`) })

var placeholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`) })

// celEnv declares every field as a CEL variable: numbers as int, texts as
// string, bytes as bytes, and request (bool) for the PDU's direction.
func (c *compiler) celEnv() (*cel.Env, error) {
	opts := []cel.EnvOption{cel.Variable("request", cel.BoolType)}
	for _, s := range c.p.slots {
		t := cel.IntType
		switch s.vk {
		case vStr:
			t = cel.StringType
		case vBytes:
			t = cel.BytesType
		}
		opts = append(opts, cel.Variable(s.name, t))
	}
	opts = append(opts, cel.ParserExpressionSizeLimit(MaxExpr), cel.ParserRecursionLimit(32))
	return cel.NewEnv(opts...)
}

func (c *compiler) alertRules(n *yaml.Node) {
	if n == nil {
		return
	}
	items, ok := c.list(n, "alerts", false)
	if !ok {
		return
	}
	if len(items) > MaxAlerts {
		c.errf(n, "alerts", "%d alert rules, over %d", len(items), MaxAlerts)
		return
	}
	if c.failed() {
		return // the fields must be right before conditions over them are
	}
	env, err := c.celEnv()
	if err != nil {
		c.errf(n, "alerts", "expressions: %v", err)
		return
	}
	seen := map[string]bool{}
	for i, it := range items {
		path := fmt.Sprintf("alerts[%d]", i)
		m := c.mapping(it, path)
		if m == nil {
			continue
		}
		r := &rule{line: it.Line, severity: "medium"}
		if v := m.get("id"); v == nil {
			c.errf(it, path, "id: is missing (the rule's stable name, e.g. c37118-turn-off)")
		} else if s, ok := c.str(v, path+".id"); ok {
			switch {
			case !ruleID().MatchString(s):
				c.errf(v, path+".id", "%q is not a rule id: a lower-case letter, then lower-case letters, digits and -, 2 to 48", s)
			case seen[s]:
				c.errf(v, path+".id", "rule %q appears twice", s)
			}
			seen[s] = true
			r.id = s
			path += "(" + s + ")"
		}
		if v := m.get("severity"); v != nil {
			if s, ok := c.str(v, path+".severity"); ok {
				switch s {
				case "low", "medium", "high", "critical":
					r.severity = s
				default:
					c.errf(v, path+".severity", "%q: severity is low, medium, high or critical", s)
				}
			}
		}
		if v := m.get("title"); v == nil {
			c.errf(it, path, "title: is missing (a short heading, in several languages: {en: ..., de: ...})")
		} else {
			r.title, _ = c.texts(v, path+".title")
		}
		if v := m.get("message"); v == nil {
			c.errf(it, path, "message: is missing (what happened, with {field} placeholders, in several languages)")
		} else if t, ok := c.texts(v, path+".message"); ok {
			r.msg = t
			for lang, s := range t {
				for _, ph := range placeholder().FindAllStringSubmatch(s, -1) {
					if _, known := c.p.bySlot[ph[1]]; !known {
						c.errf(v, path+".message."+lang, "placeholder {%s} names no field%s", ph[1], suggest(ph[1], c.names()))
					}
				}
			}
		}
		if r.title != nil && r.msg != nil {
			for lang := range r.title {
				if _, ok := r.msg[lang]; !ok {
					c.warnf(it, path, "the title is in %s but the message is not: the console would mix languages", lang)
				}
			}
			if len(r.title) < 2 {
				c.warnf(it, path, "the alert is in English only: give its title and message in the plant's language too ({en: ..., de: ...})")
			}
		}
		if v := m.get("per_function"); v != nil {
			r.withFunction, _ = c.boolean(v, path+".per_function")
		}
		cost := uint64(DefaultCost)
		if v := m.get("cost"); v != nil {
			x, _ := c.intIn(v, path+".cost", 1, MaxCost)
			cost = uint64(x)
		}
		if v := m.get("when"); v == nil {
			c.errf(it, path, "when: is missing (a CEL condition over the fields, e.g. frame_type == 4 && command == 1)")
		} else if src, ok := c.str(v, path+".when"); ok {
			if len(src) > MaxExpr {
				c.errf(v, path+".when", "the condition is %d bytes, over %d", len(src), MaxExpr)
			} else {
				r.prg = c.compileExpr(env, src, cost, v, path+".when", r)
			}
		}
		m.done("id", "when", "severity", "title", "message", "per_function", "cost")
		c.p.alerts = append(c.p.alerts, r)
	}
	c.p.hasAlerts = len(c.p.alerts) > 0
}

// compileExpr checks a condition: it must compile, type-check as bool,
// and get a runtime cost limit.
func (c *compiler) compileExpr(env *cel.Env, src string, cost uint64, n *yaml.Node, path string, r *rule) cel.Program {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		msg := strings.ReplaceAll(iss.Err().Error(), "\n", " ")
		c.errf(n, path, "the condition does not compile: %s", msg)
		return nil
	}
	if ast.OutputType() != cel.BoolType {
		c.errf(n, path, "the condition is %s, not true or false", ast.OutputType())
		return nil
	}
	seen := map[int]bool{}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if len(ref.OverloadIDs) > 0 || ref.Name == "" {
			continue // a function, not a variable
		}
		if ref.Name == "request" {
			r.usesRequest = true
		} else if i, ok := c.p.bySlot[ref.Name]; ok && !seen[i] {
			seen[i] = true
			r.refs = append(r.refs, i)
		}
	}
	slices.Sort(r.refs)
	prg, err := env.Program(ast, cel.CostLimit(cost), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		c.errf(n, path, "the condition: %v", err)
		return nil
	}
	return prg
}

// activation resolves a condition's variables from the decoded values:
// a field not read in this PDU is its zero value (0, "", empty bytes).
type celVars struct {
	p  *Plugin
	st *state
}

var _ interpreter.Activation = (*celVars)(nil)

func (a *celVars) ResolveName(name string) (any, bool) {
	if name == "request" {
		return types.Bool(a.st.request), true
	}
	i, ok := a.p.bySlot[name]
	if !ok {
		return nil, false
	}
	st := a.st
	set := st.isSet(i)
	v := &st.vals[i]
	switch a.p.slots[i].vk {
	case vStr:
		if !set {
			return types.String(""), true
		}
		return types.String(st.bytesOf(v)), true
	case vBytes:
		if !set {
			return types.Bytes(nil), true
		}
		return types.Bytes(st.bytesOf(v)), true
	}
	if !set {
		return types.Int(0), true
	}
	return types.Int(v.i), true
}

func (a *celVars) Parent() interpreter.Activation { return nil }
