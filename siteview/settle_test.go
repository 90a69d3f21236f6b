package siteview

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/natstest"
)

// TestLoadWaitsForQuorum: the view is opened while the site's cluster has
// lost two of its three nodes (no JetStream leader: its requests go
// unanswered, and stay so once a leader is elected); the nodes come back
// a few seconds later, and the view loads, as an engineer opening it just after the servers restart
// expects, instead of failing on the first request.
func TestLoadWaitsForQuorum(t *testing.T) {
	st := natstest.NewSite(t, 3, "sensor-01", "sensor-02")
	now := time.Now().UTC()
	st.PublishExample(now)
	st.Servers[1].Kill()
	st.Servers[2].Kill()
	// Without a majority, the view says so when its time is up.
	short, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if r, err := Open(st.Viewer(), st.Name, 0); err != nil {
		t.Fatal(err)
	} else {
		err = r.Load(short, 0)
		r.Close()
		if err == nil || !strings.Contains(err.Error(), "no JetStream answer") || !strings.Contains(err.Error(), "majority") {
			t.Fatalf("one node of three left: %v", err)
		}
		t.Logf("one node of three left: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, err := Open(st.Viewer(), st.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		time.Sleep(3 * time.Second)
		st.Servers[1].Restart()
		st.Servers[2].Restart()
	}()
	start := time.Now()
	if err := r.Load(ctx, 0); err != nil {
		t.Fatalf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if len(r.Model.Assets()) != 1 {
		t.Fatalf("assets %+v", r.Model.Assets())
	}
	t.Logf("loaded after %v", time.Since(start).Round(time.Millisecond))
}
