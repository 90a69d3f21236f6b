package provision_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/siteconf"
)

// TestPushAddsTheUplink: a sensor provisioned before its site existed
// already serves the bundle's certificate, yet a bundle that now carries
// the site's uplink is applied (not only re-verified), so the sensor
// streams; pushed once more, the sensor runs that uplink and the push
// only verifies.
func TestPushAddsTheUplink(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	f := l.kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	row, sess := l.rowAt(t, "sensor-01", "198.18.0.10", f), l.session(t)
	push := func(what string) provision.Result {
		t.Helper()
		res, err := sess.Push(context.Background(), row, nil)
		if err != nil || res.Outcome != provision.OutcomeDone {
			t.Fatalf("%s: %v %+v\n%s", what, err, res, l.app.Log.String())
		}
		return res
	}
	if res := push("without a site"); res.Reverified {
		t.Fatalf("first push only re-verified: %+v", res)
	}
	// The site is made (its servers need not run for the push).
	dir := t.TempDir()
	if _, err := siteconf.Init(siteconf.Options{Site: "plant-a", Nodes: []siteconf.Node{{Host: "127.0.0.1", ClientPort: natstest.FreePorts(t, 1)[0], ClusterPort: 6222}},
		Sensors: []string{"sensor-01"}, Dir: dir, CA: natstest.MustCA(t, "Plant CA"), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	row.Uplink = filepath.Join(dir, siteconf.SiteFile)
	if res := push("with the site's uplink"); res.Reverified || res.Generation != 2 {
		t.Fatalf("the uplink was not applied (re-verified %v, generation %d)", res.Reverified, res.Generation)
	}
	if res := push("again"); !res.Reverified || res.Generation != 2 {
		t.Fatalf("the same bundle again: re-verified %v, generation %d", res.Reverified, res.Generation)
	}
}
