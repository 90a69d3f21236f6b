package certs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
)

// TestDocsListEveryCode keeps docs/certs.md in step with the catalogue.
func TestDocsListEveryCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/certs.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs.Codes() {
		row := "| " + c.Code + " | " + string(c.Severity) + " | " + strings.ReplaceAll(c.Message, "|", "\\|") + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/certs.md lacks the row for %s: %q", c.Code, row)
		}
	}
}
