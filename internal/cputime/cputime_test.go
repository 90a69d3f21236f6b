package cputime

import (
	"testing"
	"time"
)

// TestProcessCounts: busy work shows as CPU time (within a generous wall
// time, the machine may be busy), and a sleep barely does.
func TestProcessCounts(t *testing.T) {
	t0 := Process()
	if t0 <= 0 {
		t.Fatalf("CPU time %v at the start of a test", t0)
	}
	x := 0
	for start := time.Now(); Process()-t0 < 50*time.Millisecond; x++ {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("30 s of busy work counted %v of CPU time", Process()-t0)
		}
	}
	t1 := Process()
	time.Sleep(200 * time.Millisecond)
	if d := Process() - t1; d > 150*time.Millisecond {
		t.Fatalf("a 200 ms sleep counted %v of CPU time", d)
	}
}
