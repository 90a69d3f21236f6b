package siteview

import (
	"context"
	"encoding/json"
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
	r := openLoaded(t, ctx, st)
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
	r2 := openLoaded(t, ctx, st)
	if open := r2.Model.Alerts(AlertFilter{Open: true}); len(open) != 1 || open[0].Key != ex.ScanKey {
		t.Fatalf("acknowledged from the site, still open for another viewer: %+v", open)
	}
	// A message on one sensor's subject claiming another sensor is refused.
	if r2.Model.Apply(site.Subjects{Site: st.Name, Sensor: "sensor-01"}.Status(), []byte(`{"type":"status","site":"plant-a","sensor":"sensor-02"}`)) {
		t.Fatal("the model took a message naming another sensor than its subject")
	}
}

// openLoaded opens the site's view as its viewer and loads what the
// streams hold; the reader is closed at the test's end.
func openLoaded(t *testing.T, ctx context.Context, st *natstest.Site) *Reader {
	t.Helper()
	r, err := Open(st.Viewer(), st.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.Load(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFollowGoesOnFromLoad: what the site stores between Load and Follow
// (a sensor streaming while the view opens) reaches the model.
func TestFollowGoesOnFromLoad(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01", "sensor-02")
	now := time.Now().UTC()
	st.PublishExample(now)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := openLoaded(t, ctx, st)
	// Between the two: a new device on sensor-02 and a new operation.
	subj := natstest.Subjects(st.Name, "sensor-02")
	h := func(kind string) site.Header {
		return site.Header{Type: kind, Site: st.Name, Sensor: "sensor-02", Time: now}
	}
	a := site.Asset{ID: "ip:192.0.2.77", IPs: []string{"192.0.2.77"}, FirstSeen: now, LastSeen: now}
	st.Publish("sensor-02", map[string]any{
		subj.Asset(a.ID): site.AssetMessage{Header: h(site.KindAsset), Asset: a},
		subj.Ops(): site.Ops{Header: h(site.KindOps), Operations: []json.RawMessage{json.RawMessage(`{"id":"00000000000000cc","time":"` +
			now.Format(time.RFC3339Nano) + `","protocol":"modbus","client":{"ip":"192.0.2.11","port":40001},"server":{"ip":"192.0.2.77","port":502},"function":6}`)}},
	})
	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Follow(fctx, nil) }()
	defer func() { stop(); <-done }()
	for {
		if len(r.Model.Assets()) == 2 && len(r.Model.Operations("192.0.2.77", 0)) == 1 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("stored between Load and Follow, never seen: assets %+v", r.Model.Assets())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
