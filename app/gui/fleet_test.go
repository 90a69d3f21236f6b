package gui

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision"
)

func TestFleetRunsDemoInventory(t *testing.T) {
	f := startDemo(t, 2)
	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	s := newFleetScreen(env)
	w := test.NewTempWindow(t, s.build())
	w.Resize(fyne.NewSize(1200, 800))
	if !s.runBtn.Disabled() || !s.checkBtn.Disabled() || !s.exportBtn.Disabled() {
		t.Fatal("actions enabled with no inventory")
	}

	s.open(f.Inventory)
	if s.model.len() != 2 || s.runBtn.Disabled() {
		t.Fatalf("open: %d rows", s.model.len())
	}
	test.Tap(s.checkBtn)
	s.tasks.Wait()
	for i := 0; i < 2; i++ {
		if r, _ := s.model.get(i); r.status != "check: ready" {
			t.Fatalf("row %d after check: %q %s", i, r.status, codes(r.findings))
		}
	}

	// Unknown hosts are refused unless the engineer says otherwise.
	test.Type(s.password, f.SSHPassword)
	test.Tap(s.runBtn)
	s.tasks.Wait()
	if r, _ := s.model.get(0); r.outcome == provision.OutcomeDone || !strings.HasPrefix(r.result, provision.CodeUnknownHost) ||
		!strings.Contains(r.findings[0].Hint, "Trust sensors seen for the first time") {
		t.Fatalf("unknown host pushed without consent: %+v", r)
	}
	// The log says the code, message and fix, in the app's words.
	if log := strings.Join(s.model.logOf(0), "\n"); !strings.Contains(log, "failed: "+provision.CodeUnknownHost+" ") ||
		strings.Contains(log, "--accept") || strings.Contains(log, "sshconn:") {
		t.Errorf("log after an unknown host:\n%s", log)
	}
	if s.retryBtn.Disabled() {
		t.Fatal("Retry failed is disabled after failures")
	}
	if r, _ := s.model.get(0); !strings.HasPrefix(s.summary.Text, "Needs attention (2): "+r.row.Sensor+" at "+r.row.SSHAddr()+" (refused, "+provision.CodeUnknownHost) {
		t.Errorf("summary: %q", s.summary.Text)
	}

	test.Tap(s.acceptNew)
	test.Tap(s.retryBtn)
	s.tasks.Wait()
	for i := 0; i < 2; i++ {
		r, _ := s.model.get(i)
		if r.outcome != provision.OutcomeDone || r.progress != 1 || !strings.HasPrefix(r.result, "certificate verified") {
			t.Fatalf("row %d: %+v\n%s", i, r, strings.Join(s.model.logOf(i), "\n"))
		}
	}
	if !s.retryBtn.Disabled() || s.exportBtn.Disabled() {
		t.Fatal("after a clean run: Retry must be off, Export on")
	}
	// Each push ended with the sensor's validation: the Validate column and
	// every check in the log.
	for i := 0; i < 2; i++ {
		r, _ := s.model.get(i)
		if !strings.HasPrefix(r.validation, "validated") || r.validationProblem {
			t.Fatalf("row %d's Validate column: %q", i, r.validation)
		}
		if log := strings.Join(s.model.logOf(i), "\n"); !strings.Contains(log, "validate: validated") || !strings.Contains(log, "  sanity ") {
			t.Errorf("row %d's log has no validation:\n%s", i, log)
		}
	}
	// However long the log's lines (a validation's details), the screen
	// stays as wide as the window.
	if got := w.Content().MinSize().Width; got > 1200 {
		t.Errorf("Fleet needs %v pixels across with a sensor's log shown, more than the window's 1200", got)
	}
	// The sensor menu validates the selected sensor again.
	s.table.Select(widget.TableCellID{Row: 0, Col: 0})
	s.model.mu.Lock()
	s.model.rows[0].validation = ""
	s.model.mu.Unlock()
	s.menu.validate()
	s.menu.tasks.Wait()
	if r, _ := s.model.get(0); !strings.HasPrefix(r.validation, "validated") {
		t.Fatalf("validate from the sensor menu: %q %s", r.validation, codes(s.findings.shown))
	}
	// The per-sensor log tells the story, fingerprint included.
	s.table.Select(widget.TableCellID{Row: 1, Col: 0})
	if log := s.logText.Text(); !strings.Contains(log, "trusted new host key ssh-ed25519 SHA256:") || !strings.Contains(log, "ended done") {
		t.Errorf("log of %s:\n%s", f.Sensors[1].Name, log)
	}

	test.Tap(s.exportBtn)
	s.tasks.Wait()
	// The site's report after the retry: every sensor done, so no retry file.
	if a, done := s.report.Attention(); len(a) != 0 || len(done) != 2 || !done[0].Retried {
		t.Fatalf("the site's report after Retry failed: %d need attention, %d done", len(a), len(done))
	}
	got, _ := filepath.Glob(filepath.Join(env.FilesDir, "reports", "inventory-*.report.*"))
	if all, _ := filepath.Glob(filepath.Join(env.FilesDir, "reports", "inventory-*")); len(got) != 3 || len(all) != 3 {
		t.Fatalf("report files: %v (%q %s)", got, s.summary.Text, codes(s.findings.shown))
	}
}

func TestFleetCancel(t *testing.T) {
	f := startDemo(t, 2)
	a := test.NewTempApp(t)
	s := newFleetScreen(demoEnv(t, a, f))
	test.NewTempWindow(t, s.build())
	s.open(f.Inventory)
	test.Type(s.password, f.SSHPassword)
	test.Tap(s.acceptNew)
	test.Tap(s.runBtn)
	if s.cancelBtn.Disabled() || !s.runBtn.Disabled() {
		t.Fatal("while running: Cancel on, Run off")
	}
	test.Tap(s.cancelBtn)
	s.tasks.Wait()
	for i := 0; i < 2; i++ {
		if r, _ := s.model.get(i); r.outcome == provision.OutcomeDone {
			t.Errorf("row %d finished despite Cancel", i)
		}
	}
	if !s.cancelBtn.Disabled() || s.runBtn.Disabled() {
		t.Error("after cancel: Run on, Cancel off")
	}
}

func TestFleetBadInventory(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "site.csv", []byte("sensor,address,ssh_user,auth\nsensor-01,,admin,telnet\n"))
	a := test.NewTempApp(t)
	s := newFleetScreen(testEnv(a, dir))
	test.NewTempWindow(t, s.build())
	s.open(p)
	if s.inv != nil || len(s.findings.shown) < 2 || !hasCode(s.findings.shown, provision.CodeInventoryField) {
		t.Fatalf("findings %+v", s.findings.shown)
	}
	for _, f := range s.findings.shown {
		if !strings.Contains(f.Message, "site.csv line 2") {
			t.Errorf("finding does not name the line: %+v", f)
		}
	}
}

// BenchmarkFleetTableUpdate measures one round of a 1,000-sensor batch's
// progress: an event for every row, then the redraw the UI does on its tick.
func BenchmarkFleetTableUpdate(b *testing.B) {
	a := test.NewTempApp(b)
	s := newFleetScreen(testEnv(a, b.TempDir()))
	w := test.NewTempWindow(b, s.build())
	w.Resize(fyne.NewSize(1280, 800))
	rows := make([]provision.Row, 1000)
	for i := range rows {
		rows[i] = provision.Row{Line: i + 2, Sensor: fmt.Sprintf("sensor-%04d", i+1), Address: fmt.Sprintf("192.0.2.%d", i%250+1), SSHPort: 22}
	}
	s.inv = &provision.Inventory{Path: "bench.csv", Rows: rows}
	s.model.reset(rows)
	s.flush()
	steps := []provision.Step{provision.StepConnect, provision.StepUpload, provision.StepApply, provision.StepVerify}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		st := steps[n%len(steps)]
		for i := range rows {
			s.model.event(provision.Event{Sensor: rows[i].Sensor, Step: st, Percent: float64(n % 100), Message: "working", At: now})
		}
		s.flush()
	}
}

// BenchmarkFleetModelEvents is the event half alone: 1,000 progress events
// recorded from the batch's goroutines, no redraw.
func BenchmarkFleetModelEvents(b *testing.B) {
	var m fleetModel
	rows := make([]provision.Row, 1000)
	for i := range rows {
		rows[i] = provision.Row{Sensor: fmt.Sprintf("sensor-%04d", i+1)}
	}
	m.reset(rows)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range rows {
			m.event(provision.Event{Sensor: rows[i].Sensor, Step: provision.StepUpload, Percent: 50, Message: "working", At: now})
		}
	}
}

// TestFleetWarningsNeedAcceptance: a sensor whose check only warns gets no
// bundle until the engineer ticks that the warnings are accepted, and the
// findings behind the refusal are shown in its log.
func TestFleetWarningsNeedAcceptance(t *testing.T) {
	f := startDemo(t, 1)
	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	sn := f.Sensors[0]
	paths := certWithoutCO(t, sn.Hostname, sn.NewIP)
	inv, err := os.ReadFile(f.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	txt := strings.NewReplacer("certs/"+sn.Hostname+".crt", paths[0], "certs/"+sn.Hostname+".key", paths[1],
		"certs/"+sn.Hostname+"-chain.pem", paths[2]).Replace(string(inv))
	invPath := writeFile(t, filepath.Dir(f.Inventory), "inventory-no-c-o.csv", []byte(txt))
	for _, p := range paths {
		if !strings.Contains(txt, p) {
			t.Fatalf("inventory does not name %s:\n%s", p, txt)
		}
	}

	s := newFleetScreen(env)
	test.NewTempWindow(t, s.build())
	s.open(invPath)
	test.Tap(s.checkBtn)
	s.tasks.Wait()
	if r, _ := s.model.get(0); !strings.HasSuffix(r.status, "warnings") || !hasCode(r.findings, certs.CodeSubjectC) {
		t.Fatalf("check: %q %s", r.status, codes(r.findings))
	}
	test.Type(s.password, f.SSHPassword)
	test.Tap(s.acceptNew)
	test.Tap(s.runBtn)
	s.tasks.Wait()
	r, _ := s.model.get(0)
	if r.outcome != provision.OutcomeRefused || !strings.HasPrefix(r.result, provision.CodeNoBundle) ||
		!hasCode(r.findings, certs.CodeSubjectC) || !hasCode(r.findings, certs.CodeSubjectO) {
		t.Fatalf("warnings not accepted: %+v", r)
	}
	// The fix names the box on this screen, not the CLI's flag.
	if log := strings.Join(s.model.logOf(0), "\n"); strings.Contains(log, "--accept-warnings") ||
		!strings.Contains(log, "tick \"Accept the check's warnings\"") || !strings.Contains(r.findings[0].Hint, "Accept the check's warnings") {
		t.Errorf("log of a refused bundle:\n%s\n%+v", log, r.findings[0])
	}
	test.Tap(s.acceptWrn)
	test.Tap(s.retryBtn)
	s.tasks.Wait()
	if r, _ := s.model.get(0); r.outcome != provision.OutcomeDone {
		t.Fatalf("warnings accepted: %+v\n%s", r, strings.Join(s.model.logOf(0), "\n"))
	}
}

// certWithoutCO issues a certificate for host from a CA whose subject has
// no C and no O: the check warns (TL-CERT-015/016) and finds no error.
// It returns the paths of the certificate, key and chain.
func certWithoutCO(t *testing.T, host, ip string) []string {
	t.Helper()
	k := rsaKeys(t)
	c, err := ca.Init(ca.InitOptions{RootKey: k[0], Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	is, err := c.Issue(ca.IssueRequest{Hostname: host, IP: netip.MustParseAddr(ip), Key: k[1], Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := ca.Export(dir, host, is, ca.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return []string{filepath.Join(dir, host+".crt"), filepath.Join(dir, host+".key"), filepath.Join(dir, host+"-chain.pem")}
}

// TestFleetSummaryNamesAttentionFirst: the summary names the sensors that
// need attention first, each with its address and why (a refused row
// included), then counts the rest; a long list stays one paragraph.
func TestFleetSummaryNamesAttentionFirst(t *testing.T) {
	var m fleetModel
	var rows []provision.Row
	for i := 1; i <= 9; i++ {
		rows = append(rows, provision.Row{Sensor: fmt.Sprintf("sensor-%02d", i), Address: fmt.Sprintf("192.0.2.%d", 10+i), SSHPort: 22})
	}
	m.reset(rows)
	check := &provision.CheckReport{}
	for i, r := range rows {
		rc := provision.RowCheck{Row: r}
		switch i {
		case 1:
			rc.Findings = []certs.Finding{{Code: certs.CodeExpired, Severity: certs.SeverityError}, {Code: certs.CodeSubjectC, Severity: certs.SeverityWarning}, {Code: certs.CodeCNMismatch, Severity: certs.SeverityError}}
		case 4:
			rc.Findings = []certs.Finding{{Code: certs.CodeSubjectC, Severity: certs.SeverityWarning}}
		}
		check.Rows = append(check.Rows, rc)
	}
	m.checked(check)
	if got, want := checkSummary(&m, 9), "Offline check: 2 of 9 need attention: sensor-02 at 192.0.2.12:22 (2 errors); sensor-05 at 192.0.2.15:22 (1 warning). Ready: 7."; got != want {
		t.Errorf("check summary\n got %q\nwant %q", got, want)
	}

	rep := &provision.BatchReport{}
	for i, r := range rows {
		res := provision.Result{Sensor: r.Sensor, Outcome: provision.OutcomeDone, Reverified: i == 3}
		if i%4 == 2 {
			res = provision.Result{Sensor: r.Sensor, Outcome: provision.OutcomeRefused, Step: provision.StepTrust, Code: provision.CodeUnknownHost}
		}
		rep.Results = append(rep.Results, provision.RowResult{Row: r, Result: res, Attempts: 1})
	}
	m.finished(rep)
	got := runSummary(rep)
	if !strings.HasPrefix(got, "Needs attention (2): sensor-03 at 192.0.2.13:22 (refused, "+provision.CodeUnknownHost+" ") ||
		!strings.Contains(got, "; sensor-07 at 192.0.2.17:22 (refused, ") || !strings.HasSuffix(got, "Finished: 7 done (1 only re-verified, applied earlier: sensor-04), 0 failed, 2 refused, 0 rolled back, 0 not started.") {
		t.Errorf("run summary:\n%s", got)
	}

	// A row shows where the push reached it, and where it moved.
	rep.Results[0].Result.FinalAddr = "192.0.2.111:22"
	m.finished(rep)
	if r, _ := m.get(0); r.addr != "192.0.2.11:22 → 192.0.2.111:22" {
		t.Errorf("moved row's address: %q", r.addr)
	}
	if r, _ := m.get(3); r.status != "done, re-verified" || !strings.HasPrefix(r.result, "re-verified only (applied earlier)") {
		t.Errorf("re-verified row: %q %q", r.status, r.result)
	}

	// Done, but its validation found a problem: named first too.
	rep.Results[1].Result.Validation = &provision.Validation{OK: true, Verdict: "validated with 1 warning(s)",
		Checks: []provision.ValidationCheck{{Check: "capture", Target: "eth1", Status: "warning", Detail: "no OT protocol in the last minute"}}}
	m.finished(rep)
	if got := runSummary(rep); !strings.Contains(got, "sensor-02 at 192.0.2.12:22 (done, validate: validated with 1 warning(s): capture eth1: no OT protocol") {
		t.Errorf("a validation warning is not named:\n%s", got)
	}
	if r, _ := m.get(1); !r.validationProblem || !strings.HasPrefix(r.validation, "validated with 1 warning(s)") {
		t.Errorf("row's Validate column: %q", r.validation)
	}
	rep.Results[1].Result.Validation = nil

	// Many: the first few by name, then how many more.
	for i := range rep.Results {
		rep.Results[i].Result = provision.Result{Sensor: rows[i].Sensor, Outcome: provision.OutcomeFailed, Step: provision.StepConnect, Code: provision.CodeUnreachable}
	}
	m.finished(rep)
	if got := runSummary(rep); !strings.Contains(got, "sensor-06 at 192.0.2.16:22") || strings.Contains(got, "sensor-07") || !strings.Contains(got, "and 3 more (see the table)") {
		t.Errorf("nine failures:\n%s", got)
	}
}

// TestFleetColumnsFitTheWindow: at the default window size every column
// of the Fleet table, the last (Devices, uplink) included, is on screen
// within the table; a wider window gives the columns the room, and a
// narrow one keeps them at their minimum and scrolls the table.
func TestFleetColumnsFitTheWindow(t *testing.T) {
	m, _ := newTestMain(t)
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("sensor,address,ssh_user,auth,cert,key\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&csv, "sensor-%02d,192.0.2.%d,admin,password,s.crt,s.key\n", i, 10+i)
	}
	m.fleet.open(writeFile(t, dir, "plant.csv", []byte(csv.String())))
	m.ShowScreen("Fleet")
	m.Wait()
	d := fyne.CurrentApp().Driver()
	for _, width := range []float32{1100, 1600} {
		m.Window.Resize(fyne.NewSize(width, 720))
		m.Wait()
		tablePos := d.AbsolutePositionForObject(m.fleet.table)
		right := tablePos.X + m.fleet.table.Size().Width
		if right > width {
			t.Fatalf("window %v: the table ends at %v", width, right)
		}
		headers := map[string]*widget.Label{}
		for _, o := range test.LaidOutObjects(m.fleet.table) {
			if l, ok := o.(*widget.Label); ok && l.Visible() && l.TextStyle.Bold {
				headers[l.Text] = l
			}
		}
		last := float32(0)
		for _, c := range fleetColumns {
			l := headers[c.title]
			if l == nil {
				t.Fatalf("window %v: the column %q is not shown (headers %v)", width, c.title, slices.Collect(maps.Keys(headers)))
			}
			// the header row starts after the row numbers' column
			x := tablePos.X + m.fleet.columns.headerW + l.Position().X
			if x < last || x+l.Size().Width > right+0.5 {
				t.Errorf("window %v: column %q spans %v..%v, the table %v..%v", width, c.title, x, x+l.Size().Width, tablePos.X, right)
			}
			if l.Size().Width < c.min {
				t.Errorf("window %v: column %q is %v wide, under its minimum %v", width, c.title, l.Size().Width, c.min)
			}
			last = x
		}
		if width > 1100 && m.fleet.columns.widths[5] <= fleetColumns[5].width {
			t.Errorf("window %v: Result stays %v wide", width, m.fleet.columns.widths[5])
		}
	}
	// Narrower than the columns' minimums: they keep them (the table
	// scrolls sideways).
	for i, w := range m.fleet.columns.columnWidths(500) {
		if w != fleetColumns[i].min {
			t.Errorf("a 500-wide table: column %q %v wide, want its minimum %v", fleetColumns[i].title, w, fleetColumns[i].min)
		}
	}
}
