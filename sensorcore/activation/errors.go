package activation

import "fmt"

// Stable codes for activation refusals and warnings (docs/formats.md).
const (
	CodeMalformed      = "TL-ACT-001" // not a parseable activation file
	CodeUntrusted      = "TL-ACT-002" // bad signature or not under a trusted root
	CodeWrongSensor    = "TL-ACT-003" // issued for another sensor
	CodeUploadWindow   = "TL-ACT-004" // not uploaded within 14 days of issue
	CodeExpired        = "TL-ACT-005" // locally managed file has expired
	CodeExpiringSoon   = "TL-ACT-006" // locally managed file expires within 30 days
	CodeModeChange     = "TL-ACT-007" // management mode differs: needs a new file
	CodeSignerValidity = "TL-ACT-008" // signing key not valid when the file was issued
	CodeNotYetIssued   = "TL-ACT-009" // issued in the future (clock or file wrong)
)

// Error is an activation refusal with its stable code.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return "activation: " + e.Msg }

func malformed(format string, args ...any) error {
	return &Error{Code: CodeMalformed, Msg: "malformed activation file: " + fmt.Sprintf(format, args...)}
}
