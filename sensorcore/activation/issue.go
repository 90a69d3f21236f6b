package activation

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"
)

// CertifySigner has a root sign a signing key valid from notBefore to
// notAfter. The authority runs it offline, holding the root's private key.
func CertifySigner(root ed25519.PrivateKey, signer ed25519.PublicKey, notBefore, notAfter time.Time) (SignedSignerCert, error) {
	if !notAfter.After(notBefore) {
		return SignedSignerCert{}, fmt.Errorf("activation: signer validity ends before it starts")
	}
	c := SignerCert{
		KeyID:     KeyID(signer),
		PublicKey: signer,
		NotBefore: notBefore.UTC(),
		NotAfter:  notAfter.UTC(),
		RootID:    KeyID(root.Public().(ed25519.PublicKey)),
	}
	cb, err := json.Marshal(c)
	if err != nil {
		return SignedSignerCert{}, err
	}
	return SignedSignerCert{Cert: cb, Signature: ed25519.Sign(root, append([]byte(signerContext), cb...))}, nil
}

// Request is what the authority fills in to issue a file. IssuedAt and
// UploadBy are set by Issue from its now parameter.
type Request struct {
	SensorID, SensorName, Site, Zone, PlanID string
	Mode                                     Mode
	DeviceCount                              int
	Expires                                  time.Time // locally managed only
}

// Issue signs an activation file for one sensor with a certified signing key.
func Issue(req Request, key ed25519.PrivateKey, signer SignedSignerCert, now time.Time) ([]byte, error) {
	now = now.UTC().Truncate(time.Second)
	p := Payload{
		Version:     1,
		SensorID:    req.SensorID,
		SensorName:  req.SensorName,
		Site:        req.Site,
		Zone:        req.Zone,
		Mode:        req.Mode,
		PlanID:      req.PlanID,
		DeviceCount: req.DeviceCount,
		IssuedAt:    now,
		UploadBy:    now.Add(UploadWindow),
	}
	if req.Mode == ModeLocal {
		if req.Expires.IsZero() {
			return nil, fmt.Errorf("activation: a locally managed file needs an expiry (--expires)")
		}
		e := req.Expires.UTC()
		p.Expires = &e
	} else if !req.Expires.IsZero() {
		return nil, fmt.Errorf("activation: cloud-connected files do not expire; drop --expires")
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	var sc SignerCert
	if err := strictJSON(signer.Cert, &sc); err != nil {
		return nil, fmt.Errorf("activation: signer certificate: %w", err)
	}
	if !sc.PublicKey.Equal(key.Public()) {
		return nil, fmt.Errorf("activation: the signing key does not match the signer certificate (key %s, certificate %s)", KeyID(key.Public().(ed25519.PublicKey)), sc.KeyID)
	}
	if now.Before(sc.NotBefore) || now.After(sc.NotAfter) {
		return nil, fmt.Errorf("activation: the signer certificate is valid %s to %s, not now", sc.NotBefore.Format(time.RFC3339), sc.NotAfter.Format(time.RFC3339))
	}
	pb, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	env := Envelope{
		Format:            FormatV1,
		Payload:           pb,
		Signature:         ed25519.Sign(key, append([]byte(payloadContext), pb...)),
		SignerCert:        signer.Cert,
		SignerCertRootSig: signer.Signature,
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
