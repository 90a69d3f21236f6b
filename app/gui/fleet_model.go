package gui

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
)

// fleetRow is one sensor's line in the Fleet table.
type fleetRow struct {
	row    provision.Row
	addr   string // after a run: where the sensor was reached (and moved to)
	final  string // after a run: host:port it answers at now
	pinned ssh.PublicKey
	// validation is the Validate column: the sensor's validation after
	// the push, or since, in one line; validationProblem says it found a
	// failure or a warning.
	validation        string
	validationProblem bool
	// sensorState is the Devices, uplink column: what the sensor's status
	// said at the push's end about its devices and its uplink.
	sensorState string
	status      string
	step        provision.Step
	progress    float64 // 0..1 over the whole push
	result      string
	outcome     provision.Outcome
	// reverified: done by confirming and verifying only; an earlier
	// attempt had applied the bundle already.
	reverified bool
	findings   []certs.Finding
	gate       []certs.Finding // why no bundle was built (bundle.GateError)
	log        []string
}

// maxLogLines bounds each sensor's log in memory.
const maxLogLines = 300

// fleetModel holds the table's rows. Progress events arrive from the batch's
// goroutines and only touch the model; the UI goroutine redraws what
// changed on its own schedule (flush), so 1,000 sensors reporting at once
// never queue 1,000 redraws.
type fleetModel struct {
	mu    sync.Mutex
	rows  []fleetRow
	index map[string]int // sensor name -> row
	dirty bool
}

func (m *fleetModel) reset(rows []provision.Row) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = make([]fleetRow, len(rows))
	m.index = make(map[string]int, len(rows))
	for i, r := range rows {
		m.rows[i] = fleetRow{row: r, status: "not checked"}
		m.index[r.Sensor] = i
	}
	m.dirty = true
}

func (m *fleetModel) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows)
}

// get returns a copy of row i's table fields (not its log).
func (m *fleetModel) get(i int) (fleetRow, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.rows) {
		return fleetRow{}, false
	}
	r := m.rows[i]
	r.log = nil
	return r, true
}

// logOf returns a copy of row i's log.
func (m *fleetModel) logOf(i int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.rows) {
		return nil
	}
	return append([]string(nil), m.rows[i].log...)
}

func (m *fleetModel) appendLog(r *fleetRow, line string) {
	r.log = append(r.log, line)
	if len(r.log) > maxLogLines {
		r.log = append(r.log[:0], r.log[len(r.log)-maxLogLines:]...)
	}
}

// event records one progress event; safe from any goroutine.
func (m *fleetModel) event(e provision.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.index[e.Sensor]
	if !ok {
		return
	}
	r := &m.rows[i]
	r.status = "running"
	r.step = e.Step
	if f := pushSteps.Progress(e); f >= 0 {
		r.progress = f
	}
	if !e.Failed && e.Message != "" { // the whole message: the log keeps the network diff's lines
		m.appendLog(r, e.At.Format("15:04:05")+" "+string(e.Step)+": "+e.Message)
	}
	m.dirty = true
}

// note adds a line to a sensor's log; safe from any goroutine.
func (m *fleetModel) note(sensor, line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.index[sensor]; ok {
		m.appendLog(&m.rows[i], line)
		m.dirty = true
	}
}

// refused records the findings that kept a sensor's bundle from being
// built; safe from any goroutine.
func (m *fleetModel) refused(sensor string, fs []certs.Finding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.index[sensor]; ok {
		m.rows[i].gate = fs
		for _, f := range fs {
			m.appendLog(&m.rows[i], "no bundle: "+f.Code+" "+f.Message)
		}
		m.dirty = true
	}
}

// mark sets the status of the rows in names (every row when nil).
func (m *fleetModel) mark(names map[string]bool, status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.rows {
		if names == nil || names[m.rows[i].row.Sensor] {
			r := &m.rows[i]
			r.status, r.step, r.progress, r.result, r.outcome, r.gate, r.reverified, r.addr = status, "", 0, "", "", nil, false, ""
			r.validation, r.validationProblem = "", false
		}
	}
	m.dirty = true
}

// checked records the offline check of each row.
func (m *fleetModel) checked(rep *provision.CheckReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rc := range rep.Rows {
		i, ok := m.index[rc.Row.Sensor]
		if !ok {
			continue
		}
		r := &m.rows[i]
		r.findings = rc.Findings
		var errs, warns int
		for _, f := range rc.Findings {
			switch f.Severity {
			case certs.SeverityError:
				errs++
			case certs.SeverityWarning:
				warns++
			}
		}
		switch {
		case errs > 0:
			r.status = fmt.Sprintf("check: %d errors", errs)
		case warns > 0:
			r.status = fmt.Sprintf("check: %d warnings", warns)
		default:
			r.status = "check: ready"
		}
		m.appendLog(r, "offline check: "+r.status)
	}
	m.dirty = true
}

// finished records a batch's results.
func (m *fleetModel) finished(rep *provision.BatchReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rr := range rep.Results {
		i, ok := m.index[rr.Row.Sensor]
		if !ok {
			continue
		}
		r := &m.rows[i]
		res := rr.Result
		r.outcome = res.Outcome
		r.addr = rr.Address() // where it was reached, and where it answers now if the push moved it
		r.final, r.pinned = res.FinalAddr, res.PinnedKey
		r.validation, r.validationProblem = rr.ValidationText(), len(res.Validation.Problems()) > 0
		m.logValidation(r, res.Validation, res.ValidationError)
		r.status = string(res.Outcome)
		r.step = res.Step
		r.sensorState = statusShort(res)
		switch res.Outcome {
		case provision.OutcomeDone:
			r.progress = 1
			switch {
			case res.Reverified:
				// An earlier attempt applied this bundle: nothing was
				// uploaded or applied again, only confirmed and verified.
				r.status = "done, re-verified"
				r.result = "re-verified only (applied earlier): serves " + short(res.ServedFingerprint)
			case res.CertificateNote != "":
				r.result = res.CertificateNote + ", console serves " + short(res.ServedFingerprint)
			default:
				r.result = "certificate verified " + short(res.ServedFingerprint)
			}
			for _, l := range statusLines(res) {
				m.appendLog(r, l)
			}
			r.reverified = res.Reverified
			r.findings = nil
		case provision.OutcomeNotStarted:
			r.result = "not started"
		default:
			f := pushProblem(res)
			r.result = f.Code + " " + f.Message
			r.findings = []certs.Finding{f}
			r.findings = append(r.findings, r.gate...)
			r.findings = append(r.findings, applianceFindings(res)...)
			m.appendLog(r, "failed: "+f.Code+" "+f.Message+". Fix: "+f.Hint)
		}
		m.appendLog(r, fmt.Sprintf("ended %s after %d attempt(s)", res.Outcome, rr.Attempts))
	}
	m.dirty = true
}

// validated records a validation asked for after the run (the sensor
// menu); safe from any goroutine.
func (m *fleetModel) validated(sensor string, v *provision.Validation, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.index[sensor]
	if !ok {
		return
	}
	r := &m.rows[i]
	errText := ""
	if err != nil {
		errText = problemFor("Validating", err).Message
	}
	switch {
	case v != nil:
		r.validation, r.validationProblem = v.Summary(), len(v.Problems()) > 0
	default:
		r.validation, r.validationProblem = "not validated: "+errText, true
	}
	m.logValidation(r, v, errText)
	m.dirty = true
}

// logValidation writes each check of a validation into the row's log.
func (m *fleetModel) logValidation(r *fleetRow, v *provision.Validation, errText string) {
	switch {
	case v != nil:
		m.appendLog(r, "validate: "+v.Verdict)
		for _, c := range v.Checks {
			what := c.Check
			if c.Target != "" {
				what += " " + c.Target
			}
			m.appendLog(r, "  "+what+": "+statusWords(c.Status)+", "+c.Detail)
		}
	case errText != "":
		m.appendLog(r, "validate: not validated: "+errText)
	}
}

// takeDirty reports and clears whether anything changed since the last call.
func (m *fleetModel) takeDirty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.dirty
	m.dirty = false
	return d
}

// failed names the rows whose last run did not end done.
func (m *fleetModel) failed() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for _, r := range m.rows {
		if r.outcome != "" && r.outcome != provision.OutcomeDone {
			out[r.row.Sensor] = true
		}
	}
	return out
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16] + "…"
	}
	return fp
}

// summaryNames is how many sensors a summary names before "and N more".
const summaryNames = 6

// checkAttention says which sensors the offline check found something
// about, each with its address and how many errors or warnings, and counts
// the rest.
func (m *fleetModel) checkAttention() (need []string, ok int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rows {
		why := ""
		errs, warns := countSeverity(r.findings)
		switch {
		case errs > 0:
			why = plural(errs, "error")
		case warns > 0:
			why = plural(warns, "warning")
		}
		if why == "" {
			ok++
			continue
		}
		need = append(need, r.row.Sensor+" at "+r.row.SSHAddr()+" ("+why+")")
	}
	return need, ok
}

// names joins up to summaryNames items, then says how many more.
func names(items []string) string {
	if len(items) <= summaryNames {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:summaryNames], "; ") + fmt.Sprintf("; and %d more (see the table)", len(items)-summaryNames)
}
