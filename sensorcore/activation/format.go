package activation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// FormatV1 names the envelope format; Parse refuses any other.
const FormatV1 = "tapline-activation/1"

// Mode is the sensor's management mode (docs/formats.md, "mode").
type Mode string

// Management modes. Switching between them needs a new activation file.
const (
	ModeCloud Mode = "cloud-connected"
	ModeLocal Mode = "locally-managed"
)

// Valid reports whether m is one of the known modes.
func (m Mode) Valid() bool { return m == ModeCloud || m == ModeLocal }

// UploadWindow is how long after issue a file may be uploaded to its sensor.
const UploadWindow = 14 * 24 * time.Hour

// ExpiryWarning is how long before expiry a locally managed file draws a warning.
const ExpiryWarning = 30 * 24 * time.Hour

// Payload is the signed content of an activation file.
type Payload struct {
	Version     int        `json:"version"`
	SensorID    string     `json:"sensor_id"`
	SensorName  string     `json:"sensor_name"`
	Site        string     `json:"site"`
	Zone        string     `json:"zone"`
	Mode        Mode       `json:"mode"`
	PlanID      string     `json:"plan_id"`
	DeviceCount int        `json:"device_count"`
	IssuedAt    time.Time  `json:"issued_at"`
	UploadBy    time.Time  `json:"upload_by"`
	Expires     *time.Time `json:"expires,omitempty"`
}

// SignerCert is a signing key certified by a root: the root signs its JSON
// encoding so the authority can rotate signing keys under the same root.
type SignerCert struct {
	KeyID     string            `json:"key_id"`
	PublicKey ed25519.PublicKey `json:"public_key"`
	NotBefore time.Time         `json:"not_before"`
	NotAfter  time.Time         `json:"not_after"`
	RootID    string            `json:"root_id"`
}

// Envelope is the file as stored: raw payload and signer certificate bytes
// with their signatures, so verification runs over exactly the signed bytes.
type Envelope struct {
	Format            string `json:"format"`
	Payload           []byte `json:"payload"`
	Signature         []byte `json:"signature"`
	SignerCert        []byte `json:"signer_cert"`
	SignerCertRootSig []byte `json:"signer_cert_signature"`
}

// File is a parsed activation file: the envelope and its decoded parts.
// Parsing checks shape only; Verify checks signatures and dates.
type File struct {
	Envelope Envelope
	Payload  Payload
	Signer   SignerCert
}

// Domain separation prefixes for the two signatures.
const (
	payloadContext = "tapline-activation-payload-v1\x00"
	signerContext  = "tapline-activation-signer-v1\x00"
)

// maxFileSize bounds what Parse accepts; real files are about 1 KiB.
const maxFileSize = 64 << 10

// Parse decodes an activation file. It checks structure and required
// fields, not signatures: call Verify for that.
func Parse(data []byte) (*File, error) {
	if len(data) > maxFileSize {
		return nil, &Error{Code: CodeMalformed, Msg: fmt.Sprintf("activation file is %d bytes, larger than %d; this is not an activation file", len(data), maxFileSize)}
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, malformed("the file is empty; copy the .tapact file again from the license authority")
	case trimmed[0] != '{':
		return nil, malformed("this is not an activation file (a .tapact file is a JSON object starting with '{')")
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.Envelope); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, malformed("the file ends early (truncated copy?); copy the .tapact file again from the license authority")
		}
		return nil, malformed("envelope is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, malformed("data after the activation file's JSON object (two files joined?)")
	}
	if f.Envelope.Format != FormatV1 {
		return nil, malformed("format %q is not %q; ask the authority for a current file", f.Envelope.Format, FormatV1)
	}
	if len(f.Envelope.Signature) != ed25519.SignatureSize {
		return nil, malformed("signature is %d bytes, want %d", len(f.Envelope.Signature), ed25519.SignatureSize)
	}
	if len(f.Envelope.SignerCertRootSig) != ed25519.SignatureSize {
		return nil, malformed("signer_cert_signature is %d bytes, want %d", len(f.Envelope.SignerCertRootSig), ed25519.SignatureSize)
	}
	if err := strictJSON(f.Envelope.Payload, &f.Payload); err != nil {
		return nil, malformed("payload: %v", err)
	}
	if err := strictJSON(f.Envelope.SignerCert, &f.Signer); err != nil {
		return nil, malformed("signer_cert: %v", err)
	}
	if len(f.Signer.PublicKey) != ed25519.PublicKeySize {
		return nil, malformed("signer_cert public_key is %d bytes, want %d", len(f.Signer.PublicKey), ed25519.PublicKeySize)
	}
	if err := f.Payload.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON object")
	}
	return nil
}

// check verifies the payload's required fields and their consistency.
func (p *Payload) check() error {
	switch {
	case p.Version != 1:
		return malformed("payload version %d is not 1", p.Version)
	case p.SensorID == "":
		return malformed("payload field sensor_id is empty")
	case p.SensorName == "":
		return malformed("payload field sensor_name is empty")
	case !p.Mode.Valid():
		return malformed("payload field mode %q is not %q or %q", p.Mode, ModeCloud, ModeLocal)
	case p.DeviceCount < 0:
		return malformed("payload field device_count is negative")
	case p.IssuedAt.IsZero():
		return malformed("payload field issued_at is missing")
	case !p.UploadBy.Equal(p.IssuedAt.Add(UploadWindow)):
		return malformed("payload field upload_by is not issued_at + 14 days")
	case p.Mode == ModeLocal && p.Expires == nil:
		return malformed("locally managed file has no expires field")
	case p.Mode == ModeCloud && p.Expires != nil:
		return malformed("cloud-connected file carries an expires field; cloud-connected files do not expire")
	case p.Expires != nil && !p.Expires.After(p.IssuedAt):
		return malformed("payload field expires is not after issued_at")
	}
	return nil
}
