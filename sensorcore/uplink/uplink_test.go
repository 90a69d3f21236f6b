package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/site"
)

// fakeMonitor answers the engine's JSON routes with what the test sets.
type fakeMonitor struct {
	mu     sync.Mutex
	assets []site.Asset
	alerts []site.Alert
}

func (f *fakeMonitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v any
	switch r.URL.Path {
	case "/api/v1/assets":
		v = f.assets
	case "/api/v1/alerts":
		v = f.alerts
	case "/api/v1/stats":
		v = map[string]any{"packets": 100, "kernel_drops": 0, "protocols": map[string]any{"modbus": map[string]any{"pdus": 7}}}
	default:
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(v)
}

func op(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":"%016x","time":"2026-12-01T00:00:00Z","protocol":"modbus","client":{"ip":"192.0.2.1"},"server":{"ip":"192.0.2.2"},"function":6,"result":"ok"}`, i))
}

// opsInStream reads every operations batch of the sensor and returns the
// operation ids in stream order.
func opsInStream(t *testing.T, st *natstest.Site) []string {
	t.Helper()
	nc, err := st.Viewer().Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, site.OpsStream("plant-a"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	c, err := js.OrderedConsumer(ctx, site.OpsStream("plant-a"), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	lastSeq := uint64(0)
	for i := uint64(0); i < info.State.Msgs; i++ {
		m, err := c.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := strconv.ParseUint(m.Headers().Get(site.HeaderSeq), 10, 64)
		if seq <= lastSeq {
			t.Fatalf("outbox sequence %d after %d: out of order or twice", seq, lastSeq)
		}
		lastSeq = seq
		var b site.Ops
		if err := json.Unmarshal(m.Data(), &b); err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Operations {
			var o site.Operation
			json.Unmarshal(r, &o)
			ids = append(ids, o.ID)
		}
	}
	return ids
}

func waitEmpty(t *testing.T, u *Uplink, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for u.Outbox().Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the outbox still holds %d messages after %s (%+v)", u.Outbox().Len(), within, u.State())
		}
		time.Sleep(100 * time.Millisecond)
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
	cfg := &Config{Sensor: "sensor-01", SensorID: "S-1", Site: "plant-a", Client: st.Sensor("sensor-01")}
	u, err := New(Options{Dir: t.TempDir(), Config: func() (*Config, error) { return cfg, nil }, Monitor: mon,
		Status: func() (site.Status, error) {
			return site.Status{Version: "test", Generation: 1, Devices: site.Devices{Licensed: 500}}, nil
		},
		Collect: 200 * time.Millisecond, AckWait: 2 * time.Second, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx); close(done) }()
	defer func() { cancel(); <-done; u.Close() }()

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
	ids := opsInStream(t, st)
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
