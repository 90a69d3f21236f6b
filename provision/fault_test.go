package provision_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/faultproxy"
)

// Faults injected by a TCP proxy between the laptop and the appliance at
// chosen points: the sensor ends on the old or the new generation (never a
// mix: the served certificate is one bundle's and status agrees), and the
// batch's retry completes the job.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		move bool
		// attempts is how many pushes it takes (at most): a cut of the old
		// connection after apply on a move costs nothing, the push reconnects
		// anyway; a cut "during apply" that lands after apply answered costs
		// nothing either.
		attempts int
		// cut decides, per event, whether to cut now (called once per event
		// until it returns true).
		cut func(e provision.Event) bool
	}{
		{"mid-upload", false, 2, func(e provision.Event) bool { return e.Step == provision.StepUpload && e.Bytes > 0 }},
		{"during apply", false, 2, func(e provision.Event) bool {
			if e.Step == provision.StepApply && e.Percent == 0 {
				time.Sleep(40 * time.Millisecond) // apply is running on the sensor
				return true
			}
			return false
		}},
		{"right after apply", true, 1, func(e provision.Event) bool { return e.Step == provision.StepApply && e.Percent == 100 }},
		{"during reconnect", true, 2, func(e provision.Event) bool {
			return e.Step == provision.StepConfirm && e.Percent == 50 // reconnected, before confirm
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, "sensor-01")
			ctx := context.Background()
			// First setup, straight.
			p1 := l.prepared(t, "sensor-01", "198.18.0.10")
			if res := provision.Push(ctx, p1.Target, p1.Bundle, l.options(true, nil)); res.Outcome != provision.OutcomeDone {
				t.Fatalf("setup: %+v", res)
			}
			a, _ := faultproxy.New(l.sshAddr)
			defer a.Close()
			b, _ := faultproxy.New(l.sshAddr)
			defer b.Close()
			os.WriteFile(l.kh, []byte(l.app.KnownHostsLine(a.Addr)), 0o600)
			p2 := l.prepared(t, "sensor-01", "198.18.0.10")
			if tc.move {
				p2 = l.prepared(t, "sensor-01", "198.18.0.11")
				p2.Target.NewAddr = b.Addr
			}
			p2.Target.Addr = a.Addr
			var once sync.Once
			var mu sync.Mutex
			fired := false
			o := l.options(false, func(e provision.Event) {
				mu.Lock()
				done := fired
				mu.Unlock()
				if done || !tc.cut(e) {
					return
				}
				once.Do(func() {
					mu.Lock()
					fired = true
					mu.Unlock()
					a.CutNow()
					b.CutNow()
					if tc.move && e.Step == provision.StepApply {
						a.Refuse(true) // the sensor has moved
					}
				})
			})
			inv := &provision.Inventory{Rows: []provision.Row{{Line: 2, Sensor: "sensor-01"}}}
			rep, err := provision.RunBatch(ctx, inv, provision.BatchOptions{Retries: 2, Backoff: 100 * time.Millisecond, Push: o,
				Prepare: func(context.Context, provision.Row) (provision.Prepared, error) { return p2, nil }})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if !fired {
				t.Fatal("the fault was never injected")
			}
			if r.Result.Outcome != provision.OutcomeDone || r.Attempts > tc.attempts || (tc.attempts == 2 && tc.name != "during apply" && r.Attempts != 2) || r.Result.ServedFingerprint != p2.Bundle.CertFingerprint {
				t.Fatalf("after a cut %s the retry did not complete: attempts %d %+v\n%s", tc.name, r.Attempts, r.Result, l.app.Log.String())
			}
			st := status(t, l)
			if st.Certificate.FingerprintSHA256 != p2.Bundle.CertFingerprint || st.PendingConfirmation || (st.Generation != 2 && st.Generation != 3) {
				t.Fatalf("sensor state after %s: %+v", tc.name, st)
			}
		})
	}
}
