package gui

import (
	"strings"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// guiPushFix words the fix of the push codes whose provision fix names a
// command-line flag, with what the engineer does in this app instead. The
// code and its meaning stay provision's (PushCodes); other codes show
// provision's fix as it is.
var guiPushFix = map[string]string{
	provision.CodeUnknownHost: "Compare the fingerprint with the one on the sensor's console or label, then trust it: Connect on the wizard's Connect page, " +
		"or tick \"Trust sensors seen for the first time\" on Fleet.",
	provision.CodeAuthFailed: "Check the user, the password or the key file and its passphrase, and that the key is in the sensor's authorized_keys; " +
		"the account locks after 5 failed sign-ins.",
	provision.CodeVersionTooOld: "Update the sensor's appliance image (or run tapline push --install-core from a terminal), then push again.",
	provision.CodeRolledBack: "The new address was unreachable before the rollback deadline: check the new address, mask, gateway and this laptop's route, " +
		"or raise the rollback deadline in Settings.",
	provision.CodeNoBundle: "Read the check's findings and fix the errors; when only warnings remain and you accept them, tick \"Accept the check's warnings\" and run again.",
}

// pushFixFor is the fix the app shows for a push code.
func pushFixFor(code, fix string) string {
	if f, ok := guiPushFix[code]; ok {
		return f
	}
	if fix != "" {
		return fix
	}
	c, _ := provision.LookupPushCode(code)
	return c.Fix
}

// pushProblem words a push that did not end done from provision's result:
// its code (TL-PUSH-NNN), the code's message with the step and the
// appliance's own code, and the fix. The Go error string is not shown.
func pushProblem(r provision.Result) certs.Finding {
	code := r.Code
	if code == "" {
		code = provision.CodePushFailed
	}
	c, ok := provision.LookupPushCode(code)
	msg := c.Message
	if !ok {
		msg = "The push failed"
	}
	if r.Step != "" {
		msg += " (step " + string(r.Step) + ")"
	}
	if r.ApplianceCode != "" {
		msg += "; the sensor's code: " + r.ApplianceCode
	}
	if r.RollbackReason != "" {
		msg += ": " + r.RollbackReason
	}
	sev := certs.SeverityError
	if code == provision.CodeCancelled {
		sev = certs.SeverityWarning
	}
	return certs.Finding{Code: code, Severity: sev, Message: msg, Hint: pushFixFor(code, r.Fix)}
}

// applianceFindings are the appliance's own findings of a result.
func applianceFindings(r provision.Result) []certs.Finding {
	var fs []certs.Finding
	for _, f := range r.Findings {
		fs = append(fs, certs.Finding{Code: f.Code, Severity: certs.Severity(f.Severity), Message: f.Message, Hint: f.Hint})
	}
	return fs
}

// eventMessage is what the app shows of a progress event's message: the
// final event of a failed push carries the Go error string, which the
// result's code, message and fix (pushProblem) replace, so it is not shown;
// preflight's network diff is shown as a table (Event.NetworkDiff), so only
// the message's first line is.
func eventMessage(e provision.Event) string {
	if e.Failed {
		return ""
	}
	if len(e.NetworkDiff) > 0 {
		head, _, _ := strings.Cut(e.Message, "\n")
		return head
	}
	return e.Message
}
