// Package plugintest gives tests the plugin of docs/plugins.md's worked
// example, so the documentation's plugin is the one they load.
package plugintest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WorkedExample is the first yaml block of docs/plugins.md (KilnNet,
// version 1.0.0).
func WorkedExample(tb testing.TB) []byte {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	doc, err := os.ReadFile(filepath.Join(dir, "docs", "plugins.md"))
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
