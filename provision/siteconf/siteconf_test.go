package siteconf_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/site"
)

// TestSiteInitClusterReal: the configuration site init writes starts a
// real three-node JetStream cluster; the streams are created; a sensor
// publishes its own subjects and nothing else; the app reads them; a
// client certificate from another CA is refused by the servers, and a
// client given another CA refuses the servers.
func TestSiteInitClusterReal(t *testing.T) {
	st := natstest.NewSite(t, 3, "sensor-01", "sensor-02")
	s1 := st.Sensor("sensor-01")
	errs := make(chan error, 8)
	nc, err := s1.Connect(nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	subj := site.Subjects{Site: "plant-a", Sensor: "sensor-01"}
	body := []byte(`{"type":"status","site":"plant-a","sensor":"sensor-01","time":"2026-12-01T00:00:00Z","version":"x","generation":1,"devices":{"discovered":1,"licensed":5},"uplink":{"connected":true,"outbox":0,"dropped":0}}`)
	if _, err := js.Publish(ctx, subj.Status(), body, jetstream.WithMsgID("t-1")); err != nil {
		t.Fatalf("sensor-01 publishing its own status: %v", err)
	}
	// Another sensor's subject: refused by the server.
	other := site.Subjects{Site: "plant-a", Sensor: "sensor-02"}
	if err := nc.Publish(other.Status(), body); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("publishing as sensor-02: %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sensor-01 published on sensor-02's subject and the server said nothing")
	}
	// An acknowledgement is the operators', not the sensor's.
	if err := nc.Publish(subj.Ack("0123456789abcdef"), body); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("a sensor acknowledging: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a sensor published an acknowledgement and the server said nothing")
	}

	// The app reads what sensor-01 published, and only that.
	vc, err := st.Viewer().Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	vjs, _ := jetstream.New(vc)
	// A node that has just joined may not answer the viewer's JetStream
	// requests yet ("no responders"): asked again, as natstest's readers do.
	var cons jetstream.Consumer
	for {
		cons, err = vjs.OrderedConsumer(ctx, site.StateStream("plant-a"), jetstream.OrderedConsumerConfig{})
		if !errors.Is(err, nats.ErrNoResponders) || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := site.Parse(m.Subject())
	if !ok || p.Sensor != "sensor-01" || p.Kind != site.KindStatus {
		t.Fatalf("read %s", m.Subject())
	}
	if _, err := site.Decode(p, m.Data()); err != nil {
		t.Fatal(err)
	}

	// A client certificate from another CA: the servers refuse the sensor.
	rogue := s1
	rc := natstest.MustCA(t, "Rogue CA")
	is, err := rc.Issue(ca.IssueRequest{Hostname: "sensor-01", Usage: ca.UsageClient, KeyType: ca.P256, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	rogue.Cert, rogue.Key = is.CertPEM, is.KeyPEM
	if c, err := rogue.Connect(nats.NoReconnect(), nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Fatal("the servers accepted a client certificate from another CA")
	}
	// The sensor given another CA refuses the servers' certificates.
	wrong := s1
	wrong.CA = rc.Chain()[0].Raw
	if c, err := wrong.Connect(nats.NoReconnect()); err == nil {
		c.Close()
		t.Fatal("the sensor accepted servers whose certificate does not chain to its CA")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("refusing the servers: %v, want a certificate error", err)
	}
}
