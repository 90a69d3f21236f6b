package gui

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/bundle"
)

// Codes of problems the app itself reports when a package returned an error
// that carries no finding code of its own. The wording lives here only.
const (
	codeFile    = "TL-GUI-001" // a file cannot be opened or written
	codeUnknown = "TL-GUI-002" // the host key is not known yet
	codeChanged = "TL-GUI-003" // the host key changed
	codeAuth    = "TL-GUI-004" // the sensor refused the credentials
	codeUnreach = "TL-GUI-005" // the sensor cannot be reached
	// TL-GUI-006 (refused) is retired: push failures carry provision's
	// TL-PUSH-NNN codes (pushProblem).
	codeCancelled  = "TL-GUI-007" // the engineer cancelled
	codeField      = "TL-GUI-008" // a form field is empty or malformed
	codeCA         = "TL-GUI-009" // the local CA refused (its passphrase, most often)
	codeUnexpected = "TL-GUI-010" // anything else
	codeIdentity   = "TL-GUI-011" // the activation file is for another sensor than the one signed in to
	codeStatus     = "TL-GUI-012" // the sensor's status could not be read after signing in
)

// catalogue returns the certs finding for code, from the one catalogue.
func catalogue(code string) certs.Finding {
	for _, c := range certs.Codes() {
		if c.Code == code {
			return certs.Finding(c)
		}
	}
	return certs.Finding{Code: code, Severity: certs.SeverityError}
}

func problem(code, msg, fix string) certs.Finding {
	return certs.Finding{Code: code, Severity: certs.SeverityError, Message: msg, Hint: fix}
}

// fieldProblem is a form field that needs the engineer's attention.
func fieldProblem(field, fix string) certs.Finding {
	return problem(codeField, field+" needs attention", fix)
}

// problemFor turns an error a package returned into a finding the engineer
// can act on: a code, a message and a fix, never the Go error string alone.
// what names the action ("Reading sensor-01.crt").
func problemFor(what string, err error) certs.Finding {
	var (
		unknown *sshconn.UnknownHostError
		changed *sshconn.HostKeyChangedError
		pinned  *sshconn.PinnedKeyMismatchError
		auth    *sshconn.AuthError
		pre     *provision.PreflightError
		remote  *provision.RemoteError
		actErr  *activation.Error
		bunErr  *bundle.Error
		fileErr *certs.FileError
		pathErr *os.PathError
		format  *certs.FormatError
		p12     *pkcs12Error
	)
	pass := errors.Is(err, certs.ErrIncorrectPassphrase) || errors.Is(err, certs.ErrPassphraseRequired)
	switch {
	case errors.Is(err, context.Canceled):
		return problem(codeCancelled, what+": cancelled", "Start it again when ready.")
	case pass && errors.As(err, &p12):
		// The PKCS#12 file's export passphrase, not a key's: certs'
		// TL-CERT-041 and its openssl pkcs12 advice.
		return catalogue(certs.CodePFXPassphrase)
	case pass:
		return catalogue(certs.CodePassphrase)
	case errors.As(err, &format):
		switch {
		case errors.Is(err, certs.ErrNoKey):
			return catalogue(certs.CodeKeyUnreadable)
		case errors.Is(err, certs.ErrNoCRL):
			return catalogue(certs.CodeCRLUnreadable)
		case errors.Is(err, certs.ErrNotPKCS12):
			return catalogue(certs.CodePFXUnreadable)
		}
		return catalogue(certs.CodeCertUnreadable)
	case errors.As(err, &unknown):
		return certs.Finding{Code: codeUnknown, Severity: certs.SeverityWarning,
			Message: "First contact with " + unknown.Host + ": its host key is " + unknown.KeyType + " " + unknown.Fingerprint,
			Hint:    "Compare the fingerprint with the one the sensor's console or label shows, then confirm it."}
	case errors.As(err, &changed):
		return problem(codeChanged, "The host key of "+changed.Host+" changed: it now offers "+changed.Fingerprint,
			"Find out why (a reinstalled sensor, or someone in between) before removing the old entry in Known hosts (or with "+changed.RemoveCommand()+").")
	case errors.As(err, &pinned):
		return problem(codeChanged, "The sensor at "+pinned.Host+" offered a different host key than before the change",
			"Another device may hold that address; check the address and the sensor before retrying.")
	case errors.As(err, &auth) && auth.RetryAfter > 0:
		// Throttled or locked for longer than a connect waits: the
		// sensor's own words, not "wrong password".
		return problem(codeAuth, what+": "+strings.TrimPrefix(auth.Banner, "sensorcore: "),
			"Wait, then connect again; signing in with the key file is not throttled.")
	case errors.As(err, &auth), errors.Is(err, sshconn.ErrNoAuth):
		return problem(codeAuth, what+": the sensor refused the user name, password or key",
			"Check the user (admin or support), the password or the key file, and that the account is not locked after 5 failed sign-ins.")
	case errors.As(err, &pre):
		code := pre.Code
		if code == "" {
			code = provision.CodePreflight
		}
		c, _ := provision.LookupPushCode(code)
		return problem(code, c.Message+": "+pre.Reason, pushFixFor(code, ""))
	case errors.As(err, &remote):
		c, _ := provision.LookupPushCode(provision.CodePushFailed)
		return problem(provision.CodePushFailed, c.Message+": the sensor refused "+remote.Command+": "+remote.Message, pushFixFor(provision.CodePushFailed, ""))
	case errors.As(err, &actErr):
		return problem(actErr.Code, actErr.Msg, "Ask the license authority for a new activation file for this sensor.")
	case errors.As(err, &bunErr):
		return problem(bunErr.Code, bunErr.Msg, "Build the bundle again.")
	case errors.As(err, &fileErr), errors.As(err, &pathErr):
		return problem(codeFile, what+": the file cannot be read or written", "Check the file exists, is readable and the folder is writable.")
	case sshconn.IsTransient(err):
		return problem(codeUnreach, what+": the sensor did not answer", "Check the address and port, the cable and that the sensor is powered; then retry.")
	}
	return problem(codeUnexpected, what+" failed", "Retry; if it fails again, send the app's log to support.")
}

// pkcs12Error is an error from opening a PKCS#12 (.pfx, .p12) file: a
// passphrase it names is the file's export passphrase (TL-CERT-041), not a
// private key's (TL-CERT-003, whose fix is openssl pkey).
type pkcs12Error struct{ err error }

func (e *pkcs12Error) Error() string { return e.err.Error() }
func (e *pkcs12Error) Unwrap() error { return e.err }

// bundleError marks what building row's bundle failed on: Session.Prepare
// names the PKCS#12 file's errors "pfx NAME: ..." (after the row's line and
// sensor), the proxy's and uplink's client keys by their own columns.
func bundleError(row provision.Row, err error) error {
	if msg := err.Error(); row.CertSource == provision.CertPKCS12 && (strings.HasPrefix(msg, "pfx ") || strings.Contains(msg, ": pfx ")) {
		return &pkcs12Error{err}
	}
	return err
}

// caLoadError is a local CA that could not be opened from Dir.
type caLoadError struct {
	Dir string
	Err error
}

func (e *caLoadError) Error() string { return "local CA " + e.Dir + ": " + e.Err.Error() }
func (e *caLoadError) Unwrap() error { return e.Err }

// caProblem words what the local CA said. Its own passphrase is not the
// sensor key's: TL-CERT-003 and its openssl advice are about that key, so a
// CA that will not open says so in its own words.
func caProblem(what string, err error) certs.Finding {
	var le *caLoadError
	switch {
	case errors.Is(err, certs.ErrIncorrectPassphrase), errors.Is(err, certs.ErrPassphraseRequired):
		return problem(codeCA, "The local CA's passphrase is wrong",
			"Enter the passphrase chosen when the local CA was created (Certificates, Local CA). The app never saves it, and nothing can recover it: "+
				"without it the CA cannot sign, and a new CA means new certificates for every sensor it signed.")
	case errors.As(err, &le) && errors.Is(err, os.ErrNotExist):
		return problem(codeCA, "There is no local CA in "+le.Dir,
			"Create one on Certificates, Local CA (or choose its folder in Settings), or import the sensor's certificate files instead.")
	}
	return problemFor(what, err)
}

// problemsFor is problemFor that also lists the findings behind a refused
// bundle (bundle.GateError): the lead line, then every error and warning.
func problemsFor(what string, err error) []certs.Finding {
	var ge *bundle.GateError
	if !errors.As(err, &ge) {
		return []certs.Finding{problemFor(what, err)}
	}
	lead := problem(provision.CodeNoBundle, what+": refused by the check below", "Go back and fix the errors.")
	if len(ge.Errors) == 0 {
		lead = certs.Finding{Code: provision.CodeNoBundle, Severity: certs.SeverityWarning, Message: what + ": the warnings below are not accepted",
			Hint: "Read them on Review and tick that you accept them, or go back and fix them."}
	}
	out := append([]certs.Finding{lead}, ge.Errors...)
	return append(out, ge.Warnings...)
}
