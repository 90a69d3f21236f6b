package bundle

import (
	"fmt"
	"sort"

	"github.com/tapline/tapline/certs"
)

// GateError says why the laptop may not write a bundle.
type GateError struct {
	Errors   []certs.Finding // blocking findings
	Warnings []certs.Finding // warnings not accepted
}

func (e *GateError) Error() string {
	if len(e.Errors) > 0 {
		return fmt.Sprintf("bundle: %d check(s) failed (first: %s %s); fix them before building the bundle", len(e.Errors), e.Errors[0].Code, e.Errors[0].Message)
	}
	return fmt.Sprintf("bundle: %d warning(s) need the engineer's explicit acceptance (first: %s %s)", len(e.Warnings), e.Warnings[0].Code, e.Warnings[0].Message)
}

// Gate decides whether a bundle may be written from the laptop's findings:
// never with an error; with warnings only when the engineer accepted them.
// It returns the accepted warning codes for Meta.AcceptedWarnings.
func Gate(findings []certs.Finding, acceptWarnings bool) ([]string, error) {
	ge := &GateError{}
	codes := map[string]bool{}
	for _, f := range findings {
		switch f.Severity {
		case certs.SeverityError:
			ge.Errors = append(ge.Errors, f)
		case certs.SeverityWarning:
			ge.Warnings = append(ge.Warnings, f)
			codes[f.Code] = true
		}
	}
	if len(ge.Errors) > 0 || (len(ge.Warnings) > 0 && !acceptWarnings) {
		return nil, ge
	}
	out := make([]string, 0, len(codes))
	for c := range codes {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}
