package monitor

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"

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
//	GET  /api/v1/operations/feed  the operations log after a cursor (OperationsAfter)
//
// Pages are server-rendered HTML content in the console's layout (package
// page), with no inline style or script. The console authenticates before
// calling it and frames its pages; this handler does neither. The console
// must also apply its CSRF protection to the POST routes.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /devices", m.devicesPage)
	mux.HandleFunc("GET /alerts", m.alertsPage)
	mux.HandleFunc("GET /operations", m.operationsPage)
	mux.HandleFunc("GET /devices/{ip}/operations", m.operationsPage)
	mux.HandleFunc("GET /api/v1/operations", func(w http.ResponseWriter, r *http.Request) {
		ip, ok := ipParam(w, r.URL.Query().Get("ip"))
		if !ok {
			return
		}
		ops, err := m.Operations(ip, maxShownOperations)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if ops == nil {
			ops = []json.RawMessage{}
		}
		writeJSON(w, ops)
	})
	mux.HandleFunc("GET /api/v1/operations/feed", m.feedRoute)
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
// script: the console's Content-Security-Policy forbids both. Parsed on
// first use, not at the start of every sensorcore command.
var (
	devicesBody = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("devices").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<p>{{len .Assets}} devices. {{.Stats.Packets}} packets, {{.Stats.KernelDrops}} kernel drops{{if .Stats.Learning}}, learning{{end}}.</p>
<table class="list"><tr><th>Address</th><th>MAC</th><th>MAC vendor</th><th>Protocols</th><th>Roles</th><th>Identity</th><th>First seen</th><th>Last seen</th><th>Peers</th><th>Operations log</th></tr>
{{range .Assets}}<tr><td>{{join .IPs ", "}}{{if .Router}} (router){{end}}{{if .Hostname}}<br>{{.Hostname}}{{end}}</td><td>{{.MAC}}</td><td>{{.Vendor}}</td><td>{{join .Protocols ", "}}</td><td>{{join .Roles ", "}}</td>
<td>{{with .Identity}}{{.Vendor}} {{.Model}}{{if .Firmware}} fw {{.Firmware}}{{end}}{{if .Serial}} s/n {{.Serial}}{{end}}{{if .Name}} "{{.Name}}"{{end}}{{end}}</td>
<td>{{.FirstSeen.Format "2006-01-02 15:04:05"}}</td><td>{{.LastSeen.Format "2006-01-02 15:04:05"}}</td><td>{{len .Peers}}</td>
<td>{{range .IPs}}<a href="devices/{{.}}/operations">{{.}}</a> {{end}}</td></tr>
{{end}}</table>`))
	})
	operationsBody = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("operations").Parse(`<p>The last {{len .Ops}} operations (at most {{.Max}} are shown){{if .IP.IsValid}} where {{.IP}} is the client or the server{{end}}, oldest first.</p>
<table class="list"><tr><th>Time</th><th>Protocol</th><th>Client</th><th>Server</th><th>Function</th><th>Object</th><th>Values</th><th>Result</th><th>Latency</th><th>Id</th></tr>
{{range .Ops}}<tr><td>{{.Time.UTC.Format "2006-01-02 15:04:05.000000"}}</td><td>{{.Protocol}}</td><td>{{.Client}}</td><td>{{.Server}}</td>
<td>{{.FunctionName}}{{with .Function}} ({{.}}){{end}}{{if .Action}}<br>{{.Action}}{{end}}</td>
<td>{{.Summary}}</td>
<td>{{range $i, $v := .Values}}{{if $i}}, {{end}}{{$v}}{{end}}</td><td>{{.Result}}{{with .Status}} ({{.}}){{end}}</td><td>{{with .LatencyUS}}{{.}} µs{{end}}</td><td>{{.ID}}</td></tr>
{{end}}</table>`))
	})
	alertsBody = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("alerts").Parse(`<p>{{len .Alerts}} alerts.</p>
<table class="list"><tr><th>Id</th><th>Time</th><th>Severity</th><th>Title</th><th>Message</th><th>Count</th><th>Status</th></tr>
{{range .Alerts}}<tr class="{{.Severity}} {{.Status}}"><td>{{.ID}}</td><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{.Severity}}</td><td>{{.Title}}</td><td>{{.Message}}</td><td>{{.Count}}</td>
<td>{{.Status}}{{if eq .Status "new"}} <form class="inline" method="post" action="alerts/{{.ID}}/ack"><button>Acknowledge</button></form>{{end}}</td></tr>
{{end}}</table>`))
	})
)

func (m *Monitor) devicesPage(w http.ResponseWriter, r *http.Request) {
	page.Render(w, r, page.Page{Title: "Devices", Nav: page.Devices, Body: devicesBody(), Data: map[string]any{"Assets": m.Assets(), "Stats": m.Stats()}})
}

func (m *Monitor) alertsPage(w http.ResponseWriter, r *http.Request) {
	alerts := m.Alerts()
	// newest first on the page
	for i, j := 0, len(alerts)-1; i < j; i, j = i+1, j-1 {
		alerts[i], alerts[j] = alerts[j], alerts[i]
	}
	// in the browser's language where the rule gave one (a plugin's)
	if langs := AcceptLanguages(r.Header.Get("Accept-Language")); len(langs) > 0 {
		for i := range alerts {
			t := alerts[i].In(langs...)
			alerts[i].Title, alerts[i].Message = t.Title, t.Message
		}
	}
	page.Render(w, r, page.Page{Title: "Alerts", Nav: page.Alerts, Body: alertsBody(), Data: map[string]any{"Alerts": alerts}})
}

// maxShownOperations bounds the operations a page or API call returns.
const maxShownOperations = 500

// ipParam parses an address parameter; empty is the zero Addr (no
// filter). A bad one is answered with 400.
func ipParam(w http.ResponseWriter, v string) (netip.Addr, bool) {
	if v == "" {
		return netip.Addr{}, true
	}
	ip, err := netip.ParseAddr(v)
	if err != nil {
		http.Error(w, "ip must be an IPv4 or IPv6 address", http.StatusBadRequest)
		return netip.Addr{}, false
	}
	return ip, true
}

// operationsPage shows the stored operations log: of one device
// (/devices/IP/operations, or ?ip=) or of all.
func (m *Monitor) operationsPage(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("ip")
	if v == "" {
		v = r.URL.Query().Get("ip")
	}
	ip, ok := ipParam(w, v)
	if !ok {
		return
	}
	raw, err := m.Operations(ip, maxShownOperations)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ops := make([]Operation, 0, len(raw))
	for _, l := range raw {
		var op Operation
		if json.Unmarshal(l, &op) == nil {
			ops = append(ops, op)
		}
	}
	title, nav := "Operations log", page.Operations
	if ip.IsValid() {
		title, nav = "Operations of "+ip.String(), page.Devices
	}
	page.Render(w, r, page.Page{Title: title, Nav: nav, Body: operationsBody(), Data: map[string]any{"IP": ip, "Ops": ops, "Max": maxShownOperations}})
}

// AcceptLanguages are the languages of an Accept-Language header, most
// wanted first (by q, then order), lower case, each followed by its
// primary subtag ("de-AT" gives "de-at", "de"); q=0 and malformed entries
// are left out, and at most 16 are read.
func AcceptLanguages(h string) []string {
	type lq struct {
		tag string
		q   float64
	}
	var ls []lq
	for i, part := range strings.Split(h, ",") {
		if i == 16 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" || tag == "*" || len(tag) > 35 || strings.Trim(tag, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > 0 {
			ls = append(ls, lq{tag, q})
		}
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].q > ls[j].q })
	var out []string
	seen := map[string]bool{}
	for _, l := range ls {
		for _, t := range []string{l.tag, strings.SplitN(l.tag, "-", 2)[0]} {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}
