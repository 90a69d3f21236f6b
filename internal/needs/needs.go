// Package needs lets a test that depends on something outside the
// repository (a tool, root, the shared captures) skip with a sentence when
// it is missing on a developer's machine, and fail instead under CI=true,
// where everything a test needs must be present.
package needs

import (
	"os"
	"testing"
)

// CI reports whether the tests run under continuous integration (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with the reason, or fails it under CI=true.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}
