package plugin

import (
	"fmt"
	"strings"
)

// Problem is one finding about a plugin file, at its line and column (1-
// based; 0 when it concerns the whole file). Errors stop the plugin from
// loading; warnings (Warning set) are lint: the plugin loads, but a
// demanding reviewer would change it.
type Problem struct {
	Line, Column int
	// Path names the element in the file ("fields[3].size").
	Path    string
	Message string
	Warning bool
}

// String is "LINE:COL: PATH: MESSAGE", with "warning: " before the
// message of a warning.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Column)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is a plugin file that does not load: every error found, in file
// order, with the warnings.
type Error struct {
	File     string // "" when parsed from bytes
	Problems []Problem
}

// Error is the first error as "FILE:LINE:COL: PATH: MESSAGE", and how
// many more there are.
func (e *Error) Error() string {
	var first *Problem
	n := 0
	for i := range e.Problems {
		if !e.Problems[i].Warning {
			if first == nil {
				first = &e.Problems[i]
			}
			n++
		}
	}
	if first == nil {
		return "plugin: no error"
	}
	s := first.String()
	if e.File != "" {
		if first.Line > 0 {
			s = e.File + ":" + s
		} else {
			s = e.File + ": " + s
		}
	} else {
		s = "plugin: " + s
	}
	if n > 1 {
		s += fmt.Sprintf(" (and %d more errors)", n-1)
	}
	return s
}

// Errors lists only the errors.
func (e *Error) Errors() []Problem {
	var out []Problem
	for _, p := range e.Problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}
