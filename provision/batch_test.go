package provision_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/examplesite"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// exampleRow is a row for one of the example sensors (real openssl
// certificates, real activation files) at addr.
func exampleRow(t *testing.T, sensor, addr, keyFile string) string {
	ex, _ := filepath.Abs("../examples/site-a")
	return fmt.Sprintf("%s,%s,root,key,%s,%s/activation/%s.tapact,%s/certs/%s.crt,%s/certs/%s.key,%s/certs/chain.pem,192.0.2.11%s,24,127.0.0.1,%s.plant.example",
		sensor, addr, keyFile, ex, sensor, ex, sensor, ex, sensor, ex, sensor[len(sensor)-1:], sensor)
}

// exampleRootPub is the demo authority the example activation files are signed under.
const exampleRootPub = "../examples/site-a/demo-authority/demo-root.pub"

// exampleNow is a check time inside the example activation files' upload
// window: a day after they were made (tapline batch example). Checks of
// the committed examples use it rather than today's clock, so they hold
// on any date.
func exampleNow(t *testing.T) time.Time {
	t.Helper()
	at, err := examplesite.CheckTime("../examples/site-a")
	if err != nil {
		t.Fatal(err)
	}
	return at
}

const batchHeader = "sensor,address,ssh_user,auth,key_file,activation,cert,key,chain,new_ip,new_mask,new_address,new_hostname"

// A batch against real sshds where sensorcore is absent: it must connect,
// trust or refuse, stop at preflight, never retry a refusal, retry a
// transient fault with backoff, journal every attempt and report.
func TestBatchAgainstOpenSSHWithoutSensorcore(t *testing.T) {
	t.Parallel()
	a := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	b := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	// b is known under another key: changed.
	other := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	bLine := strings.Replace(other.KnownHostsLine(), fmt.Sprint(other.Port), fmt.Sprint(b.Port), 1)
	os.WriteFile(kh, []byte(a.KnownHostsLine()+bLine), 0o600)
	closed := fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t))

	csvText := batchHeader + "\n" + exampleRow(t, "sensor-01", a.Addr, a.ClientKey) + "\n" +
		exampleRow(t, "sensor-02", b.Addr, a.ClientKey) + "\n" + exampleRow(t, "sensor-03", closed, a.ClientKey) + "\n"
	invPath := filepath.Join(dir, "site.csv")
	os.WriteFile(invPath, []byte(csvText), 0o600)
	inv, err := provision.ReadInventory(invPath)
	if err != nil {
		t.Fatal(err)
	}
	j, err := provision.OpenJournal(filepath.Join(dir, "site.journal.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	prep := &provision.Session{Check: provision.CheckOptions{Now: exampleNow(t), ActivationRoots: mustRoots(t, exampleRootPub)}}
	var events []provision.Event
	var evMu sync.Mutex
	opts := provision.BatchOptions{
		Parallel: 3, Retries: 2, Backoff: 10 * time.Millisecond, Prepare: prep.Prepare, Journal: j,
		Push: provision.Options{Trust: &sshconn.KnownHosts{File: kh}, Core: "/nonexistent/sensorcore",
			SSH: sshconn.Options{Timeout: 2 * time.Second}, Events: func(e provision.Event) { evMu.Lock(); events = append(events, e); evMu.Unlock() }},
	}
	rep, err := provision.RunBatch(context.Background(), inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	evMu.Lock()
	seen := append([]provision.Event(nil), events...)
	evMu.Unlock()
	r1, r2, r3 := rep.Results[0], rep.Results[1], rep.Results[2]
	var re *provision.RemoteError
	if r1.Result.Outcome != provision.OutcomeFailed || r1.Result.Step != provision.StepPreflight || r1.Attempts != 1 ||
		!strings.Contains(r1.Result.Error, "/nonexistent/sensorcore") || r1.Result.HostKey == "" {
		t.Fatalf("sensor-01: %+v", r1)
	}
	_ = re
	if r2.Result.Outcome != provision.OutcomeRefused || r2.Result.Step != provision.StepTrust || r2.Attempts != 1 || !strings.Contains(r2.Result.Error, "CHANGED") {
		t.Fatalf("sensor-02: %+v", r2)
	}
	if r3.Result.Outcome != provision.OutcomeFailed || !r3.Result.Transient || r3.Attempts != 3 {
		t.Fatalf("sensor-03: %+v", r3)
	}
	sawTrust := false
	for _, e := range seen {
		if e.Sensor == "sensor-01" && e.Step == provision.StepTrust && strings.HasPrefix(e.Message, "host key SHA256:") {
			sawTrust = true
		}
	}
	if !sawTrust {
		t.Fatalf("no trust event for sensor-01 in %d events", len(seen))
	}

	// Reports.
	var js, cs, hs, retry bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back provision.BatchReport
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != 3 {
		t.Fatalf("JSON report: %v", err)
	}
	rep.WriteCSV(&cs)
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(recs) != 4 || recs[2][2] != "refused" {
		t.Fatalf("CSV report: %v %v", recs, err)
	}
	rep.WriteHTML(&hs)
	if h := hs.String(); !strings.Contains(h, "sensor-02") || strings.Contains(h, "<script") || strings.Contains(h, "<link") || strings.Contains(h, "src=") {
		t.Fatalf("HTML report not self-contained or incomplete")
	}
	n, err := rep.WriteRetryInventory(&retry, inv.Header, "site")
	if err != nil || n != 3 {
		t.Fatalf("retry inventory: %d %v", n, err)
	}
	again, err := provision.ParseInventory(&retry, inv.Dir, "retry.csv")
	if err != nil || len(again.Rows) != 3 {
		t.Fatalf("retry inventory does not parse back: %v", err)
	}

	// Journal: every attempt has a start and an end line.
	raw, _ := os.ReadFile(filepath.Join(dir, "site.journal.jsonl"))
	if got := strings.Count(string(raw), `"event":"start"`); got != 5 {
		t.Fatalf("journal has %d starts, want 5:\n%s", got, raw)
	}

	// Canary: the first row fails, the others are not started.
	opts.Canary = 1
	opts.Journal = nil
	rep, _ = provision.RunBatch(context.Background(), inv, opts)
	if rep.Stopped == "" || rep.Results[1].Result.Outcome != provision.OutcomeNotStarted || rep.Results[2].Result.Outcome != provision.OutcomeNotStarted {
		t.Fatalf("canary did not stop the batch: %+v", rep)
	}
}

func TestJournalResume(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "j.jsonl")
	j, err := provision.OpenJournal(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := provision.ParseInventory(strings.NewReader(batchHeader+"\ns1,127.0.0.1,root,agent,,,a,b,,24\ns2,127.0.0.1,root,agent,,,a,b,,24\n"), dir, "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	// A first run: s1 done (as recorded), then a torn line from a crash.
	prepared := 0
	done := func(ctx context.Context, row provision.Row) (provision.Prepared, error) {
		prepared++
		return provision.Prepared{}, errors.New("prepare refused " + row.Sensor)
	}
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, `{"time":"2026-11-21T10:00:00Z","sensor":"s1","attempt":1,"event":"end","result":{"sensor":"s1","outcome":"done","generation":4,"steps":null,"activated":true}}`+"\n"+`{"time":"2026-11-21T10:00:01Z","sensor":"s2","att`)
	f.Close()
	rep, err := provision.RunBatch(context.Background(), inv, provision.BatchOptions{Prepare: done, Journal: j, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Results[0].Resumed || rep.Results[0].Result.Generation != 4 || prepared != 1 || rep.Results[1].Result.Outcome != provision.OutcomeRefused {
		t.Fatalf("resume: %+v (prepared %d)", rep.Results, prepared)
	}
	j.Close()
}

// Cancelling a batch stops starting rows and cancels the running one; the
// report says so and the rows never started are marked.
func TestBatchCancel(t *testing.T) {
	t.Parallel()
	inv, err := provision.ParseInventory(strings.NewReader(batchHeader+"\ns1,127.0.0.1,root,agent,,,a,b,,,24\ns2,127.0.0.1,root,agent,,,a,b,,,24\ns3,127.0.0.1,root,agent,,,a,b,,,24\n"), t.TempDir(), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 3)
	prep := func(ctx context.Context, row provision.Row) (provision.Prepared, error) {
		started <- struct{}{}
		<-ctx.Done()
		return provision.Prepared{}, ctx.Err()
	}
	go func() { <-started; cancel() }()
	rep, err := provision.RunBatch(ctx, inv, provision.BatchOptions{Parallel: 1, Prepare: prep})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.Stopped, "cancelled") || rep.Results[0].Result.Outcome == provision.OutcomeDone ||
		rep.Results[2].Result.Outcome != provision.OutcomeNotStarted || rep.AllDone() {
		t.Fatalf("cancelled batch: %+v", rep)
	}
}
