package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestPushCodesTable: codes are unique, in order, each with a message and
// a fix, and docs/inventory.md lists each with its message.
func TestPushCodesTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/inventory.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range PushCodes() {
		if want := fmt.Sprintf("TL-PUSH-%03d", i+1); c.Code != want || c.Message == "" || c.Fix == "" {
			t.Errorf("entry %d: %+v (want code %s with message and fix)", i, c, want)
		}
		if row := "| " + c.Code + " | " + c.Message + " |"; !strings.Contains(string(doc), row) {
			t.Errorf("docs/inventory.md lacks the row %q", row)
		}
	}
	if _, ok := LookupPushCode("TL-PUSH-999"); ok {
		t.Error("an unknown code was found")
	}
}

// TestPushCodeClassifies: errors the push returns map to their codes.
func TestPushCodeClassifies(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for name, c := range map[string]struct {
		ctx  context.Context
		err  error
		step Step
		want string
	}{
		"preflight other": {ctx, &PreflightError{Reason: "no space"}, StepPreflight, CodePreflight},
		"identity":        {ctx, &PreflightError{Reason: "x", Code: CodeIdentityMismatch}, StepPreflight, CodeIdentityMismatch},
		"upload":          {ctx, &UploadError{Op: "write"}, StepUpload, CodeUploadFailed},
		"apply refused":   {ctx, &RemoteError{Command: "apply", Exit: 1}, StepApply, CodeApplyRefused},
		"confirm":         {ctx, &RemoteError{Command: "confirm", Exit: 1}, StepConfirm, CodeConfirmFailed},
		"rolled back":     {ctx, errRolledBack{cause: errors.New("x")}, StepConfirm, CodeRolledBack},
		"verify":          {ctx, &VerifyError{Reason: "x"}, StepVerify, CodeVerifyMismatch},
		"lost":            {ctx, &RemoteError{Command: "status", Exit: -1, Err: errors.New("EOF")}, StepPreflight, CodeUnreachable},
		"cancelled":       {cancelled, &RemoteError{Command: "apply", Exit: -1}, StepApply, CodeCancelled},
		"other":           {ctx, errors.New("x"), StepVerify, CodePushFailed},
	} {
		if got := pushCode(c.ctx, c.err, c.step); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}
