// Package plugintest gives tests the plugin of docs/plugins.md's worked
// example, so the documentation's plugin is the one they load.
package plugintest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// WorkedExample is the first yaml block of docs/plugins.md (KilnNet,
// version 1.0.0).
func WorkedExample(tb testing.TB) []byte {
	tb.Helper()
	doc, err := os.ReadFile(filepath.Join(needs.RepoRoot(tb), "docs", "plugins.md"))
	if err != nil {
		tb.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "```yaml\n")
	if i < 0 {
		tb.Fatal("no yaml block in docs/plugins.md")
	}
	j := strings.Index(s[i+8:], "```")
	if j < 0 {
		tb.Fatal("an unterminated yaml block in docs/plugins.md")
	}
	return []byte(s[i+8 : i+8+j])
}
