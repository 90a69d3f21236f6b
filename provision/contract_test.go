//go:build linux

// The appliance side builds for Linux only.

package provision

import (
	"reflect"
	"testing"

	"github.com/tapline/tapline/internal/jsoncontract"
	"github.com/tapline/tapline/sensorcore/console"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/validate"
)

// TestApplianceContract: every JSON field the push engine reads from the
// appliance is one the appliance writes, under the same name and of a
// kind that decodes into it. The two sides declare their own types (the
// laptop reads only what it needs, and tolerates older appliances); this
// keeps them from drifting apart.
func TestApplianceContract(t *testing.T) {
	for _, c := range []struct {
		name              string
		laptop, appliance any
	}{
		{"status --json", Status{}, daemon.Status{}},
		{"apply --json", ApplyResult{}, daemon.ApplyResult{}},
		{"confirm --json", ConfirmResult{}, daemon.OpResult{}},
		{"install-core --json", installCoreResult{}, daemon.InstallCoreResult{}},
		{"/api/v1/health", Health{}, console.Health{}},
		{"console reset --json", ConsoleReset{}, console.ResetResult{}},
		{"validate --json", Validation{}, validate.Report{}},
	} {
		for _, p := range jsoncontract.Missing(reflect.TypeOf(c.laptop), reflect.TypeOf(c.appliance), c.name, "the laptop reads", "the appliance writes") {
			t.Errorf("%s", p)
		}
	}
}
