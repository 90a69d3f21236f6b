package provision

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/sheetcsv"
)

// WriteJSON writes the report as one indented JSON document.
func (r *BatchReport) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

var reportCSVHeader = []string{"sensor", "line", "outcome", "attempts", "final_addr", "generation",
	"served_fingerprint_sha256", "activated", "rollback_reason", "error", "host_key_sha256", "steps", "code", "appliance_code", "fix"}

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
			res.RollbackReason, res.Error, res.HostKey, stepSummary(res.Steps), res.Code, res.ApplianceCode, res.Fix})
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

// WriteRetryInventory writes an inventory holding only the rows that did
// not end done, with the original header, for `tapline batch run` again.
// It returns how many rows it wrote. Like the report, it is written for a
// spreadsheet, and reads back as the rows it came from.
func (r *BatchReport) WriteRetryInventory(w io.Writer, header []string) (int, error) {
	cw := sheetcsv.NewWriter(w, r.Dialect)
	cw.Write(header)
	n := 0
	for _, x := range r.Results {
		if x.Result.Outcome == OutcomeDone {
			continue
		}
		cw.Write(x.Row.Record)
		n++
	}
	return n, cw.Flush()
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs": func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) },
	"utc":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tapline batch report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.done{background:#e6f6e6}.rolled_back{background:#fff4d6}.failed,.refused{background:#fde2e2}.not_started{background:#eee}
code{font-size:12px;word-break:break-all}
</style></head><body>
<h1>Tapline batch report</h1>
<p>Inventory <code>{{.R.Inventory}}</code>, started {{utc .R.Started}}, finished {{utc .R.Finished}}.
{{range $k, $v := .Counts}}{{$k}}: {{$v}}. {{end}}</p>
{{if .R.Stopped}}<p><strong>Stopped:</strong> {{.R.Stopped}}</p>{{end}}
<table><tr><th>Sensor</th><th>Outcome</th><th>Attempts</th><th>Address</th><th>Generation</th><th>Activated</th><th>Served certificate (SHA-256)</th><th>Steps</th><th>Detail</th></tr>
{{range .R.Results}}<tr class="{{.Result.Outcome}}"><td>{{.Row.Sensor}}</td><td>{{.Result.Outcome}}{{if .Resumed}} (earlier run){{end}}</td><td>{{.Attempts}}</td>
<td>{{.Result.FinalAddr}}</td><td>{{.Result.Generation}}</td><td>{{.Result.Activated}}</td><td><code>{{.Result.ServedFingerprint}}</code></td>
<td>{{range .Result.Steps}}{{.Step}} {{secs .Duration}}<br>{{end}}</td>
<td>{{if .Result.Code}}<strong>{{.Result.Code}}</strong>{{if .Result.ApplianceCode}} ({{.Result.ApplianceCode}}){{end}} {{end}}{{if .Result.RollbackReason}}rolled back: {{.Result.RollbackReason}}<br>{{end}}{{.Result.Error}}{{if .Result.Fix}}<br>Fix: {{.Result.Fix}}{{end}}</td></tr>
{{end}}</table></body></html>
`))

// WriteHTML writes one self-contained HTML page (no external resources).
func (r *BatchReport) WriteHTML(w io.Writer) error {
	return reportHTML.Execute(w, struct {
		R      *BatchReport
		Counts map[Outcome]int
	}{r, r.Counts()})
}
