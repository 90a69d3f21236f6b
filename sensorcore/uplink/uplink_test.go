package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/sensorcore/store"
)

// fakeMonitor answers the engine's JSON routes with what the test sets.
type fakeMonitor struct {
	mu     sync.Mutex
	assets []site.Asset
	alerts []site.Alert
	opsDir string // the operations log the feed serves (store.ReadFeed)
}

func (f *fakeMonitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v any
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v1/alerts/") && strings.HasSuffix(r.URL.Path, "/ack") {
		id, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/alerts/"), "/ack"), 10, 64)
		for i := range f.alerts {
			if f.alerts[i].ID == id {
				f.alerts[i].Status = "acknowledged"
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	switch r.URL.Path {
	case "/api/v1/assets":
		v = f.assets
	case "/api/v1/alerts":
		v = f.alerts
	case "/api/v1/stats":
		v = map[string]any{"packets": 100, "kernel_drops": 0, "protocols": map[string]any{"modbus": map[string]any{"pdus": 7}}}
	case "/api/v1/operations/feed":
		if f.opsDir == "" {
			http.NotFound(w, r)
			return
		}
		max, _ := strconv.Atoi(r.URL.Query().Get("max"))
		fd, err := store.ReadFeed(f.opsDir, r.URL.Query().Get("cursor"), max)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		recs := make([]json.RawMessage, len(fd.Records))
		for i, r := range fd.Records {
			recs[i] = r
		}
		v = map[string]any{"records": recs, "cursor": fd.Cursor, "more": fd.More, "gap": fd.Gap, "skipped": fd.Skipped}
	default:
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(v)
}

func op(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":"%016x","time":"2026-12-01T00:00:00Z","protocol":"modbus","client":{"ip":"192.0.2.1"},"server":{"ip":"192.0.2.2"},"function":6,"result":"ok"}`, i))
}

// sensor01 is the uplink configuration of sensor-01 of the test site.
func sensor01(st *natstest.Site) *Config {
	return &Config{Sensor: "sensor-01", SensorID: "S-1", Site: "plant-a", Client: st.Sensor("sensor-01")}
}

// startUplink opens an uplink on opts (the configuration cfg, an ack
// wait of 2 s and the test's log unless opts says otherwise) and runs it
// until stop, which also closes its outbox; stop runs at the test's end
// if the test has not called it.
func startUplink(t *testing.T, cfg *Config, opts Options) (*Uplink, func()) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.Config = func() (*Config, error) { return cfg, nil }
	if opts.AckWait == 0 {
		opts.AckWait = 2 * time.Second
	}
	if opts.Log == nil {
		opts.Log = t.Logf
	}
	u, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done; u.Close() }) }
	t.Cleanup(stop)
	return u, stop
}

// waitFor checks ok every 100 ms until it holds (true) or the time is
// up (false).
func waitFor(within time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

func waitEmpty(t *testing.T, u *Uplink, within time.Duration) {
	t.Helper()
	if !waitFor(within, func() bool { return u.Outbox().Len() == 0 }) {
		t.Fatalf("the outbox still holds %d messages after %s (%+v)", u.Outbox().Len(), within, u.State())
	}
}

// TestUplinkDeliversOnceThroughAnOutage: the sensor's outbox keeps what
// it collects while the site's server is down (killed, as a crash), and
// delivers it in order when the server returns: every operation is in
// the stream exactly once, in the order logged.
func TestUplinkDeliversOnceThroughAnOutage(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01")
	mon := &fakeMonitor{assets: []site.Asset{{ID: "ip:192.0.2.1", IPs: []string{"192.0.2.1"}, Protocols: []string{"modbus"}}},
		alerts: []site.Alert{{ID: 1, Rule: "modbus-write-unknown-master", Src: "192.0.2.9", Dst: "192.0.2.1", Protocol: "modbus", Count: 1, Status: "new", Time: time.Now().UTC()}}}
	cfg := sensor01(st)
	u, _ := startUplink(t, cfg, Options{Monitor: mon,
		Status: func() (site.Status, error) {
			return site.Status{Version: "test", Generation: 1, Devices: site.Devices{Licensed: 500}}, nil
		},
		Collect: 200 * time.Millisecond})

	n := 0
	batch := func(k int) {
		var recs []json.RawMessage
		for i := 0; i < k; i++ {
			n++
			recs = append(recs, op(n))
		}
		if err := u.PutOperations(cfg, recs); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		batch(5)
	}
	waitEmpty(t, u, 30*time.Second)
	st.Servers[0].Kill()
	for i := 0; i < 30; i++ {
		batch(3)
		time.Sleep(20 * time.Millisecond)
	}
	mon.mu.Lock()
	mon.alerts[0].Count, mon.alerts[0].Status = 2, "acknowledged"
	mon.mu.Unlock()
	time.Sleep(time.Second)
	if u.State().Connected {
		t.Fatal("the uplink says connected with its server down")
	}
	if u.Outbox().Len() == 0 {
		t.Fatal("nothing waited in the outbox while the server was down")
	}
	st.Servers[0].Restart()
	waitEmpty(t, u, 60*time.Second)
	ids := st.Operations("sensor-01")
	if len(ids) != n {
		t.Fatalf("%d operations in the stream, want %d", len(ids), n)
	}
	for i, id := range ids {
		if want := fmt.Sprintf("%016x", i+1); id != want {
			t.Fatalf("operation %d is %s, want %s: lost, repeated or out of order", i, id, want)
		}
	}
}

// TestOutboxFullDropsOperationsFirst: a full outbox drops the oldest
// operations batches (never an alert), counts their records, and the
// next batch says how many.
func TestOutboxFullDropsOperationsFirst(t *testing.T) {
	o, err := OpenOutbox(t.TempDir(), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Put([]Message{{Subject: "a", Data: []byte(`{}`), Key: "alert:1"}}, nil); err != nil {
		t.Fatal(err)
	}
	var last site.Ops
	for i := 0; i < 20; i++ {
		err := o.Put(nil, func(dropped uint64) (Message, error) {
			b, _ := json.Marshal(site.Ops{Dropped: dropped, Operations: []json.RawMessage{op(2 * i), op(2*i + 1)}})
			json.Unmarshal(b, &last)
			return Message{Subject: "ops", Data: b, Ops: 2}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if o.Len() != 10 {
		t.Fatalf("outbox holds %d, bound 10", o.Len())
	}
	if o.Dropped() != 22 {
		t.Fatalf("dropped %d records, want 22 (11 batches of 2)", o.Dropped())
	}
	if last.Dropped != 2 {
		t.Fatalf("the last batch says %d dropped before it, want 2", last.Dropped)
	}
	all, _ := o.Peek(100)
	if all[0].Key != "alert:1" {
		t.Fatalf("the alert was dropped to make room: %+v", all[0])
	}
	// A newer state replaces the waiting one.
	o.Put([]Message{{Subject: "a", Data: []byte(`{"v":2}`), Key: "alert:1"}}, nil)
	all, _ = o.Peek(100)
	n := 0
	for _, m := range all {
		if m.Key == "alert:1" {
			n++
			if string(m.Data) != `{"v":2}` {
				t.Fatalf("kept %s", m.Data)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d states of one alert wait", n)
	}
}

// TestUplinkFeedsTheOperationsLog: serve's loop reads the monitor's
// operations log onward from the cursor the outbox keeps, through a
// server crash and a restart of serve itself (the uplink closed and
// opened again on its outbox): every record of the log is in the stream
// once, in the order logged; a record that is no JSON object with an id
// is not sent.
func TestUplinkFeedsTheOperationsLog(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01")
	logDir, outDir := t.TempDir(), t.TempDir()
	ops, err := store.OpenOperations(logDir, 64<<10) // rotates every 32 KiB
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	mon := &fakeMonitor{opsDir: logDir}
	cfg := sensor01(st)
	start := func() (*Uplink, func()) {
		return startUplink(t, cfg, Options{Dir: outDir, Monitor: mon, Collect: time.Second, OpsEvery: 50 * time.Millisecond})
	}
	n := 0
	log := func(k int) {
		for i := 0; i < k; i++ {
			n++
			fmt.Fprintf(ops, "%s\n", op(n))
		}
	}
	u, stop := start()
	for i := 0; i < 20; i++ {
		log(10)
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintln(ops, `["not", "a record"]`)
	st.Servers[0].Kill()
	for i := 0; i < 20; i++ {
		log(10)
		time.Sleep(20 * time.Millisecond)
	}
	stop() // serve stops while the site is down
	log(50)
	st.Servers[0].Restart()
	u, _ = start()
	log(50)
	if !waitFor(60*time.Second, func() bool {
		if u.Outbox().Len() > 0 || u.Outbox().Cursor() == "" {
			return false
		}
		f, _ := store.ReadFeed(logDir, u.Outbox().Cursor(), 0)
		return len(f.Records) == 0
	}) {
		t.Fatalf("not delivered within 60 s: outbox %d, %+v", u.Outbox().Len(), u.State())
	}
	ids := st.Operations("sensor-01")
	if len(ids) != n {
		t.Fatalf("%d operations in the stream, %d logged", len(ids), n)
	}
	for i, id := range ids {
		if want := fmt.Sprintf("%016x", i+1); id != want {
			t.Fatalf("operation %d is %s, want %s: lost, repeated or out of order", i, id, want)
		}
	}
}

// TestAckFromTheSite: an operator acknowledges one of the sensor's
// alerts on the site; the sensor reads it through its own consumer,
// acknowledges the alert in its monitor, and the site then shows the
// alert acknowledged by the sensor itself. Another sensor can neither
// read those acknowledgements (its consumer would need sensor-01's name
// or ack subjects) nor make one.
func TestAckFromTheSite(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01", "sensor-02")
	now := time.Now().UTC()
	fnc := 41
	al := site.Alert{ID: 7, Rule: "s7-plc-stop", Severity: "critical", Src: "192.0.2.10", Dst: "192.0.2.40", Protocol: "s7comm", Function: &fnc,
		Count: 1, Status: "new", Time: now, LastSeen: now}
	mon := &fakeMonitor{alerts: []site.Alert{al}}
	startUplink(t, sensor01(st), Options{Monitor: mon, Collect: 300 * time.Millisecond})

	key := site.AlertKey(al)
	subj := natstest.Subjects(st.Name, "sensor-01")
	status := func() string {
		nc, err := st.Viewer().Connect()
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		m, err := nc.Request("$JS.API.DIRECT.GET."+site.StateStream(st.Name)+"."+subj.Alert(key), nil, 5*time.Second)
		if err != nil || m.Header.Get("Status") != "" {
			return ""
		}
		var am site.AlertMessage
		json.Unmarshal(m.Data, &am)
		return am.Alert.Status
	}
	if !waitFor(30*time.Second, func() bool { return status() == "new" }) {
		t.Fatal("the alert on the site: not within 30 s")
	}

	// The other sensor tries to read sensor-01's acknowledgements.
	nc2, err := st.Sensor("sensor-02").Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	for _, c := range []jetstream.ConsumerConfig{
		{Durable: site.AckConsumer("sensor-01"), FilterSubject: subj.AckFilter()},
		{Durable: site.AckConsumer("sensor-02"), FilterSubject: subj.AckFilter()},
		{Durable: site.AckConsumer("sensor-01"), FilterSubject: natstest.Subjects(st.Name, "sensor-02").AckFilter()},
	} {
		cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := js2.CreateOrUpdateConsumer(cctx, site.StateStream(st.Name), c)
		ccancel()
		if err == nil {
			t.Fatalf("sensor-02 made the consumer %s on %s", c.Durable, c.FilterSubject)
		}
	}
	if err := js2ack(nc2, subj.Ack(key)); err == nil {
		t.Fatal("sensor-02 acknowledged sensor-01's alert")
	}

	st.PublishAs(st.Viewer(), map[string]any{subj.Ack(key): site.Ack{Header: site.Header{Type: site.KindAck, Site: st.Name, Sensor: "sensor-01", Time: now},
		Key: key, By: "engineer@laptop"}})
	if !waitFor(30*time.Second, func() bool {
		mon.mu.Lock()
		defer mon.mu.Unlock()
		return mon.alerts[0].Status == "acknowledged"
	}) {
		t.Fatal("the sensor acknowledging the alert: not within 30 s")
	}
	if !waitFor(30*time.Second, func() bool { return status() == "acknowledged" }) {
		t.Fatal("the site showing the sensor's acknowledgement: not within 30 s")
	}
}

// js2ack publishes an acknowledgement through JetStream as nc's user.
func js2ack(nc *nats.Conn, subject string) error {
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := js.Publish(ctx, subject, []byte(`{}`))
	return err
}
