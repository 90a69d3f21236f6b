package activation

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/tapline/tapline/certs"
)

// VerifyOptions say what a file must match. Roots are the trusted root
// public keys (assets.ActivationRoot in production); Now is the check time.
type VerifyOptions struct {
	Roots      []ed25519.PublicKey
	SensorName string // required: the sensor being deployed
	Mode       Mode   // optional: the management mode the sensor must keep
	Now        time.Time
	// SkipUploadWindow is set by a sensor re-reading a file it accepted
	// earlier (status); never when accepting a new file.
	SkipUploadWindow bool
}

// Verify checks a parsed file's signature chain, sensor name, upload window,
// expiry and mode. It returns every finding; any error-severity finding means
// the file is refused. The first refusal is also returned as *Error.
func (f *File) Verify(o VerifyOptions) ([]certs.Finding, error) {
	var out []certs.Finding
	var first error
	refuse := func(code, msg, hint string) {
		out = append(out, certs.Finding{Code: code, Severity: certs.SeverityError, Message: msg, Hint: hint})
		if first == nil {
			first = &Error{Code: code, Msg: msg}
		}
	}
	var root ed25519.PublicKey
	for _, r := range o.Roots {
		if KeyID(r) == f.Signer.RootID && ed25519.Verify(r, append([]byte(signerContext), f.Envelope.SignerCert...), f.Envelope.SignerCertRootSig) {
			root = r
			break
		}
	}
	switch {
	case root == nil:
		refuse(CodeUntrusted, fmt.Sprintf("the activation file is not signed under a trusted root (its root is %s)", f.Signer.RootID),
			"Use the activation file issued for this sensor by the license authority; a lab file needs --trust-root")
	case !ed25519.Verify(f.Signer.PublicKey, append([]byte(payloadContext), f.Envelope.Payload...), f.Envelope.Signature):
		refuse(CodeUntrusted, "the activation file's signature is bad: it was altered after signing",
			"Download the activation file again from the license authority")
	case f.Payload.IssuedAt.Before(f.Signer.NotBefore) || f.Payload.IssuedAt.After(f.Signer.NotAfter):
		refuse(CodeSignerValidity, fmt.Sprintf("the activation file was issued %s, outside its signing key's validity (%s to %s)",
			f.Payload.IssuedAt.Format(time.RFC3339), f.Signer.NotBefore.Format(time.RFC3339), f.Signer.NotAfter.Format(time.RFC3339)),
			"Ask the license authority for a new activation file")
	}
	if first != nil {
		return out, first
	}
	p := f.Payload
	if o.SensorName == "" || p.SensorName != o.SensorName {
		refuse(CodeWrongSensor, fmt.Sprintf("the activation file is for sensor %q, not %q", p.SensorName, o.SensorName),
			"Use the activation file issued for "+o.SensorName+"; renaming a sensor needs a new file")
	}
	if o.Now.Before(p.IssuedAt.Add(-5 * time.Minute)) {
		refuse(CodeNotYetIssued, fmt.Sprintf("the activation file is issued %s, in the future", p.IssuedAt.Format(time.RFC3339)),
			"Check this machine's clock")
	}
	if !o.SkipUploadWindow && o.Now.After(p.UploadBy) {
		refuse(CodeUploadWindow, fmt.Sprintf("the activation file was issued %s and had to be uploaded by %s (14 days)",
			p.IssuedAt.Format(time.RFC3339), p.UploadBy.Format(time.RFC3339)),
			"Ask the license authority for a new activation file")
	}
	if o.Mode != "" && p.Mode != o.Mode {
		refuse(CodeModeChange, fmt.Sprintf("the activation file is for a %s sensor; this sensor is %s, and a change of management mode needs a new activation file", p.Mode, o.Mode),
			"Ask the license authority for a file issued for the mode you want")
	}
	if p.Expires != nil {
		switch {
		case !o.Now.Before(*p.Expires):
			msg := fmt.Sprintf("the locally managed activation file expired %s", p.Expires.Format(time.RFC3339))
			if o.SkipUploadWindow {
				// A sensor showing its stored file: monitoring goes on.
				out = append(out, certs.Finding{Code: CodeExpired, Severity: certs.SeverityWarning, Message: msg + "; monitoring continues", Hint: "Upload a renewed activation file"})
			} else {
				refuse(CodeExpired, msg, "Ask the license authority for a renewed activation file")
			}
		case o.Now.Add(ExpiryWarning).After(*p.Expires):
			out = append(out, certs.Finding{Code: CodeExpiringSoon, Severity: certs.SeverityWarning,
				Message: fmt.Sprintf("the locally managed activation file expires %s (within 30 days)", p.Expires.Format(time.RFC3339)),
				Hint:    "Ask the license authority for a renewed activation file before then"})
		}
	}
	return out, first
}

// Check parses and verifies in one call.
func Check(data []byte, o VerifyOptions) (*File, []certs.Finding, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, []certs.Finding{{Code: CodeMalformed, Severity: certs.SeverityError, Message: err.Error(), Hint: "Use the .tapact file exactly as the license authority issued it"}}, err
	}
	fs, err := f.Verify(o)
	return f, fs, err
}

// Summary is the short description status and apply results show.
type Summary struct {
	SensorID    string     `json:"sensor_id"`
	SensorName  string     `json:"sensor_name"`
	Site        string     `json:"site"`
	Zone        string     `json:"zone"`
	Mode        Mode       `json:"mode"`
	PlanID      string     `json:"plan_id"`
	DeviceCount int        `json:"device_count"`
	IssuedAt    time.Time  `json:"issued_at"`
	Expires     *time.Time `json:"expires"`
	Expired     bool       `json:"expired"`
	SignerKeyID string     `json:"signer_key_id"`
}

// Summarize returns the file's summary as of now.
func (f *File) Summarize(now time.Time) Summary {
	p := f.Payload
	return Summary{SensorID: p.SensorID, SensorName: p.SensorName, Site: p.Site, Zone: p.Zone, Mode: p.Mode,
		PlanID: p.PlanID, DeviceCount: p.DeviceCount, IssuedAt: p.IssuedAt, Expires: p.Expires,
		Expired: p.Expires != nil && !now.Before(*p.Expires), SignerKeyID: f.Signer.KeyID}
}
