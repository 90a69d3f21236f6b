package provision

import (
	"context"
	"errors"

	"github.com/tapline/tapline/provision/sshconn"
)

// Stable codes for how a push failed, for what engineers read out over the
// phone (cfssl errors/doc.go). The wording and the fix live only in
// PushCodes; Result.Code names one, Result.Fix repeats its fix.
const (
	CodeUnknownHost      = "TL-PUSH-001" // host key not in known_hosts
	CodeHostKeyChanged   = "TL-PUSH-002" // host key differs from known_hosts or from the key proved earlier
	CodeAuthFailed       = "TL-PUSH-003" // SSH authentication refused
	CodeUnreachable      = "TL-PUSH-004" // no SSH connection (refused, timed out, lost)
	CodeIdentityMismatch = "TL-PUSH-005" // preflight: the sensor is another one than the bundle's
	CodeVersionTooOld    = "TL-PUSH-006" // preflight: sensorcore older than required
	CodeUploadFailed     = "TL-PUSH-007" // SFTP upload failed
	CodeApplyRefused     = "TL-PUSH-008" // the appliance refused the bundle (ApplianceCode says why)
	CodeConfirmFailed    = "TL-PUSH-009" // confirm failed or came too late
	CodeRolledBack       = "TL-PUSH-010" // the sensor rolled back by itself
	CodeVerifyMismatch   = "TL-PUSH-011" // the console serves another certificate or identity
	CodeCancelled        = "TL-PUSH-012" // cancelled by the engineer
	CodePreflight        = "TL-PUSH-013" // preflight: other (no version, no space, bundle unreadable)
	CodeNoBundle         = "TL-PUSH-014" // the row's bundle could not be built (check failed, file missing)
	CodePushFailed       = "TL-PUSH-015" // any other failure
)

// PushCode is one stable push failure: its code, what happened and the fix.
type PushCode struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

var pushCodes = []PushCode{
	{CodeUnknownHost, "The sensor's SSH host key is not in known_hosts", "Compare the fingerprint shown with the one on the sensor's console or label, then accept it (--accept-new, or the GUI's Trust button)"},
	{CodeHostKeyChanged, "The sensor's SSH host key changed", "If the sensor was re-imaged, remove its old key (Known hosts in the GUI, or ssh-keygen -R ADDRESS) and accept the new one after comparing it; otherwise stop: another machine may answer at that address"},
	{CodeAuthFailed, "The sensor refused the SSH login", "Check ssh_user, the key file (and TAPLINE_KEY_PASSPHRASE), TAPLINE_SSH_PASSWORD or ssh-agent, and that the key is in the sensor's authorized_keys"},
	{CodeUnreachable, "No SSH connection to the sensor", "Check the address and port, that the sensor is on, and the route or jump host; retrying may help"},
	{CodeIdentityMismatch, "The sensor at this address is not the one the bundle is for", "Check the address column: another sensor answers there; nothing was written"},
	{CodeVersionTooOld, "The sensor runs an older sensorcore than required", "Push with --install-core (or update the appliance image) and run again"},
	{CodeUploadFailed, "Uploading the bundle failed", "Check free space on the sensor and the connection, then run again; nothing was applied"},
	{CodeApplyRefused, "The sensor refused the bundle", "Read the appliance's code and findings (TL-ACT-*, TL-CERT-*, TL-APP-*, TL-BUN-*), fix the row and run again; nothing changed on the sensor"},
	{CodeConfirmFailed, "Confirming the new settings failed", "Check the sensor's status; if the deadline passed it restores its previous generation by itself; apply again to retry"},
	{CodeRolledBack, "The sensor rolled back to its previous settings", "The new address was unreachable before the rollback deadline: check new_ip, mask, gateway and the laptop's route, or raise --confirm-timeout"},
	{CodeVerifyMismatch, "The console does not serve the bundle's certificate or identity", "Open the console and check the certificate; run the push again (it verifies again without re-applying)"},
	{CodeCancelled, "The push was cancelled", "Run it again; a sensor whose address changed and was not confirmed rolls back by itself"},
	{CodePreflight, "The sensor cannot take the bundle", "Read the message (free space, sensorcore version, bundle file) and fix it; nothing was written"},
	{CodeNoBundle, "The bundle for this row could not be built", "Run tapline batch check, fix the row's errors (or accept its warnings) and run again"},
	{CodePushFailed, "The push failed", "Read the message and the journal; run again"},
}

// PushCodes returns every push failure code with its message and fix, in
// code order (for docs and the GUI).
func PushCodes() []PushCode { return append([]PushCode(nil), pushCodes...) }

// LookupPushCode returns code's message and fix.
func LookupPushCode(code string) (PushCode, bool) {
	for _, c := range pushCodes {
		if c.Code == code {
			return c, true
		}
	}
	return PushCode{}, false
}

// pushCode classifies a push's error.
func pushCode(ctx context.Context, err error, step Step) string {
	var pe *PreflightError
	var re *RemoteError
	var ve *VerifyError
	var ue *UploadError
	var rb errRolledBack
	var ae *sshconn.AuthError
	var uh *sshconn.UnknownHostError
	var hc *sshconn.HostKeyChangedError
	var pk *sshconn.PinnedKeyMismatchError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return CodeCancelled
	case errors.As(err, &uh):
		return CodeUnknownHost
	case errors.As(err, &hc), errors.As(err, &pk):
		return CodeHostKeyChanged
	case errors.As(err, &ae):
		return CodeAuthFailed
	case errors.As(err, &rb):
		return CodeRolledBack
	case errors.As(err, &pe):
		if pe.Code != "" {
			return pe.Code
		}
		return CodePreflight
	case errors.As(err, &ve):
		return CodeVerifyMismatch
	case errors.As(err, &ue):
		return CodeUploadFailed
	case errors.As(err, &re) && re.Exit > 0 && step == StepApply:
		return CodeApplyRefused
	case step == StepConfirm:
		return CodeConfirmFailed
	case step == StepUpload:
		return CodeUploadFailed
	case sshconn.IsTransient(err) || errors.As(err, &re) && re.Exit < 0:
		return CodeUnreachable
	}
	return CodePushFailed
}
