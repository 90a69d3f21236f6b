package siteview

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/site"
)

func publish(t *testing.T, st *natstest.Site, sensor string, msgs map[string]any) {
	t.Helper()
	nc, err := st.Sensor(sensor).Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for subj, v := range msgs {
		b, _ := json.Marshal(v)
		if _, err := js.Publish(ctx, subj, b); err != nil {
			t.Fatalf("%s: %v", subj, err)
		}
	}
}

// TestSiteModelMergesSensors: two sensors stream the same PLC and the
// same operation; the site shows one asset row naming both, one
// operation, each sensor's licence summed; an operator's acknowledgement
// reaches every viewer.
func TestSiteModelMergesSensors(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01", "sensor-02")
	now := time.Now().UTC()
	plc := site.Asset{ID: "ip:192.0.2.40", IPs: []string{"192.0.2.40"}, FirstSeen: now, LastSeen: now}
	op := json.RawMessage(`{"id":"00000000000000aa","time":"2026-12-01T00:00:00Z","protocol":"s7comm","client":{"ip":"192.0.2.10"},"server":{"ip":"192.0.2.40"},"function":41,"result":"ok"}`)
	for i, s := range []string{"sensor-01", "sensor-02"} {
		subj := site.Subjects{Site: st.Name, Sensor: s}
		h := func(kind string) site.Header { return site.Header{Type: kind, Site: st.Name, Sensor: s, Time: now} }
		a := plc
		a.Protocols = []string{[]string{"s7comm", "modbus"}[i]}
		msgs := map[string]any{
			subj.Asset(a.ID): site.AssetMessage{Header: h(site.KindAsset), Asset: a},
			subj.Status():    site.Status{Header: h(site.KindStatus), Devices: site.Devices{Discovered: 1, Licensed: 1}},
			subj.Ops():       site.Ops{Header: h(site.KindOps), Operations: []json.RawMessage{op}},
		}
		if s == "sensor-01" {
			al := site.Alert{ID: 1, Rule: "s7-plc-stop", Severity: "critical", Title: "S7 PLC stop", Src: "192.0.2.10", Dst: "192.0.2.40", Status: "new", Time: now, LastSeen: now, Count: 1}
			al.Key = site.AlertKey(al)
			msgs[subj.Alert(al.Key)] = site.AlertMessage{Header: h(site.KindAlert), Alert: al}
		}
		publish(t, st, s, msgs)
	}
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
	if ops := r.Model.Operations("192.0.2.40", 0); len(ops) != 1 || len(ops[0].Sensors) != 2 {
		t.Fatalf("operations %+v", ops)
	}
	if l := r.Model.Licence(0); l.Discovered != 1 || l.Licensed != 2 || l.Over {
		t.Fatalf("licence %+v", l)
	}
	al := r.Model.Alerts(AlertFilter{Open: true})
	if len(al) != 1 || al[0].Sensor != "sensor-01" {
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
	if open := r2.Model.Alerts(AlertFilter{Open: true}); len(open) != 0 {
		t.Fatalf("acknowledged from the site, still open for another viewer: %+v", open)
	}
	// A message on one sensor's subject claiming another sensor is refused.
	if r2.Model.Apply(site.Subjects{Site: st.Name, Sensor: "sensor-01"}.Status(), []byte(`{"type":"status","site":"plant-a","sensor":"sensor-02"}`)) {
		t.Fatal("the model took a message naming another sensor than its subject")
	}
}
