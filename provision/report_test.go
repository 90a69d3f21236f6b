package provision_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
)

func reportOf(rows ...provision.RowResult) *provision.BatchReport {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	return &provision.BatchReport{Inventory: "site.csv", Started: t0, Finished: t0.Add(time.Minute), Results: rows}
}

func rowResult(sensor, addr string, out provision.Outcome, mod func(*provision.RowResult)) provision.RowResult {
	x := provision.RowResult{Row: provision.Row{Sensor: sensor, Address: addr, SSHPort: 22, Record: []string{sensor, addr}},
		Result: provision.Result{Sensor: sensor, Outcome: out}, Attempts: 1}
	if mod != nil {
		mod(&x)
	}
	return x
}

// The site report: the sensors that need attention named first (with the
// address they were reached at, refused ones too, and the fix), then those
// done; a sensor only re-verified says so; rows are compact, steps folded.
func TestReportAttentionFirst(t *testing.T) {
	rep := reportOf(
		rowResult("sensor-01", "192.0.2.11", provision.OutcomeDone, func(x *provision.RowResult) {
			x.Result.FinalAddr, x.Result.Activated, x.Result.ServedFingerprint = "192.0.2.111:22", true, "ab12"
			x.Result.Steps = []provision.StepTiming{{Step: provision.StepConnect, Duration: time.Second}, {Step: provision.StepVerify, Duration: time.Second}}
		}),
		rowResult("sensor-02", "192.0.2.12", provision.OutcomeRefused, func(x *provision.RowResult) {
			x.Result.Code, x.Result.Fix, x.Result.Error = provision.CodeUnknownHost, "Compare the fingerprint", "sshconn: host 192.0.2.12:22 is not in known_hosts"
		}),
		rowResult("sensor-03", "192.0.2.13", provision.OutcomeDone, func(x *provision.RowResult) {
			x.Result.Reverified, x.Result.Activated, x.Result.ServedFingerprint = true, true, "cd34"
		}),
	)
	att, done := rep.Attention()
	if len(att) != 1 || att[0].Row.Sensor != "sensor-02" || len(done) != 2 {
		t.Fatalf("attention %v done %v", att, done)
	}
	if got := att[0].Address(); got != "192.0.2.12:22" {
		t.Errorf("a refused row's address: %q", got)
	}
	if got := done[0].Address(); got != "192.0.2.11:22 → 192.0.2.111:22" {
		t.Errorf("a moved sensor's address: %q", got)
	}
	if got := done[1].OutcomeText(); !strings.Contains(got, "re-verified") {
		t.Errorf("a re-verified sensor: %q", got)
	}
	if got := done[0].Verdict(); got != "activated; certificate proven over TLS sha256:ab12" {
		t.Errorf("verdict %q", got)
	}
	var h bytes.Buffer
	if err := rep.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	html := h.String()
	iAtt, iDone := strings.Index(html, "Needs attention (1)"), strings.Index(html, "Done (2)")
	if iAtt < 0 || iDone < iAtt || !strings.Contains(html, "192.0.2.12:22") || !strings.Contains(html, "Fix: Compare the fingerprint") ||
		!strings.Contains(html, "<details><summary>2.00 s, 2 steps") || !strings.Contains(html, "(re-verified)") {
		t.Fatalf("HTML report:\n%s", html)
	}
	// Rows: attention first.
	if strings.Index(html, `id="sensor-02"`) > strings.Index(html, `id="sensor-01"`) {
		t.Error("the table does not put the row that needs attention first")
	}
}

// A retry run updates the site's combined report: the refused sensor now
// done (on retry, attempts added), the others as they were.
func TestReportMergeRetry(t *testing.T) {
	site := reportOf(
		rowResult("sensor-01", "192.0.2.11", provision.OutcomeDone, nil),
		rowResult("sensor-02", "192.0.2.12", provision.OutcomeRefused, func(x *provision.RowResult) { x.Result.Code = provision.CodeUnknownHost }),
		rowResult("sensor-03", "192.0.2.13", provision.OutcomeFailed, nil),
	)
	retry := reportOf(
		rowResult("sensor-02", "192.0.2.12", provision.OutcomeDone, func(x *provision.RowResult) { x.Attempts = 2 }),
		rowResult("sensor-03", "192.0.2.13", provision.OutcomeNotStarted, nil),
	)
	retry.Finished = site.Finished.Add(time.Hour)
	m := site.Merge(retry)
	if got := m.Results[1]; got.Result.Outcome != provision.OutcomeDone || !got.Retried || got.Attempts != 3 || !strings.Contains(got.OutcomeText(), "on retry") {
		t.Fatalf("retried row: %+v", got)
	}
	if m.Results[0].Retried || m.Results[2].Result.Outcome != provision.OutcomeFailed || !m.Finished.Equal(retry.Finished) || m.Inventory != "site.csv" {
		t.Fatalf("merged: %+v", m)
	}
	if site.Results[1].Result.Outcome != provision.OutcomeRefused {
		t.Fatal("Merge changed the site's report in place")
	}
	// The retry inventory names its site; WriteReports writes it beside
	// the reports and removes it once every sensor is done.
	dir := t.TempDir()
	stem := filepath.Join(dir, "site")
	if err := provision.WriteReports(m, []string{"sensor", "address"}, stem); err != nil {
		t.Fatal(err)
	}
	if of := provision.RetryOf(stem + ".retry.csv"); of != "site" {
		t.Fatalf("RetryOf = %q", of)
	}
	back, err := provision.ReadReport(stem + ".report.json")
	if err != nil || len(back.Results) != 3 || len(back.Results[2].Row.Record) != 2 {
		t.Fatalf("report read back: %v %+v", err, back)
	}
	m.Results[2].Result.Outcome = provision.OutcomeDone
	if err := provision.WriteReports(m, []string{"sensor", "address"}, stem); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stem + ".retry.csv"); !os.IsNotExist(err) {
		t.Fatalf("the retry file stayed after every sensor ended done: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "plain.csv"), []byte("# a note\nsensor,address\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "evil.csv"), []byte("# tapline retry of ../../etc/passwd: x\n"), 0o600)
	if provision.RetryOf(filepath.Join(dir, "plain.csv")) != "" || provision.RetryOf(filepath.Join(dir, "evil.csv")) != "" {
		t.Fatal("RetryOf took a plain inventory or a path for a retry")
	}
}
