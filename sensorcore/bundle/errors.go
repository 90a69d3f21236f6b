package bundle

import "fmt"

// Stable codes for bundle refusals (docs/formats.md).
const (
	CodeMalformed  = "TL-BUN-001" // manifest or archive structure is wrong
	CodeMissing    = "TL-BUN-002" // a listed or required file is missing
	CodeAltered    = "TL-BUN-003" // size or SHA-256 differs from the manifest
	CodeUnexpected = "TL-BUN-004" // a file the manifest does not list
	CodeUnreadable = "TL-BUN-005" // I/O error reading the bundle
)

// Error is a bundle refusal with its stable code.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return "bundle: " + e.Msg }

func errorf(code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
