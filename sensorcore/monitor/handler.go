package monitor

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/tapline/tapline/sensorcore/console/page"
)

// Handler serves, relative to where the console mounts it:
//
//	GET  /devices                 the Devices page (HTML)
//	GET  /alerts                  the Alerts page (HTML)
//	POST /alerts/{id}/ack         acknowledge, then back to the Alerts page
//	GET  /api/v1/assets           the inventory as JSON
//	GET  /api/v1/alerts           the alerts as JSON
//	POST /api/v1/alerts/{id}/ack  acknowledge; 204, or 404 for an unknown id
//	GET  /api/v1/stats            counters as JSON
//
// Pages are server-rendered HTML content in the console's layout (package
// page), with no inline style or script. The console authenticates before
// calling it and frames its pages; this handler does neither. The console
// must also apply its CSRF protection to the POST routes.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /devices", m.devicesPage)
	mux.HandleFunc("GET /alerts", m.alertsPage)
	mux.HandleFunc("POST /alerts/{id}/ack", func(w http.ResponseWriter, r *http.Request) {
		if m.ackFrom(w, r) {
			// Relative as sent: the browser resolves it against the URL it
			// posted to, wherever the console mounts this handler
			// (http.Redirect would resolve it against the path left after
			// the console's prefix is stripped).
			w.Header().Set("Location", "../../alerts")
			w.WriteHeader(http.StatusSeeOther)
		}
	})
	mux.HandleFunc("GET /api/v1/assets", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, m.Assets()) })
	mux.HandleFunc("GET /api/v1/alerts", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, m.Alerts()) })
	mux.HandleFunc("GET /api/v1/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, m.Stats()) })
	mux.HandleFunc("POST /api/v1/alerts/{id}/ack", func(w http.ResponseWriter, r *http.Request) {
		if m.ackFrom(w, r) {
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return mux
}

func (m *Monitor) ackFrom(w http.ResponseWriter, r *http.Request) bool {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "alert id must be a number", http.StatusBadRequest)
		return false
	}
	if err := m.Ack(id); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// The pages' content; the console frames it (package page: the sensor's
// name and generation, the navigation, the stylesheet). No inline style or
// script: the console's Content-Security-Policy forbids both.
var (
	devicesBody = template.Must(template.New("devices").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<p>{{len .Assets}} devices. {{.Stats.Packets}} packets, {{.Stats.KernelDrops}} kernel drops{{if .Stats.Learning}}, learning{{end}}.</p>
<table class="list"><tr><th>Address</th><th>MAC</th><th>MAC vendor</th><th>Protocols</th><th>Roles</th><th>Identity</th><th>First seen</th><th>Last seen</th><th>Peers</th></tr>
{{range .Assets}}<tr><td>{{join .IPs ", "}}{{if .Router}} (router){{end}}{{if .Hostname}}<br>{{.Hostname}}{{end}}</td><td>{{.MAC}}</td><td>{{.Vendor}}</td><td>{{join .Protocols ", "}}</td><td>{{join .Roles ", "}}</td>
<td>{{with .Identity}}{{.Vendor}} {{.Model}}{{if .Firmware}} fw {{.Firmware}}{{end}}{{if .Serial}} s/n {{.Serial}}{{end}}{{if .Name}} "{{.Name}}"{{end}}{{end}}</td>
<td>{{.FirstSeen.Format "2006-01-02 15:04:05"}}</td><td>{{.LastSeen.Format "2006-01-02 15:04:05"}}</td><td>{{len .Peers}}</td></tr>
{{end}}</table>`))
	alertsBody = template.Must(template.New("alerts").Parse(`<p>{{len .Alerts}} alerts.</p>
<table class="list"><tr><th>Id</th><th>Time</th><th>Severity</th><th>Title</th><th>Message</th><th>Count</th><th>Status</th></tr>
{{range .Alerts}}<tr class="{{.Severity}} {{.Status}}"><td>{{.ID}}</td><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{.Severity}}</td><td>{{.Title}}</td><td>{{.Message}}</td><td>{{.Count}}</td>
<td>{{.Status}}{{if eq .Status "new"}} <form class="inline" method="post" action="alerts/{{.ID}}/ack"><button>Acknowledge</button></form>{{end}}</td></tr>
{{end}}</table>`))
)

func (m *Monitor) devicesPage(w http.ResponseWriter, r *http.Request) {
	page.Render(w, r, page.Page{Title: "Devices", Nav: page.Devices, Body: devicesBody, Data: map[string]any{"Assets": m.Assets(), "Stats": m.Stats()}})
}

func (m *Monitor) alertsPage(w http.ResponseWriter, r *http.Request) {
	alerts := m.Alerts()
	// newest first on the page
	for i, j := 0, len(alerts)-1; i < j; i, j = i+1, j-1 {
		alerts[i], alerts[j] = alerts[j], alerts[i]
	}
	page.Render(w, r, page.Page{Title: "Alerts", Nav: page.Alerts, Body: alertsBody, Data: map[string]any{"Alerts": alerts}})
}
