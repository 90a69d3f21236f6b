package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// FormatV1 names the manifest format; ParseManifest refuses any other.
const FormatV1 = "tapline-bundle/1"

// ManifestName is the manifest's file name, first in an archive.
const ManifestName = "manifest.json"

// Role says what a file in the bundle is.
type Role string

// Roles and their file names in a bundle.
const (
	RoleActivation Role = "activation" // activation.tapact
	RoleCert       Role = "cert"       // sensor.crt
	RoleKey        Role = "key"        // sensor.key, unencrypted PKCS#8/PKCS#1 PEM, 0600
	RoleChain      Role = "chain"      // chain.pem
	RoleCRL        Role = "crl"        // crl.crl, PEM or DER: one CRL
	// RoleCRLs carries several CRLs (every CA level's, docs/formats.md):
	// an appliance that predates it refuses the bundle as a whole rather
	// than check the first CRL of crl.crl and ignore the rest.
	RoleCRLs            Role = "crls"              // crls.pem, X509 CRL PEM blocks
	RoleSettings        Role = "settings"          // settings.json (netconf.Settings), 0600
	RoleProxyClientCert Role = "proxy-client-cert" // proxy-client.crt
	RoleProxyClientKey  Role = "proxy-client-key"  // proxy-client.key, 0600
	// The uplink to the site stream (settings.json's uplink, docs/site.md).
	RoleUplinkCA         Role = "uplink-ca"          // uplink-ca.pem: the CA the site's servers chain to
	RoleUplinkClientCert Role = "uplink-client-cert" // uplink-client.crt
	RoleUplinkClientKey  Role = "uplink-client-key"  // uplink-client.key, 0600
	RoleUplinkCredential Role = "uplink-credential"  // uplink.cred: an NKEY seed or NATS user credentials, 0600

	// RolePluginKey is the plant's plugin signing public key(s): the
	// sensor loads only protocol plugins signed by one of them.
	RolePluginKey Role = "plugin-key" // plugin-signing.pub
)

// FileNames maps each role to its file name in a bundle.
var fileNames = map[Role]string{
	RoleActivation:       "activation.tapact",
	RoleCert:             "sensor.crt",
	RoleKey:              "sensor.key",
	RoleChain:            "chain.pem",
	RoleCRL:              "crl.crl",
	RoleCRLs:             "crls.pem",
	RoleSettings:         "settings.json",
	RoleProxyClientCert:  "proxy-client.crt",
	RoleProxyClientKey:   "proxy-client.key",
	RoleUplinkCA:         "uplink-ca.pem",
	RoleUplinkClientCert: "uplink-client.crt",
	RoleUplinkClientKey:  "uplink-client.key",
	RoleUplinkCredential: "uplink.cred",
	RolePluginKey:        "plugin-signing.pub",
}

// FileName returns the file name a role has in a bundle.
func FileName(r Role) string { return fileNames[r] }

// secret reports whether a role's file holds a secret (written 0600).
func secret(r Role) bool {
	return r == RoleKey || r == RoleSettings || r == RoleProxyClientKey || r == RoleUplinkClientKey || r == RoleUplinkCredential
}

// SecretFile reports whether a file of a bundle, by its name, holds a
// secret: written 0600, and kept so on the appliance.
func SecretFile(name string) bool {
	for r, n := range fileNames {
		if n == name {
			return secret(r)
		}
	}
	return false
}

// Required roles every bundle carries; cert and key are left out only
// when the manifest says keep_certificate.
var required = []Role{RoleActivation, RoleCert, RoleKey, RoleSettings}

// Sensor identifies the sensor a bundle is for.
type Sensor struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Entry is one file in the manifest.
type Entry struct {
	Role   Role   `json:"role"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex, lower case
}

// Manifest is manifest.json.
type Manifest struct {
	Format    string    `json:"format"`
	Sensor    Sensor    `json:"sensor"`
	CreatedAt time.Time `json:"created_at"`
	Creator   string    `json:"creator"`
	// AcceptedWarnings lists the warning codes the engineer explicitly
	// accepted when the laptop built the bundle.
	AcceptedWarnings []string `json:"accepted_warnings,omitempty"`
	// CertName is the engineer's name for the certificate (docs/field-facts.md,
	// "certificate name"); the appliance shows it in status.
	CertName string `json:"cert_name,omitempty"`
	// KeepCertificate says the bundle carries no certificate or key: the
	// appliance keeps serving the certificate it serves now (the
	// self-signed one made at install, for test setups).
	KeepCertificate bool    `json:"keep_certificate,omitempty"`
	Files           []Entry `json:"files"`
}

// Limits on what a bundle may hold.
const (
	MaxFileSize     = 4 << 20
	MaxManifestSize = 64 << 10
	maxFiles        = 16
)

var hexSHA = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })

// ParseManifest reads manifest.json strictly and checks its entries.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, errorf(CodeMalformed, "%s is %d bytes, over %d", ManifestName, len(data), MaxManifestSize)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, errorf(CodeMalformed, "%s is not valid: %v", ManifestName, err)
	}
	if dec.More() {
		return nil, errorf(CodeMalformed, "%s has data after its JSON object", ManifestName)
	}
	if m.Format != FormatV1 {
		return nil, errorf(CodeMalformed, "%s format %q is not %q; rebuild the bundle with a current Tapline", ManifestName, m.Format, FormatV1)
	}
	if m.Sensor.Name == "" {
		return nil, errorf(CodeMalformed, "%s: sensor.name is empty", ManifestName)
	}
	if m.CreatedAt.IsZero() {
		return nil, errorf(CodeMalformed, "%s: created_at is missing", ManifestName)
	}
	if len(m.Files) > maxFiles {
		return nil, errorf(CodeMalformed, "%s lists %d files, over %d", ManifestName, len(m.Files), maxFiles)
	}
	seen := map[Role]bool{}
	for i, e := range m.Files {
		want, ok := fileNames[e.Role]
		switch {
		case !ok:
			return nil, errorf(CodeMalformed, "%s: files[%d] has unknown role %q", ManifestName, i, e.Role)
		case seen[e.Role]:
			return nil, errorf(CodeMalformed, "%s: role %q is listed twice", ManifestName, e.Role)
		case e.Name != want:
			return nil, errorf(CodeMalformed, "%s: files[%d] (%s) is named %q, want %q", ManifestName, i, e.Role, e.Name, want)
		case e.Size < 0 || e.Size > MaxFileSize:
			return nil, errorf(CodeMalformed, "%s: %s size %d is outside 0..%d", ManifestName, e.Name, e.Size, MaxFileSize)
		case !hexSHA().MatchString(e.SHA256):
			return nil, errorf(CodeMalformed, "%s: %s sha256 is not 64 lower-case hex digits", ManifestName, e.Name)
		}
		seen[e.Role] = true
	}
	if m.KeepCertificate && (seen[RoleCert] || seen[RoleKey] || seen[RoleChain] || seen[RoleCRL] || seen[RoleCRLs]) {
		return nil, errorf(CodeMalformed, "%s: keep_certificate is set but the bundle carries a certificate, key, chain or CRL", ManifestName)
	}
	if seen[RoleCRL] && seen[RoleCRLs] {
		return nil, errorf(CodeMalformed, "%s: the bundle lists both crl.crl and crls.pem; its CRLs travel in one of them", ManifestName)
	}
	if len(m.CertName) > 128 {
		return nil, errorf(CodeMalformed, "%s: cert_name is %d characters, over 128", ManifestName, len(m.CertName))
	}
	for _, r := range required {
		if m.KeepCertificate && (r == RoleCert || r == RoleKey) {
			continue
		}
		if !seen[r] {
			return nil, errorf(CodeMissing, "%s lists no %s file (%s); the bundle is incomplete", ManifestName, r, fileNames[r])
		}
	}
	if seen[RoleProxyClientCert] != seen[RoleProxyClientKey] {
		return nil, errorf(CodeMalformed, "%s: the proxy client certificate and key must travel together", ManifestName)
	}
	if seen[RoleUplinkClientCert] != seen[RoleUplinkClientKey] {
		return nil, errorf(CodeMalformed, "%s: the uplink client certificate and key must travel together", ManifestName)
	}
	return &m, nil
}

// Entry returns the manifest entry for a role, if listed.
func (m *Manifest) Entry(r Role) (Entry, bool) {
	for _, e := range m.Files {
		if e.Role == r {
			return e, true
		}
	}
	return Entry{}, false
}

// ArchiveName is the archive file name: <sensor>-<UTC yyyymmddThhmmssZ>.tapbundle.
func ArchiveName(sensor string, created time.Time) string {
	return fmt.Sprintf("%s-%s.tapbundle", sensor, created.UTC().Format("20060102T150405Z"))
}
