package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/sensorcore/store"
)

// clusterSensor is one sensorcore serve of the cluster test.
type clusterSensor struct {
	name     string
	root     string
	captures []string
	servers  []string // the URLs its bundle names
	proc     *proc
}

// TestSiteClusterExactlyOnce: three real sensorcore serve processes, each
// monitoring shared captures replayed at four times their recorded pace
// (about 25 s of traffic each), stream to a three-node JetStream cluster
// of the real nats-server on loopback. One node is killed mid-stream (and
// started again later); one sensor's uplink is cut for most of its
// replay (its servers are loopback proxies that drop every connection). Afterwards every operation each sensor logged is in
// the operations stream exactly once and in order, every alert and asset
// it holds is in the state stream once, with its final state. Beside
// them, a sensor whose client certificate comes from another CA is
// refused by the servers, and a sensor given another CA refuses the
// servers: neither gets a message into the site.
func TestSiteClusterExactlyOnce(t *testing.T) {
	pcaps := filepath.Join("..", "..", "..", "..", "shared", "pcaps")
	sensors := []*clusterSensor{
		{name: "sensor-01", captures: []string{"modbus/ModbusTCP.pcap", "s7comm/snap7_s300_stop.pcapng"}},
		{name: "sensor-02", captures: []string{"enip/EthernetIP-CIP.pcap", "enip/cip_stop_plc.pcap"}},
		{name: "sensor-03", captures: []string{"iec104/090813_diverse.pcap", "dnp3/dnp3_test_data_part1.pcap", "dnp3/cold_restart_and_response.pcap"}},
	}
	for _, s := range sensors {
		for i, c := range s.captures {
			s.captures[i] = filepath.Join(pcaps, filepath.FromSlash(c))
			if _, err := os.Stat(s.captures[i]); err != nil {
				needs.Missing(t, "this test replays the shared captures: %v", err)
			}
		}
	}
	st := natstest.NewSite(t, 3, "sensor-01", "sensor-02", "sensor-03", "sensor-04", "sensor-05")
	servers := st.Config().Servers
	var proxies []*natstest.Proxy
	for _, srv := range st.Servers {
		p := natstest.NewProxy(t, srv.Addr())
		proxies = append(proxies, p)
		sensors[1].servers = append(sensors[1].servers, "tls://"+p.Addr())
	}
	sensors[0].servers, sensors[2].servers = servers, servers
	k := testkit.New(t, time.Now().UTC().Truncate(time.Second), "")
	apply := func(name string, u *netconf.Uplink, files map[bundle.Role][]byte) string {
		b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: name, Uplink: u, UplinkFiles: files})
		root := t.TempDir()
		if out, err := exec.Command(binary, "apply", "--root", root, "--trust-root", k.RootFile, "--json", b.Archive).CombinedOutput(); err != nil {
			t.Fatalf("apply %s: %v %s", name, err, out)
		}
		return root
	}
	clientFiles := func(c site.Client) map[bundle.Role][]byte {
		return map[bundle.Role][]byte{bundle.RoleUplinkCA: c.CA, bundle.RoleUplinkClientCert: c.Cert,
			bundle.RoleUplinkClientKey: c.Key, bundle.RoleUplinkCredential: c.Credential}
	}
	for _, s := range sensors {
		s.root = apply(s.name, &netconf.Uplink{Site: st.Name, Servers: s.servers}, clientFiles(st.Sensor(s.name)))
	}
	// sensor-04: a client certificate from another CA (its bundle trusts
	// both, so the sensor accepts the servers); sensor-05: the servers'
	// CA is not the one it was given.
	other := natstest.MustCA(t, "Other Plant CA")
	issued, err := other.Issue(ca.IssueRequest{Hostname: "sensor-04", Usage: ca.UsageClient, KeyType: ca.P256, Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var otherPEM []byte
	for _, c := range other.Chain() {
		otherPEM = append(otherPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	f4 := clientFiles(st.Sensor("sensor-04"))
	f4[bundle.RoleUplinkCA] = append(append([]byte(nil), f4[bundle.RoleUplinkCA]...), otherPEM...)
	f4[bundle.RoleUplinkClientCert], f4[bundle.RoleUplinkClientKey] = issued.CertPEM, issued.KeyPEM
	root4 := apply("sensor-04", &netconf.Uplink{Site: st.Name, Servers: servers}, f4)
	f5 := clientFiles(st.Sensor("sensor-05"))
	f5[bundle.RoleUplinkCA], f5[bundle.RoleUplinkClientCert], f5[bundle.RoleUplinkClientKey] = otherPEM, issued.CertPEM, issued.KeyPEM
	root5 := apply("sensor-05", &netconf.Uplink{Site: st.Name, Servers: servers}, f5)

	start := time.Now()
	for _, s := range sensors {
		// A collection every 2 s: an alert's last count reaches the
		// site within 6 s of its last repeat, not 30.
		args := []string{"--monitor-replay-loops", "1", "--monitor-replay-speed", "4", "--uplink-collect", "2s"}
		for _, c := range s.captures {
			args = append(args, "--monitor-replay", c)
		}
		s.proc = startServe(t, s.root, k.RootFile, args...)
	}
	startServe(t, root4, k.RootFile)
	startServe(t, root5, k.RootFile)

	// Mid-stream: a node dies (and comes back), and sensor-02 loses its
	// uplink while it still logs operations. The times count from the
	// moment every sensor streams (about 4 s in; later on a loaded
	// machine, and the replays with it).
	time.Sleep(time.Until(start.Add(4 * time.Second)))
	mustStream(t, st, "sensor-01", "sensor-02", "sensor-03")
	streaming := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(streaming.Add(d))) }
	st.Servers[2].Kill()
	t.Logf("%s: node 3 killed", time.Since(start).Round(time.Second))
	at(2 * time.Second)
	for _, p := range proxies {
		p.Cut()
	}
	t.Logf("%s: sensor-02's uplink cut", time.Since(start).Round(time.Second))
	at(8 * time.Second)
	st.Servers[2].Restart()
	t.Logf("%s: node 3 back", time.Since(start).Round(time.Second))
	at(16 * time.Second)
	if out := sanity(t, sensors[1].root); !strings.Contains(out, "not connected") {
		t.Errorf("sensor-02's uplink was cut, yet sanity says:\n%s", out)
	} else if m := regexp.MustCompile(`(\d+) waiting in the outbox`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("sensor-02 kept nothing in its outbox while cut off:\n%s", out)
	} else {
		t.Logf("sensor-02 cut off: %s messages wait in its outbox", m[1])
	}
	for _, p := range proxies {
		p.Restore()
	}
	t.Logf("%s: sensor-02's uplink back", time.Since(start).Round(time.Second))

	// Every sensor finishes its replay, and the site catches up.
	for _, s := range sensors {
		s.waitDelivered(t, st, start.Add(5*time.Minute))
	}
	if t.Failed() {
		return
	}
	t.Logf("%s: every sensor's replay done and its operations delivered", time.Since(start).Round(time.Second))
	for _, s := range sensors {
		s.checkExactlyOnce(t, st)
	}
	t.Logf("%s: every alert and asset on the site, current", time.Since(start).Round(time.Second))

	// An operator acknowledges sensor-01's PLC stop on the site: the
	// sensor acknowledges it in its monitor, and the site shows it so.
	var alerts []site.Alert
	out, _ := exec.Command(binary, "alerts", "--root", sensors[0].root, "--json").Output()
	json.Unmarshal(out, &alerts)
	key := ""
	for _, a := range alerts {
		if a.Rule == "s7-plc-stop" {
			key = site.AlertKey(a)
		}
	}
	if key == "" {
		t.Fatalf("sensor-01 has no s7-plc-stop alert: %s", out)
	}
	subj := site.Subjects{Site: st.Name, Sensor: "sensor-01"}
	st.PublishAs(st.Viewer(), map[string]any{subj.Ack(key): site.Ack{Header: site.Header{Type: site.KindAck, Site: st.Name, Sensor: "sensor-01", Time: time.Now().UTC()},
		Key: key, By: "engineer@laptop", Note: "planned stop"}})
	if !waitFor(60*time.Second, time.Second, func() bool {
		return lastState(t, st, subj.Alert(key)).(*site.AlertMessage).Alert.Status == "acknowledged"
	}) {
		t.Fatalf("acknowledged on the site, the sensor did not acknowledge it within 60 s:\n%s", sensors[0].proc.log)
	}
	t.Logf("%s: the site's acknowledgement made on the sensor and back on the site", time.Since(start).Round(time.Second))

	// The refused ones: nothing of theirs on the site.
	for _, c := range []struct {
		root, name, says string
	}{{root4, "sensor-04", ""}, {root5, "sensor-05", "certificate"}} {
		var status struct {
			Uplink *site.UplinkState `json:"uplink"`
		}
		out, _ := exec.Command(binary, "status", "--root", c.root, "--trust-root", k.RootFile, "--json").Output()
		if err := json.Unmarshal(out, &status); err != nil || status.Uplink == nil {
			t.Fatalf("%s status: %v %s", c.name, err, out)
		}
		if status.Uplink.Connected || status.Uplink.Error == "" || !strings.Contains(status.Uplink.Error, c.says) {
			t.Errorf("%s: uplink %+v; want refused (%q)", c.name, status.Uplink, c.says)
		}
		if n := streamSubjects(t, st, site.StateStream(st.Name), site.Subjects{Site: st.Name, Sensor: c.name}.All()); len(n) != 0 {
			t.Errorf("%s got %d messages into the site: %v", c.name, len(n), n)
		}
	}
}

// mustStream waits until each sensor has put an operations batch in the
// stream: the events that follow happen mid-stream.
func mustStream(t *testing.T, st *natstest.Site, names ...string) {
	t.Helper()
	for _, n := range names {
		subj := site.Subjects{Site: st.Name, Sensor: n}.Ops()
		if !waitFor(30*time.Second, 500*time.Millisecond, func() bool {
			return streamSubjects(t, st, site.OpsStream(st.Name), subj)[subj] > 0
		}) {
			t.Fatalf("%s put no operations batch in the stream within 30 s", n)
		}
	}
}

// waitFor checks cond every interval until it holds (true) or timeout
// has passed (false).
func waitFor(timeout, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
	return true
}

// streamSubjects counts the messages of each subject matching filter in
// the named stream; none while the stream does not exist yet.
func streamSubjects(t *testing.T, st *natstest.Site, stream, filter string) map[string]uint64 {
	t.Helper()
	nc, err := st.Viewer().Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return info.State.Subjects
}

func sanity(t *testing.T, root string) string {
	out, _ := exec.Command(binary, "sanity", "--root", root).CombinedOutput()
	return string(out)
}

// logged is every operation id in the sensor's operations log, in order.
func (s *clusterSensor) logged(t *testing.T) []string {
	t.Helper()
	dir := daemon.Layout{Root: s.root}.MonitorState()
	var ids []string
	for _, name := range []string{store.OperationsFile + ".1", store.OperationsFile} {
		f, err := os.Open(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var o site.Operation
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ids = append(ids, o.ID)
		}
		f.Close()
	}
	return ids
}

// waitDelivered waits until the sensor's replay is done and the stream
// holds as many operations as its log.
func (s *clusterSensor) waitDelivered(t *testing.T, st *natstest.Site, deadline time.Time) {
	t.Helper()
	done := false
	if !waitFor(time.Until(deadline), 2*time.Second, func() bool {
		done = strings.Contains(sanity(t, s.root), "replayed")
		return done && len(st.Operations(s.name)) >= len(s.logged(t))
	}) {
		t.Errorf("%s: not delivered by %s (replay done: %v)\n%s", s.name, deadline.Format(time.TimeOnly), done, s.proc.log)
	}
}

// checkExactlyOnce compares the site's streams with what the sensor holds.
func (s *clusterSensor) checkExactlyOnce(t *testing.T, st *natstest.Site) {
	t.Helper()
	logged, streamed := s.logged(t), st.Operations(s.name)
	if len(logged) == 0 {
		t.Fatalf("%s logged no operation", s.name)
	}
	if len(streamed) != len(logged) {
		t.Errorf("%s: %d operations in the stream, %d in its log", s.name, len(streamed), len(logged))
	}
	for i := range min(len(streamed), len(logged)) {
		if streamed[i] != logged[i] {
			t.Errorf("%s: operation %d in the stream is %s, the log's is %s: lost, repeated or out of order", s.name, i, streamed[i], logged[i])
			break
		}
	}
	t.Logf("%s: %d operations logged, %d in the stream", s.name, len(logged), len(streamed))
	subj := site.Subjects{Site: st.Name, Sensor: s.name}
	var assets []site.Asset
	out, err := exec.Command(binary, "inventory", "--root", s.root, "--json").Output()
	if err != nil || json.Unmarshal(out, &assets) != nil || len(assets) == 0 {
		t.Fatalf("%s inventory: %v %s", s.name, err, out)
	}
	// The state stream catches up with the sensor's next collections.
	var missingAssets []string
	var assetSubjects int
	if !waitFor(60*time.Second, 2*time.Second, func() bool {
		missingAssets = nil
		inStream := streamSubjects(t, st, site.StateStream(st.Name), strings.TrimSuffix(subj.Asset(""), site.Key(""))+"*")
		for _, a := range assets {
			if inStream[subj.Asset(a.ID)] != 1 {
				missingAssets = append(missingAssets, a.ID)
			}
		}
		assetSubjects = len(inStream)
		return len(missingAssets) == 0
	}) {
		t.Errorf("%s: assets not in the state stream within 60 s: %v", s.name, missingAssets)
	}
	if assetSubjects != len(assets) {
		t.Errorf("%s: %d asset subjects in the stream, the sensor holds %d", s.name, assetSubjects, len(assets))
	}
	var alerts []site.Alert
	out, err = exec.Command(binary, "alerts", "--root", s.root, "--json").Output()
	if err != nil || json.Unmarshal(out, &alerts) != nil {
		t.Fatalf("%s alerts: %v %s", s.name, err, out)
	}
	if len(alerts) == 0 {
		t.Errorf("%s raised no alert from its captures", s.name)
	}
	var missing []string
	stale, extra := "", ""
	if !waitFor(60*time.Second, 2*time.Second, func() bool {
		missing, stale, extra = nil, "", ""
		inStream := streamSubjects(t, st, site.StateStream(st.Name), subj.Alert("*"))
		for _, a := range alerts {
			if inStream[subj.Alert(site.AlertKey(a))] != 1 {
				missing = append(missing, a.Rule+" "+a.Src+">"+a.Dst)
			}
		}
		if len(missing) > 0 {
			return false
		}
		if len(inStream) != len(alerts) {
			extra = fmt.Sprintf("%d alert subjects in the stream, the sensor holds %d", len(inStream), len(alerts))
			return true
		}
		for _, a := range alerts {
			got := lastState(t, st, subj.Alert(site.AlertKey(a))).(*site.AlertMessage).Alert
			if got.Count != a.Count || got.Status != a.Status {
				stale = a.Rule + ": the site has count " + countText(got.Count) + " " + got.Status + ", the sensor " + countText(a.Count) + " " + a.Status
			}
		}
		return stale == ""
	}) {
		t.Errorf("%s: alerts not in the stream (%v) or not current (%s)", s.name, missing, stale)
	}
	if extra != "" {
		t.Errorf("%s: %s", s.name, extra)
	}
}

func countText(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// lastState is the state stream's message on subj, decoded.
func lastState(t *testing.T, st *natstest.Site, subj string) any {
	t.Helper()
	nc, err := st.Viewer().Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+site.StateStream(st.Name)+"."+subj, nil)
	if err != nil || m.Header.Get("Status") != "" {
		t.Fatalf("%s: %v %s", subj, err, m.Header.Get("Status"))
	}
	p, _ := site.Parse(subj)
	v, err := site.Decode(p, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
