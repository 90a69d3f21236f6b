package daemon

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

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

// TestDocsExamples decodes the documented apply and status objects strictly
// into the types the commands print, so the docs cannot drift.
func TestDocsExamples(t *testing.T) {
	for tag, v := range map[string]any{"apply": &ApplyResult{}, "status": &Status{}} {
		dec := json.NewDecoder(bytes.NewReader(docBlock(t, tag)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s example: %v", tag, err)
		}
	}
}
