package natstest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// Site is a site's servers as tapline site init configures them, running
// on loopback.
type Site struct {
	t       testing.TB
	Name    string
	Dir     string // site init's folder
	CA      *ca.CA
	Servers []*Server
}

// MustCA makes a CA for a test site (P-256 keys, quick).
func MustCA(t testing.TB, name string) *ca.CA {
	t.Helper()
	c, err := ca.Init(ca.InitOptions{Name: name, Country: "DE", Organization: "Example Plant", KeyType: ca.P256, Now: time.Now().Add(-time.Hour), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewSite writes site plant-a's configuration for n loopback nodes and
// the sensors, starts the nodes and creates the streams.
func NewSite(t testing.TB, n int, sensors ...string) *Site {
	t.Helper()
	s := &Site{t: t, Name: "plant-a", Dir: t.TempDir(), CA: MustCA(t, "Plant CA")}
	ports := FreePorts(t, 2*n)
	var nodes []siteconf.Node
	for i := 0; i < n; i++ {
		nodes = append(nodes, siteconf.Node{Host: "127.0.0.1", ClientPort: ports[2*i], ClusterPort: ports[2*i+1]})
	}
	if _, err := siteconf.Init(siteconf.Options{Site: s.Name, Nodes: nodes, Sensors: sensors, Dir: s.Dir,
		Store: filepath.Join(s.Dir, "store"), CA: s.CA, Now: time.Now(),
		Limits: site.Limits{OpsMaxBytes: 256 << 20, StateMaxBytes: 64 << 20}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		s.Servers = append(s.Servers, Start(t, filepath.Join(s.Dir, fmt.Sprintf("nats-%d.conf", i+1)), fmt.Sprintf("127.0.0.1:%d", ports[2*i])))
	}
	s.applyStreams()
	return s
}

// Config is the site's site.json.
func (s *Site) Config() *siteconf.SiteConfig {
	s.t.Helper()
	sc, err := siteconf.ReadSiteConfig(filepath.Join(s.Dir, siteconf.SiteFile))
	if err != nil {
		s.t.Fatal(err)
	}
	return sc
}

func (s *Site) applyStreams() {
	s.t.Helper()
	admin, err := s.Config().Admin()
	if err != nil {
		s.t.Fatal(err)
	}
	nc, err := admin.Connect()
	if err != nil {
		s.t.Fatal(err)
	}
	defer nc.Close()
	streams, err := siteconf.ReadStreams(filepath.Join(s.Dir, siteconf.StreamsFile))
	if err != nil {
		s.t.Fatal(err)
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
			s.t.Fatalf("streams: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// File reads a file of the site's folder.
func (s *Site) File(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// Sensor is the sensor's client, with the files site init made for it.
func (s *Site) Sensor(name string) site.Client {
	s.t.Helper()
	tok := site.Token(name)
	return site.Client{Name: name, Servers: s.Config().Servers, CA: s.File(siteconf.CAFile),
		Cert: s.File("credentials/" + tok + "-client.crt"), Key: s.File("credentials/" + tok + "-client.key"),
		Credential: s.File("credentials/" + tok + ".nk"), InboxPrefix: site.Subjects{Site: s.Name, Sensor: name}.InboxPrefix()}
}

// Viewer is the app's client.
func (s *Site) Viewer() site.Client {
	s.t.Helper()
	c, err := s.Config().Viewer("test viewer")
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Operations reads every operations batch the sensor put in the site's
// operations stream, as the app's user, and returns the records' ids in
// stream order. It fails the test when the batches' outbox sequences
// (Tapline-Seq) do not strictly increase within one outbox: a batch out
// of order or stored twice. A cluster still electing its leaders (a node
// just killed or started) is asked again for up to a minute.
func (s *Site) Operations(sensor string) []string {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ids, err := s.operations(sensor)
		if err == nil {
			return ids
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("reading %s's operations: %v", sensor, err)
		}
		time.Sleep(time.Second)
	}
}

func (s *Site) operations(sensor string) ([]string, error) {
	nc, err := s.Viewer().Connect()
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	subj := site.Subjects{Site: s.Name, Sensor: sensor}.Ops()
	str, err := js.Stream(ctx, site.OpsStream(s.Name))
	if err != nil {
		return nil, err
	}
	info, err := str.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return nil, err
	}
	want := info.State.Subjects[subj]
	c, err := js.OrderedConsumer(ctx, site.OpsStream(s.Name), jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}})
	if err != nil {
		return nil, err
	}
	var ids []string
	last := map[string]uint64{}
	for i := uint64(0); i < want; i++ {
		m, err := c.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			return nil, fmt.Errorf("operations batch %d of %d: %w", i+1, want, err)
		}
		out := m.Headers().Get(site.HeaderOutbox)
		seq, _ := strconv.ParseUint(m.Headers().Get(site.HeaderSeq), 10, 64)
		if seq <= last[out] {
			s.t.Fatalf("%s: outbox sequence %d after %d: a batch out of order or stored twice", sensor, seq, last[out])
		}
		last[out] = seq
		p, _ := site.Parse(m.Subject())
		v, err := site.Decode(p, m.Data())
		if err != nil {
			s.t.Fatal(err)
		}
		for _, r := range v.(*site.Ops).Operations {
			var o site.Operation
			if err := json.Unmarshal(r, &o); err != nil {
				s.t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
	}
	return ids, nil
}

// Publish publishes each message (subject to value, as JSON) to the
// site's streams as the sensor, waiting for the servers' acknowledgements.
func (s *Site) Publish(sensor string, msgs map[string]any) {
	s.t.Helper()
	s.PublishAs(s.Sensor(sensor), msgs)
}

// PublishAs publishes each message as the client c (the app's user, to
// acknowledge an alert, say).
func (s *Site) PublishAs(c site.Client, msgs map[string]any) {
	s.t.Helper()
	nc, err := c.Connect()
	if err != nil {
		s.t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for subj, v := range msgs {
		b, err := json.Marshal(v)
		if err != nil {
			s.t.Fatal(err)
		}
		if _, err := js.Publish(ctx, subj, b); err != nil {
			s.t.Fatalf("%s: %v", subj, err)
		}
	}
}

// Example is what PublishExample put on the site.
type Example struct {
	PLC, Client string // the PLC both sensors see, and the client stopping it
	StopKey     string // sensor-01's alert: the PLC stopped
	ScanKey     string // sensor-02's alert: a new Modbus master
	OpID        string // the operation both sensors logged
}

// PublishExample streams a small site as sensor-01 and sensor-02 would:
// the same PLC seen by both (S7comm on one, Modbus on the other), each
// sensor's status (one licensed device each) and health, the same stop
// operation logged by both plus one of sensor-02's own, a critical alert
// on sensor-01 and a medium one on sensor-02.
func (s *Site) PublishExample(now time.Time) Example {
	s.t.Helper()
	now = now.UTC()
	ex := Example{PLC: "192.0.2.40", Client: "192.0.2.10", OpID: "00000000000000aa"}
	plc := site.Asset{ID: "ip:" + ex.PLC, IPs: []string{ex.PLC}, MAC: "00:1b:1b:23:eb:3b", Vendor: "Siemens AG", FirstSeen: now.Add(-time.Hour), LastSeen: now,
		Identity: site.Identity{Vendor: "Siemens", Model: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.6"}}
	stop := json.RawMessage(`{"id":"` + ex.OpID + `","time":"` + now.Add(-time.Minute).Format(time.RFC3339Nano) + `","protocol":"s7comm","client":{"ip":"` + ex.Client + `","port":49152},"server":{"ip":"` + ex.PLC + `","port":102},"function":41,"function_name":"PLC Stop","result":"ok","latency_us":1800}`)
	read := json.RawMessage(`{"id":"00000000000000bb","time":"` + now.Add(-30*time.Second).Format(time.RFC3339Nano) + `","protocol":"modbus","client":{"ip":"192.0.2.11","port":40000},"server":{"ip":"192.0.2.41","port":502},"function":3,"function_name":"Read Holding Registers","result":"ok","latency_us":900}`)
	for i, name := range []string{"sensor-01", "sensor-02"} {
		subj := Subjects(s.Name, name)
		h := func(kind string) site.Header {
			return site.Header{Type: kind, Site: s.Name, Sensor: name, SensorID: fmt.Sprintf("S-%04d", i+1), Time: now}
		}
		a := plc
		a.Protocols = []string{[]string{"s7comm", "modbus"}[i]}
		a.Roles = []string{[]string{"S7 PLC", "Modbus server"}[i]}
		ops := []json.RawMessage{stop}
		if i == 1 {
			ops = append(ops, read)
		}
		msgs := map[string]any{
			subj.Asset(a.ID): site.AssetMessage{Header: h(site.KindAsset), Asset: a},
			subj.Status(): site.Status{Header: h(site.KindStatus), Version: "0.2.0", Generation: 1, Plan: "OT-1",
				Devices: site.Devices{Discovered: 1, Licensed: 1, Plan: "OT-1"}, Uplink: site.UplinkState{Connected: true}},
			subj.Health(): site.Health{Header: h(site.KindHealth), Monitoring: true, Capture: "capture: 1 interfaces", Packets: uint64(1000 * (i + 1)),
				Rate: float64(50 * (i + 1)), Drops: uint64(i), Protocols: map[string]uint64{a.Protocols[0]: uint64(100 * (i + 1))}},
			subj.Ops(): site.Ops{Header: h(site.KindOps), Operations: ops},
		}
		var al site.Alert
		if i == 0 {
			al = site.Alert{ID: 1, Rule: "s7-plc-stop", Severity: "critical", Title: "S7 PLC stop", Message: ex.Client + " stopped the PLC " + ex.PLC,
				Protocol: "s7comm", Function: fn(41), Src: ex.Client, Dst: ex.PLC, Status: "new", Time: now.Add(-time.Minute), LastSeen: now.Add(-time.Minute), Count: 1}
			al.Key, ex.StopKey = site.AlertKey(al), site.AlertKey(al)
		} else {
			al = site.Alert{ID: 1, Rule: "modbus-new-master", Severity: "medium", Title: "New Modbus master", Message: "192.0.2.11 talks Modbus to 192.0.2.41",
				Protocol: "modbus", Function: fn(3), Src: "192.0.2.11", Dst: "192.0.2.41", Status: "new", Time: now.Add(-30 * time.Second), LastSeen: now.Add(-30 * time.Second), Count: 3}
			al.Key, ex.ScanKey = site.AlertKey(al), site.AlertKey(al)
		}
		msgs[subj.Alert(al.Key)] = site.AlertMessage{Header: h(site.KindAlert), Alert: al}
		s.Publish(name, msgs)
	}
	return ex
}

// Subjects are the sensor's subjects at the site.
func Subjects(siteName, sensor string) site.Subjects {
	return site.Subjects{Site: siteName, Sensor: sensor}
}

func fn(v int) *int { return &v }
