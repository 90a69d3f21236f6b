package bundle

import (
	"errors"
	"testing"

	"github.com/tapline/tapline/certs"
)

func TestGate(t *testing.T) {
	warn := certs.Finding{Code: "TL-CERT-015", Severity: certs.SeverityWarning, Message: "no C"}
	bad := certs.Finding{Code: "TL-CERT-007", Severity: certs.SeverityError, Message: "expired"}
	info := certs.Finding{Code: "TL-X", Severity: certs.SeverityInfo}
	if acc, err := Gate([]certs.Finding{info}, false); err != nil || len(acc) != 0 {
		t.Fatalf("clean: %v %v", acc, err)
	}
	var ge *GateError
	if _, err := Gate([]certs.Finding{warn}, false); !errors.As(err, &ge) || len(ge.Warnings) != 1 {
		t.Fatalf("unaccepted warning: %v", err)
	}
	if acc, err := Gate([]certs.Finding{warn, warn}, true); err != nil || len(acc) != 1 || acc[0] != "TL-CERT-015" {
		t.Fatalf("accepted warning: %v %v", acc, err)
	}
	if _, err := Gate([]certs.Finding{warn, bad}, true); !errors.As(err, &ge) || len(ge.Errors) != 1 {
		t.Fatalf("error accepted: %v", err)
	}
}
