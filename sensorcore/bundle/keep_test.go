package bundle

import (
	"strings"
	"testing"
)

// TestKeepCertificateManifest: keep_certificate lifts cert and key from the
// required roles and forbids certificate material; cert_name is bounded.
func TestKeepCertificateManifest(t *testing.T) {
	entry := func(role, name string) string {
		return `{"role":"` + role + `","name":"` + name + `","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}`
	}
	base := `{"format":"tapline-bundle/1","sensor":{"name":"a"},"created_at":"2026-01-01T00:00:00Z",`
	ok := base + `"keep_certificate":true,"cert_name":"lab","files":[` + entry("activation", "activation.tapact") + `,` + entry("settings", "settings.json") + `]}`
	m, err := ParseManifest([]byte(ok))
	if err != nil || !m.KeepCertificate || m.CertName != "lab" {
		t.Fatalf("keep_certificate without cert and key: %+v %v", m, err)
	}
	for name, bad := range map[string]string{
		"no keep":   strings.Replace(ok, `"keep_certificate":true,`, ``, 1),
		"with cert": strings.Replace(ok, `"files":[`, `"files":[`+entry("cert", "sensor.crt")+`,`, 1),
		"with crl":  strings.Replace(ok, `"files":[`, `"files":[`+entry("crl", "crl.crl")+`,`, 1),
		"long name": strings.Replace(ok, `"cert_name":"lab"`, `"cert_name":"`+strings.Repeat("x", 129)+`"`, 1),
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
