package signin

import (
	"os"
	"strings"
	"testing"
)

// TestPolicyInDocs: docs/appliance.md states the policy's numbers as the
// code has them.
func TestPolicyInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/appliance.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{
		"waits " + DefaultFirstDelay.String()[:3] + " ms",
		"up to a " + Human(DefaultMaxDelay)[2:] + ";",
		"forgotten " + Human(DefaultForget) + " after",
		"lock the account for a while (" + Human(DefaultLockFor),
		"(at most an " + Human(DefaultMaxLock)[2:] + ")",
		"100 failures within an hour",
		"account for " + Human(DefaultHardLockFor) + ",",
		"(4 may wait",
		"At most 64 wait",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/appliance.md does not say %q", want)
		}
	}
	if DefaultHardLockAfter != 100 || DefaultHardLockWindow.Hours() != 1 || DefaultMaxWaiting != 4 || DefaultQueue != 64 {
		t.Error("the policy changed: update docs/appliance.md and this test")
	}
}
