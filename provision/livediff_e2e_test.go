package provision_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tapline/tapline/provision"
)

// TestPushLiveNetworkDiff: preflight reads the sensor's network from
// status --json and diffs the bundle against it (Result and an event),
// not against the inventory's address.
func TestPushLiveNetworkDiff(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	ctx := context.Background()
	p1 := l.prepared(t, "sensor-01", "198.18.0.10")
	res := provision.Push(ctx, p1.Target, p1.Bundle, l.options(true, nil))
	if res.Outcome != provision.OutcomeDone || res.NetworkBefore != nil || len(res.NetworkDiff) == 0 ||
		!strings.Contains(res.NetworkDiff[0], "factory network") || !contains(res.NetworkDiff, "+ address 198.18.0.10/24 on eth0") {
		t.Fatalf("first push: %+v", res)
	}
	p2 := l.prepared(t, "sensor-01", "198.18.0.11")
	var mu sync.Mutex
	var msgs []string
	res = provision.Push(ctx, p2.Target, p2.Bundle, l.options(true, func(e provision.Event) {
		if e.Step == provision.StepPreflight {
			mu.Lock()
			msgs = append(msgs, e.Message)
			mu.Unlock()
		}
	}))
	if res.Outcome != provision.OutcomeDone || res.NetworkBefore == nil || res.NetworkBefore.Address != "198.18.0.10" {
		t.Fatalf("second push: %+v", res)
	}
	for _, want := range []string{"- address 198.18.0.10/24", "+ address 198.18.0.11/24", "  interface eth0 (unchanged)", "  hostname sensor-01.plant.example (unchanged)"} {
		if !contains(res.NetworkDiff, want) {
			t.Errorf("diff lacks %q: %q", want, res.NetworkDiff)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(msgs, "\n"), "- address 198.18.0.10/24\n+ address 198.18.0.11/24") {
		t.Errorf("no preflight event with the live diff: %q", msgs)
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
