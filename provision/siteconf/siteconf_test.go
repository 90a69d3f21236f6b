package siteconf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/site"
)

func mustCA(t *testing.T, name string) *ca.CA {
	t.Helper()
	c, err := ca.Init(ca.InitOptions{Name: name, Country: "DE", Organization: "Example Plant", KeyType: ca.P256, Now: time.Now(), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cluster writes a site's configuration for n loopback nodes and starts
// them; it returns the folder and the servers.
func cluster(t *testing.T, n int, sensors ...string) (string, []*natstest.Server) {
	t.Helper()
	dir := t.TempDir()
	ports := natstest.FreePorts(t, 2*n)
	var nodes []siteconf.Node
	for i := 0; i < n; i++ {
		nodes = append(nodes, siteconf.Node{Host: "127.0.0.1", ClientPort: ports[2*i], ClusterPort: ports[2*i+1]})
	}
	if _, err := siteconf.Init(siteconf.Options{Site: "plant-a", Nodes: nodes, Sensors: sensors, Dir: dir,
		Store: filepath.Join(dir, "store"), CA: mustCA(t, "Plant CA"), Now: time.Now(),
		Limits: site.Limits{OpsMaxBytes: 64 << 20, StateMaxBytes: 16 << 20}}); err != nil {
		t.Fatal(err)
	}
	var srv []*natstest.Server
	for i := 0; i < n; i++ {
		srv = append(srv, natstest.Start(t, filepath.Join(dir, fmt.Sprintf("nats-%d.conf", i+1)), fmt.Sprintf("127.0.0.1:%d", ports[2*i])))
	}
	return dir, srv
}

func readSite(t *testing.T, dir string) *siteconf.SiteConfig {
	t.Helper()
	sc, err := siteconf.ReadSiteConfig(filepath.Join(dir, siteconf.SiteFile))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// applyStreams creates the streams as tapline site streams does, waiting
// for the cluster to elect its JetStream leader.
func applyStreams(t *testing.T, dir string) {
	t.Helper()
	admin, err := readSite(t, dir).Admin()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := admin.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	streams, err := siteconf.ReadStreams(filepath.Join(dir, siteconf.StreamsFile))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := siteconf.Apply(ctx, nc, streams)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("streams: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func sensorClient(t *testing.T, dir, sensor string) site.Client {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sc := readSite(t, dir)
	tok := site.Token(sensor)
	return site.Client{Name: sensor, Servers: sc.Servers, CA: read(siteconf.CAFile),
		Cert: read("credentials/" + tok + "-client.crt"), Key: read("credentials/" + tok + "-client.key"),
		Credential: read("credentials/" + tok + ".nk"), InboxPrefix: site.Subjects{Site: "plant-a", Sensor: sensor}.InboxPrefix()}
}

// TestSiteInitClusterReal: the configuration site init writes starts a
// real three-node JetStream cluster; the streams are created; a sensor
// publishes its own subjects and nothing else; the app reads them; a
// client certificate from another CA is refused by the servers, and a
// client given another CA refuses the servers.
func TestSiteInitClusterReal(t *testing.T) {
	dir, _ := cluster(t, 3, "sensor-01", "sensor-02")
	applyStreams(t, dir)

	s1 := sensorClient(t, dir, "sensor-01")
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
	viewer, err := readSite(t, dir).Viewer("test viewer")
	if err != nil {
		t.Fatal(err)
	}
	vc, err := viewer.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	vjs, _ := jetstream.New(vc)
	cons, err := vjs.OrderedConsumer(ctx, site.StateStream("plant-a"), jetstream.OrderedConsumerConfig{})
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
	rc := mustCA(t, "Rogue CA")
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
