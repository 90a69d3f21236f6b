package provision

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/internal/sheetcsv"
)

// WriteJSON writes the report as one indented JSON document.
func (r *BatchReport) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// ReadReport reads a report WriteJSON wrote.
func ReadReport(path string) (*BatchReport, error) {
	b, err := safefile.ReadFile(path, 64<<20)
	if err != nil {
		return nil, err
	}
	var r BatchReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &r, nil
}

// NeedsAttention reports whether the engineer has something to do about
// the row: it did not end done, or its validation found a problem or a
// warning (a gateway that does not answer, a SPAN port without OT traffic).
func (x RowResult) NeedsAttention() bool {
	return x.Result.Outcome != OutcomeDone || len(x.Result.Validation.Problems()) > 0
}

// NeedsPush reports whether pushing the row again may help: it did not end
// done (the retry inventory holds these rows).
func (x RowResult) NeedsPush() bool { return x.Result.Outcome != OutcomeDone }

// ValidationText is the row's validation in one line: "validated", the
// verdict with its worst problem, why there is none, or "" when it was not
// asked for.
func (x RowResult) ValidationText() string {
	switch {
	case x.Result.Validation != nil:
		return x.Result.Validation.Summary()
	case x.Result.ValidationError != "":
		return "not validated: " + x.Result.ValidationError
	}
	return ""
}

// Attention splits the rows into those that need attention and those done,
// each in inventory order: reports name the first before the rest.
func (r *BatchReport) Attention() (attention, done []RowResult) {
	for _, x := range r.Results {
		if x.NeedsAttention() {
			attention = append(attention, x)
		} else {
			done = append(done, x)
		}
	}
	return attention, done
}

// Address is where the sensor was reached: its address from the
// inventory, and where it answers now when the push moved it.
func (x RowResult) Address() string {
	from := x.Row.SSHAddr()
	if x.Row.Address == "" {
		from = x.Result.FinalAddr
	}
	if to := x.Result.FinalAddr; to != "" && to != from {
		return from + " → " + to
	}
	return from
}

// OutcomeText is the outcome in words: "done", "done (re-verified: it
// already ran this bundle)", "done (earlier run)", "refused", ...
func (x RowResult) OutcomeText() string {
	s := strings.ReplaceAll(string(x.Result.Outcome), "_", " ")
	switch {
	case x.Resumed:
		s += " (earlier run)"
	case x.Result.Outcome == OutcomeDone && x.Result.Reverified:
		s += " (re-verified: it already ran this bundle)"
	}
	if x.Retried {
		s += ", on retry"
	}
	return s
}

// Verdict is the row's result in one line: for a sensor done, what was
// proven (activated, the certificate the console serves); otherwise what
// is wrong, with its code.
func (x RowResult) Verdict() string {
	res := x.Result
	if res.Outcome == OutcomeDone {
		var parts []string
		if res.Activated {
			parts = append(parts, "activated")
		}
		cert := "certificate proven over TLS"
		if res.CertificateNote != "" {
			cert = "certificate kept (" + res.CertificateNote + ")"
		}
		if res.ServedFingerprint != "" {
			cert += " sha256:" + res.ServedFingerprint
		}
		if res.CertIssued != "" {
			cert += " (" + res.CertIssued + ")"
		}
		parts = append(parts, cert)
		if v := x.ValidationText(); v != "" {
			parts = append(parts, v)
		}
		return strings.Join(parts, "; ")
	}
	if res.Outcome == OutcomeNotStarted {
		return "not started"
	}
	var b strings.Builder
	b.WriteString(res.Code)
	if res.ApplianceCode != "" {
		b.WriteString(" (" + res.ApplianceCode + ")")
	}
	if c, ok := LookupPushCode(res.Code); ok {
		b.WriteString(" " + c.Message)
	}
	if res.RollbackReason != "" {
		b.WriteString(": " + res.RollbackReason)
	}
	return strings.TrimSpace(b.String())
}

// Total is the time the row's push took, all steps together.
func (x RowResult) Total() time.Duration {
	var d time.Duration
	for _, s := range x.Result.Steps {
		d += s.Duration
	}
	return d
}

// Merge returns the site's combined report after a retry run: each sensor
// the retry reached carries the retry's result (its attempts added to the
// earlier ones, Retried set); sensors the retry did not reach keep their
// earlier result; sensors only the retry knows are added. The inventory and
// start are the site's; the finish and any stop are the retry's.
func (r *BatchReport) Merge(retry *BatchReport) *BatchReport {
	out := *r
	out.Results = append([]RowResult(nil), r.Results...)
	at := map[string]int{}
	for i, x := range out.Results {
		at[x.Row.Sensor] = i
	}
	for _, x := range retry.Results {
		if x.Result.Outcome == OutcomeNotStarted || x.Resumed {
			continue
		}
		x.Retried = true
		i, ok := at[x.Row.Sensor]
		if !ok {
			out.Results = append(out.Results, x)
			continue
		}
		x.Attempts += out.Results[i].Attempts
		out.Results[i] = x
	}
	out.Finished, out.Stopped = retry.Finished, retry.Stopped
	return &out
}

var reportCSVHeader = []string{"sensor", "line", "outcome", "attempts", "final_addr", "generation",
	"served_fingerprint_sha256", "activated", "rollback_reason", "error", "host_key_sha256", "steps", "code", "appliance_code", "fix",
	"address", "reverified", "verdict", "validation"}

// WriteCSV writes one line per sensor; "steps" holds step=seconds pairs.
// It is written for a spreadsheet (internal/sheetcsv): UTF-8 with a
// byte-order mark, the inventory's separator, formula cells neutralised.
func (r *BatchReport) WriteCSV(w io.Writer) error {
	cw := sheetcsv.NewWriter(w, r.Dialect)
	cw.Write(reportCSVHeader)
	for _, x := range r.Results {
		res := x.Result
		cw.Write([]string{x.Row.Sensor, strconv.Itoa(x.Row.Line), string(res.Outcome), strconv.Itoa(x.Attempts),
			res.FinalAddr, strconv.Itoa(res.Generation), res.ServedFingerprint, strconv.FormatBool(res.Activated),
			res.RollbackReason, res.Error, res.HostKey, stepSummary(res.Steps), res.Code, res.ApplianceCode, res.Fix,
			x.Address(), strconv.FormatBool(res.Reverified), x.Verdict(), x.ValidationText()})
	}
	return cw.Flush()
}

func stepSummary(st []StepTiming) string {
	var parts []string
	for _, s := range st {
		parts = append(parts, fmt.Sprintf("%s=%.2fs", s.Step, s.Duration.Seconds()))
	}
	return strings.Join(parts, " ")
}

// retryMarker opens a retry inventory's first line; the report stem it
// belongs to follows (RetryOf).
const retryMarker = "# tapline retry of "

// WriteRetryInventory writes an inventory holding only the rows that did
// not end done, with the original header, for `tapline batch run` again.
// Its first line, a comment, names the report stem it belongs to (of, such
// as "site" for site.report.json beside it), so that the retry run updates
// that combined report. It returns how many rows it wrote. Like the report,
// it is written for a spreadsheet, and reads back as the rows it came from.
func (r *BatchReport) WriteRetryInventory(w io.Writer, header []string, of string) (int, error) {
	cw := sheetcsv.NewWriter(w, r.Dialect)
	if of != "" {
		cw.Comment(fmt.Sprintf("%s%s: 'tapline batch run' on this file updates %s.report.json, .csv and .html beside it", retryMarker[2:], of, of))
	}
	cw.Write(header)
	n := 0
	for _, x := range r.Results {
		if !x.NeedsPush() || len(x.Row.Record) == 0 {
			continue
		}
		cw.Write(x.Row.Record)
		n++
	}
	return n, cw.Flush()
}

// RetryOf reads a retry inventory's first line: the stem of the site's
// report it belongs to, "" when the file is not a retry inventory.
func RetryOf(inventory string) string {
	f, err := os.Open(inventory)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	line = strings.TrimPrefix(line, "\uFEFF") // the byte-order mark a spreadsheet file starts with
	rest, ok := strings.CutPrefix(line, retryMarker)
	if !ok {
		return ""
	}
	stem, _, ok := strings.Cut(rest, ":")
	if !ok || stem == "" || strings.ContainsAny(stem, `/\`) || stem == "." || stem == ".." {
		return ""
	}
	return stem
}

// WriteReports writes stem.report.json, .report.csv and .report.html, and
// stem.retry.csv with the rows to run again (removed when every row ended
// done); each file is replaced atomically, 0600.
func WriteReports(rep *BatchReport, header []string, stem string) error {
	for _, w := range []struct {
		ext   string
		write func(io.Writer) error
	}{
		{".report.json", rep.WriteJSON}, {".report.csv", rep.WriteCSV}, {".report.html", rep.WriteHTML},
	} {
		if err := safefile.Write(stem+w.ext, 0o600, w.write); err != nil {
			return err
		}
	}
	retry := stem + ".retry.csv"
	if !rep.anyNeedsPush() {
		if err := os.Remove(retry); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	var b bytes.Buffer
	if _, err := rep.WriteRetryInventory(&b, header, filepath.Base(stem)); err != nil {
		return err
	}
	return safefile.WriteFile(retry, b.Bytes(), 0o600)
}

func (r *BatchReport) anyNeedsPush() bool {
	for _, x := range r.Results {
		if x.NeedsPush() {
			return true
		}
	}
	return false
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs": func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) },
	"utc":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tapline site report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.done{background:#e6f6e6}.rolled_back{background:#fff4d6}.failed,.refused{background:#fde2e2}.not_started{background:#eee}
code{font-size:12px;word-break:break-all}details summary{cursor:pointer}.fix{color:#444}
ul.attention li{margin:.2em 0}
</style></head><body>
<h1>Tapline site report</h1>
<p>Inventory <code>{{.R.Inventory}}</code>, started {{utc .R.Started}}, finished {{utc .R.Finished}}.
{{range $k, $v := .Counts}}{{$k}}: {{$v}}. {{end}}</p>
{{if .R.Stopped}}<p><strong>Stopped:</strong> {{.R.Stopped}}</p>{{end}}
{{if .Attention}}<h2>Needs attention ({{len .Attention}})</h2>
<ul class="attention">{{range .Attention}}<li><a href="#{{.Row.Sensor}}">{{.Row.Sensor}}</a> ({{.Address}}): {{.OutcomeText}}, {{.Verdict}}{{if .Result.Fix}} <span class="fix">Fix: {{.Result.Fix}}</span>{{end}}</li>
{{end}}</ul>{{else}}<h2>Every sensor is done</h2>{{end}}
{{if .Done}}<p><strong>Done ({{len .Done}}):</strong> {{range $i, $x := .Done}}{{if $i}}, {{end}}<a href="#{{$x.Row.Sensor}}">{{$x.Row.Sensor}}</a>{{if $x.Result.Reverified}} (re-verified){{end}}{{end}}.</p>{{end}}
<table><tr><th>Sensor</th><th>Address</th><th>Outcome</th><th>Result</th><th>Validate</th><th>Steps</th></tr>
{{range .Rows}}<tr class="{{.Result.Outcome}}" id="{{.Row.Sensor}}"><td>{{.Row.Sensor}}</td><td>{{.Address}}</td><td>{{.OutcomeText}}{{if gt .Attempts 1}} ({{.Attempts}} attempts){{end}}</td>
<td>{{.Verdict}}{{if .NeedsAttention}}{{if .Result.Error}}<br><code>{{.Result.Error}}</code>{{end}}{{if .Result.Fix}}<br><span class="fix">Fix: {{.Result.Fix}}</span>{{end}}{{range .Result.Findings}}<br>{{.Code}} {{.Message}}{{end}}{{end}}</td>
<td>{{with .Result.Validation}}{{.Verdict}}{{range .Problems}}<br>{{.Check}}{{if .Target}} {{.Target}}{{end}}: {{.Detail}}{{end}}{{if .Checks}}<details><summary>{{len .Checks}} checks</summary>{{range .Checks}}{{.Check}}{{if .Target}} {{.Target}}{{end}}: {{.Status}}, {{.Detail}}<br>{{end}}</details>{{end}}{{else}}{{if .Result.ValidationError}}not validated: {{.Result.ValidationError}}{{end}}{{end}}</td>
<td>{{if .Result.Steps}}<details><summary>{{secs .Total}}, {{len .Result.Steps}} steps{{if .Result.Generation}}, generation {{.Result.Generation}}{{end}}</summary>{{range .Result.Steps}}{{.Step}} {{secs .Duration}}<br>{{end}}{{if .Result.HostKey}}host key <code>{{.Result.HostKey}}</code>{{end}}</details>{{end}}</td></tr>
{{end}}</table></body></html>
`))

// WriteHTML writes one self-contained HTML page (no external resources):
// the sensors that need attention named first with their fix, then those
// done; one compact row per sensor, attention first, its steps folded.
func (r *BatchReport) WriteHTML(w io.Writer) error {
	att, done := r.Attention()
	return reportHTML.Execute(w, struct {
		R               *BatchReport
		Counts          map[Outcome]int
		Attention, Done []RowResult
		Rows            []RowResult
	}{r, r.Counts(), att, done, append(append([]RowResult(nil), att...), done...)})
}
