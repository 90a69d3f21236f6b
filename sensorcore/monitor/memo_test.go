package monitor

import (
	"encoding/json"
	"testing"
	"time"
)

// TestMemoSameReport: the stream memo (inventory.Flow, alert.Flow) only
// skips work that would change nothing, so the report over every shared
// capture, with learning ending early enough that baseline alerts fire,
// is the same with and without it.
func TestMemoSameReport(t *testing.T) {
	files := sharedCaptures(t)
	run := func(noMemo bool) ([]byte, Report) {
		m, err := New(Options{Learning: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		m.pipe.noMemo = noMemo
		if err := m.RunFiles(files...); err != nil {
			t.Fatal(err)
		}
		r := m.Report()
		b, _ := json.Marshal(r)
		return b, r
	}
	with, r := run(false)
	without, _ := run(true)
	if len(r.Alerts) == 0 || len(r.Assets) == 0 {
		t.Fatalf("%d alerts, %d assets: nothing compared", len(r.Alerts), len(r.Assets))
	}
	if string(with) != string(without) {
		t.Fatalf("reports differ with the stream memo:\n%s\nwithout:\n%s", with, without)
	}
}
