package bundle

import (
	"os"
	"strings"
	"testing"

	"github.com/tapline/tapline/sensorcore/netconf"
)

// docBlock returns the fenced block tagged "json TAG" in docs/formats.md.
func docBlock(t *testing.T, tag string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../docs/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "```json "+tag+"\n")
	if i < 0 {
		t.Fatalf("docs/formats.md has no ```json %s block", tag)
	}
	s = s[i+len("```json "+tag+"\n"):]
	return []byte(s[:strings.Index(s, "```")])
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
