package siteview

import (
	"context"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/site"
)

// TestSiteModelMergesSensors: two sensors stream the same PLC and the
// same operation; the site shows one asset row naming both, one
// operation, each sensor's licence summed; an operator's acknowledgement
// reaches every viewer.
func TestSiteModelMergesSensors(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01", "sensor-02")
	now := time.Now().UTC()
	ex := st.PublishExample(now)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Open(st.Viewer(), st.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Load(ctx, 0); err != nil {
		t.Fatal(err)
	}
	as := r.Model.Assets()
	if len(as) != 1 || len(as[0].Sensors) != 2 || len(as[0].Protocols) != 2 {
		t.Fatalf("assets %+v: want one row seen by both sensors with both protocols", as)
	}
	if ops := r.Model.Operations(ex.PLC, 0); len(ops) != 1 || len(ops[0].Sensors) != 2 || ops[0].ID != ex.OpID {
		t.Fatalf("operations %+v", ops)
	}
	if l := r.Model.Licence(0); l.Discovered != 1 || l.Licensed != 2 || l.Over {
		t.Fatalf("licence %+v", l)
	}
	al := r.Model.Alerts(AlertFilter{Open: true, MinSeverity: "high"})
	if len(al) != 1 || al[0].Sensor != "sensor-01" || al[0].Key != ex.StopKey {
		t.Fatalf("open alerts %+v", al)
	}
	if err := r.Ack(ctx, "sensor-01", al[0].Key, "engineer", "planned", now); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(st.Viewer(), st.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if err := r2.Load(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if open := r2.Model.Alerts(AlertFilter{Open: true}); len(open) != 1 || open[0].Key != ex.ScanKey {
		t.Fatalf("acknowledged from the site, still open for another viewer: %+v", open)
	}
	// A message on one sensor's subject claiming another sensor is refused.
	if r2.Model.Apply(site.Subjects{Site: st.Name, Sensor: "sensor-01"}.Status(), []byte(`{"type":"status","site":"plant-a","sensor":"sensor-02"}`)) {
		t.Fatal("the model took a message naming another sensor than its subject")
	}
}
