package plugin

import (
	"testing"

	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/monitor"
)

// monitorWith registers ps in the process's registry and opens a monitor
// (learning off) that decodes with them. The caller defers closeAll,
// which closes the monitor and unregisters the plugins: the registry is
// shared with the package's other tests (and, in a fuzz target, with the
// next input), and a test may compare a run without the plugins after.
func monitorWith(tb testing.TB, ps ...*Plugin) (m *monitor.Monitor, closeAll func()) {
	tb.Helper()
	var names []string
	unregister := func() {
		for _, n := range names {
			dissect.Default().Unregister(n)
		}
	}
	for _, p := range ps {
		if _, err := p.Register(dissect.Default()); err != nil {
			unregister()
			tb.Fatalf("%s: %v", p.Name, err)
		}
		names = append(names, p.Name)
	}
	m, err := monitor.New(monitor.Options{Learning: -1})
	if err != nil {
		unregister()
		tb.Fatal(err)
	}
	return m, func() { m.Close(); unregister() }
}
