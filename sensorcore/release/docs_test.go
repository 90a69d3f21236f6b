package release

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tapline/tapline/internal/doctest"
)

// TestDocsStatement decodes the documented release statement strictly and
// checks it the way Verify does, so the docs cannot drift.
func TestDocsStatement(t *testing.T) {
	var st Statement
	dec := json.NewDecoder(bytes.NewReader(doctest.JSONBlock(t, "formats.md", "release-statement")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatal(err)
	}
	if err := st.check(); err != nil {
		t.Fatal(err)
	}
}
