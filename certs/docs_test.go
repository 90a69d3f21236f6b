package certs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
)

// TestDocsListEveryCode keeps docs/certs.md in step with the catalogue:
// every code's row, severity, message and fix as certs.Codes() has them.
func TestDocsListEveryCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/certs.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs.Codes() {
		esc := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
		row := "| " + c.Code + " | " + string(c.Severity) + " | " + esc(c.Message) + " | " + esc(c.Hint) + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/certs.md lacks the row for %s: %q", c.Code, row)
		}
	}
}
