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
	var diff []string
	res = provision.Push(ctx, p2.Target, p2.Bundle, l.options(true, func(e provision.Event) {
		if e.Step == provision.StepPreflight {
			mu.Lock()
			msgs = append(msgs, e.Message)
			if e.NetworkDiff != nil {
				diff = e.NetworkDiff
			}
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
	if strings.Join(diff, "\n") != strings.Join(res.NetworkDiff, "\n") {
		t.Errorf("the preflight event's NetworkDiff %q is not the result's %q", diff, res.NetworkDiff)
	}
}

// TestPushFailedEvent: the last event of a push that fails says so, with
// the result's failure code.
func TestPushFailedEvent(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	p1 := l.prepared(t, "sensor-01", "198.18.0.10")
	if res := provision.Push(context.Background(), p1.Target, p1.Bundle, l.options(true, nil)); res.Outcome != provision.OutcomeDone {
		t.Fatalf("first push: %+v", res)
	}
	p := l.prepared(t, "sensor-02", "198.18.0.12") // sensor-01 answers: another sensor
	var last provision.Event
	var mu sync.Mutex
	res := provision.Push(context.Background(), p.Target, p.Bundle, l.options(true, func(e provision.Event) {
		mu.Lock()
		last = e
		mu.Unlock()
	}))
	mu.Lock()
	defer mu.Unlock()
	if res.Outcome == provision.OutcomeDone || res.Code == "" || !last.Failed || last.Code != res.Code || !strings.HasPrefix(last.Message, "error: ") {
		t.Fatalf("result %+v, last event %+v", res, last)
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
