package siteview

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/sensorcore/uplink"
)

// The scale benchmark's shape (docs/site.md, "Scale"): simulated sensors,
// each logging operations at a steady rate, for a while.
const (
	benchSensors = 100
	benchRate    = 1000 // operations per second per sensor
	benchFor     = 20 * time.Second
	// benchTick is how often each sensor puts what its monitor logged
	// into its outbox: serve reads the operations feed every second
	// (uplink Options.OpsEvery) and puts the page as one batch.
	benchTick = time.Second
	childEnv  = "TAPLINE_BENCH_SITE_SENSORS"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runSensors(spec))
	}
	os.Exit(m.Run())
}

// sensorsSpec is what the sensors' process is told.
type sensorsSpec struct {
	SiteDir string   `json:"site_dir"`
	Site    string   `json:"site"`
	Servers []string `json:"servers"`
	Sensors []string `json:"sensors"`
	Rate    int      `json:"rate"`
	For     string   `json:"for"`
	Out     string   `json:"out"` // where it writes its sensorsResult
}

// sensorsResult is what it measured of itself.
type sensorsResult struct {
	Ops     int64   `json:"ops"`
	CPUSec  float64 `json:"cpu_s"`   // user + system, the whole process
	Drained float64 `json:"drain_s"` // from the last operation logged to every outbox empty
	Err     string  `json:"error,omitempty"`
}

// BenchmarkSiteScale: benchSensors simulated sensors, each the real
// uplink (its bbolt outbox, batches with Nats-Msg-Id and the expected
// last sequence, one at a time as a sensor sends them), log benchRate
// operations per second for benchFor into a three-node cluster of the real
// nats-server on loopback (streams with 3 replicas); the Site screen's
// model (Reader.Follow into a Model) consumes them. The sensors run in a
// process of their own, so their CPU time is theirs alone. It reports the
// operations and batches per second that reached the model, the p99
// latency from an operation being logged to it being in the model, and
// the sensors' CPU per 1,000 operations. Run with make bench-site.
func BenchmarkSiteScale(b *testing.B) {
	var names []string
	for i := 1; i <= benchSensors; i++ {
		names = append(names, fmt.Sprintf("sensor-%03d", i))
	}
	st := natstest.NewSite(b, 3, names...)
	r, err := Open(st.Viewer(), st.Name, 1000)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	// Each operation's latency: from its logging (its record's time, the
	// same for a sensor's batch) to the model holding it.
	type sample struct {
		lat time.Duration
		n   uint64
	}
	var (
		mu          sync.Mutex
		lat         []sample
		got         atomic.Int64
		batches     atomic.Int64
		first, last time.Time
		prev        uint64
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Follow(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		n := r.Model.Received()
		if n == prev {
			return
		}
		now := time.Now()
		if newest := r.Model.Operations("", 1); len(newest) == 1 {
			lat = append(lat, sample{now.Sub(newest[0].Time), n - prev})
		}
		batches.Add(1)
		if first.IsZero() {
			first = now
		}
		last = now
		got.Store(int64(n))
		prev = n
	})
	time.Sleep(time.Second) // the consumers are in place

	out := filepath.Join(b.TempDir(), "sensors.json")
	spec, _ := json.Marshal(sensorsSpec{SiteDir: st.Dir, Site: st.Name, Servers: st.Config().Servers, Sensors: names, Rate: benchRate,
		For: benchFor.String(), Out: out})
	var load1 [3]float64
	readLoad(&load1)
	natsCPU0, selfCPU0 := childCPU("nats-server"), selfCPU()
	b.ResetTimer()
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("the sensors' process: %v", err)
	}
	var res sensorsResult
	if data, err := os.ReadFile(out); err != nil || json.Unmarshal(data, &res) != nil || res.Err != "" {
		b.Fatalf("the sensors' process said %s (%v)", data, err)
	}
	// The model catches up with everything the sensors logged.
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < res.Ops && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	natsCPU, modelCPU := childCPU("nats-server")-natsCPU0, selfCPU()-selfCPU0
	cancel()
	// What the operations stream holds, and what that takes on disk
	// (the three nodes' stores, S2-compressed).
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	var held, heldBytes uint64
	if s, err := r.js.Stream(sctx, site.OpsStream(st.Name)); err == nil {
		if info, err := s.Info(sctx); err == nil {
			held, heldBytes = info.State.Msgs, info.State.Bytes
		}
	}
	disk := du(filepath.Join(st.Dir, "store"))
	var load2 [3]float64
	readLoad(&load2)
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i].lat < lat[j].lat })
	var total uint64
	for _, x := range lat {
		total += x.n
	}
	p := func(q float64) time.Duration {
		var acc uint64
		for _, x := range lat {
			acc += x.n
			if float64(acc) >= q*float64(total) {
				return x.lat
			}
		}
		return 0
	}
	span := last.Sub(start).Seconds()
	b.ReportMetric(float64(got.Load())/span, "ops/s")
	b.ReportMetric(float64(batches.Load())/span, "msgs/s")
	b.ReportMetric(float64(p(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(res.CPUSec*1000/(float64(res.Ops)/1000), "sensor-cpu-ms/1000ops")
	b.ReportMetric(natsCPU*1000/(float64(got.Load())/1000), "servers-cpu-ms/1000ops")
	b.ReportMetric(modelCPU*1000/(float64(got.Load())/1000), "model-cpu-ms/1000ops")
	perBatch := float64(benchRate) * benchTick.Seconds()
	if held > 0 {
		b.ReportMetric(float64(heldBytes)/(float64(held)*perBatch), "stream-B/op")
		b.ReportMetric(float64(disk)/3/(float64(held)*perBatch), "disk-B/op/replica")
	}
	b.Logf("%d sensors x %d ops/s for %s: %d operations logged, %d reached the model in %d batches over %.1f s (outboxes drained %.1f s after the last); "+
		"p50 %s, p99 %s; CPU: sensors %.1f s, the three servers %.1f s, the model %.1f s; the operations stream holds %d batches, %d bytes, %d bytes on disk on 3 nodes; load average %.2f %.2f %.2f before, %.2f %.2f %.2f after (%d cores)",
		benchSensors, benchRate, benchFor, res.Ops, got.Load(), batches.Load(), span, res.Drained, p(0.5), p(0.99), res.CPUSec, natsCPU, modelCPU, held, heldBytes, disk,
		load1[0], load1[1], load1[2], load2[0], load2[1], load2[2], runtime.NumCPU())
	if got.Load() < res.Ops {
		b.Errorf("the model got %d of the %d operations logged", got.Load(), res.Ops)
	}
}

// runSensors is the sensors' process: one real uplink per sensor, each
// logging its operations every benchTick, then waiting for every outbox
// to drain.
func runSensors(specJSON string) int {
	var spec sensorsSpec
	res := sensorsResult{}
	defer func() {
		b, _ := json.Marshal(res)
		os.WriteFile(spec.Out, b, 0o600)
	}()
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		res.Err = err.Error()
		return 1
	}
	d, _ := time.ParseDuration(spec.For)
	ca, err := os.ReadFile(filepath.Join(spec.SiteDir, "ca.pem"))
	if err != nil {
		res.Err = err.Error()
		return 1
	}
	tmp, err := os.MkdirTemp("", "bench-site-sensors")
	if err != nil {
		res.Err = err.Error()
		return 1
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var ups []*uplink.Uplink
	var cfgs []*uplink.Config
	var ops atomic.Int64
	for _, name := range spec.Sensors {
		tok := site.Token(name)
		rd := func(f string) []byte { b, _ := os.ReadFile(filepath.Join(spec.SiteDir, "credentials", f)); return b }
		cfg := &uplink.Config{Sensor: name, SensorID: name, Site: spec.Site, Client: site.Client{Name: name, Servers: spec.Servers, CA: ca,
			Cert: rd(tok + "-client.crt"), Key: rd(tok + "-client.key"), Credential: rd(tok + ".nk"),
			InboxPrefix: site.Subjects{Site: spec.Site, Sensor: name}.InboxPrefix()}}
		u, err := uplink.New(uplink.Options{Dir: filepath.Join(tmp, tok), Config: func() (*uplink.Config, error) { return cfg, nil },
			Status: func() (site.Status, error) { return site.Status{Version: "bench", Generation: 1}, nil }})
		if err != nil {
			res.Err = err.Error()
			return 1
		}
		ups, cfgs = append(ups, u), append(cfgs, cfg)
		wg.Add(1)
		go func() { defer wg.Done(); u.Run(ctx) }()
	}
	var logWG sync.WaitGroup
	start := time.Now()
	per := spec.Rate * int(benchTick) / int(time.Second)
	for i, u := range ups {
		name := spec.Sensors[i]
		logWG.Add(1)
		go func() {
			defer logWG.Done()
			t := time.NewTicker(benchTick)
			defer t.Stop()
			// Spread the sensors over the tick, as real ones are.
			time.Sleep(time.Duration(i) * benchTick / time.Duration(len(ups)))
			n := 0
			cfg := cfgs[i]
			for time.Since(start) < d {
				now := time.Now().UTC().Format(time.RFC3339Nano)
				recs := make([]json.RawMessage, per)
				for k := range recs {
					n++
					recs[k] = json.RawMessage(`{"id":"` + name + `-` + strconv.Itoa(n) + `","time":"` + now +
						`","protocol":"modbus","client":{"ip":"192.0.2.10","port":40000},"server":{"ip":"192.0.2.40","port":502},"function":3,"function_name":"Read Holding Registers","result":"ok","latency_us":900}`)
				}
				if err := u.PutOperations(cfg, recs); err == nil {
					ops.Add(int64(per))
				}
				<-t.C
			}
		}()
	}
	logWG.Wait()
	logged := time.Now()
	for _, u := range ups {
		for u.Outbox().Len() > 0 && time.Since(logged) < 2*time.Minute {
			time.Sleep(50 * time.Millisecond)
		}
	}
	res.Drained = time.Since(logged).Seconds()
	cancel()
	wg.Wait()
	for _, u := range ups {
		u.Close()
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	res.CPUSec = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	res.Ops = ops.Load()
	return 0
}

func readLoad(l *[3]float64) {
	b, err := os.ReadFile("/proc/loadavg")
	if err == nil {
		fmt.Sscan(string(b), &l[0], &l[1], &l[2])
	}
}

// du is the bytes the files under dir take on disk.
func du(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				} else {
					n += fi.Size()
				}
			}
		}
		return nil
	})
	return n
}

// selfCPU is this process's CPU time (user and system), in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// childCPU is the CPU time, in seconds, of this process's running
// children called name (/proc/PID/stat: utime and stime in clock ticks,
// 100 a second on Linux).
func childCPU(name string) float64 {
	ents, _ := os.ReadDir("/proc")
	var total float64
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		st := string(b)
		i := strings.LastIndexByte(st, ')')
		if i < 0 || !strings.Contains(st[:i], "("+name) {
			continue
		}
		f := strings.Fields(st[i+2:])
		if len(f) < 13 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != os.Getpid() {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		stt, _ := strconv.ParseFloat(f[12], 64)
		total += (ut + stt) / 100
	}
	return total
}
