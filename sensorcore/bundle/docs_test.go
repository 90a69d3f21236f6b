package bundle

import (
	"testing"

	"github.com/tapline/tapline/internal/doctest"

	"github.com/tapline/tapline/sensorcore/netconf"
)

// docBlock returns the fenced block tagged "json TAG" in docs/formats.md.
func docBlock(t *testing.T, tag string) []byte {
	t.Helper()
	return doctest.JSONBlock(t, "formats.md", tag)
}

func TestDocsExamples(t *testing.T) {
	m, err := ParseManifest(docBlock(t, "manifest"))
	if err != nil || m.Sensor.Name != "sensor-01" || len(m.Files) != 5 {
		t.Fatalf("manifest example: %v", err)
	}
	s, err := netconf.Parse(docBlock(t, "settings"))
	if err != nil {
		t.Fatalf("settings example: %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("settings example does not validate: %v", err)
	}
}
