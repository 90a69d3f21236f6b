package page

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"sync"
	"time"
)

// Navigation keys: which entry a page belongs to.
const (
	Overview   = "overview"
	Devices    = "devices"
	Alerts     = "alerts"
	Operations = "operations"
)

// NavItem is one entry of the navigation column.
type NavItem struct {
	Key   string
	Label string
	Href  string
	Icon  template.HTML // an inline SVG drawn in the text colour
}

// Nav is the navigation, in order. The monitoring pages live under
// /monitor/ (the console mounts the monitor's handler there).
var Nav = []NavItem{
	{Overview, "Overview", "/", iconHome},
	{Devices, "Devices", "/monitor/devices", iconComputer},
	{Alerts, "Alerts", "/monitor/alerts", iconWarning},
	{Operations, "Operations log", "/monitor/operations", iconHistory},
}

// Frame is what every signed-in page shows around its content.
type Frame struct {
	Sensor     string // the sensor's name
	Generation int    // the configuration generation it runs
	Pending    bool   // the generation awaits confirmation
	User       string // who is signed in
}

type frameKey struct{}

// WithFrame returns ctx carrying f, for the pages rendered under it.
func WithFrame(ctx context.Context, f Frame) context.Context {
	return context.WithValue(ctx, frameKey{}, f)
}

// FrameFrom returns the frame in ctx, if any.
func FrameFrom(ctx context.Context) (Frame, bool) {
	f, ok := ctx.Value(frameKey{}).(Frame)
	return f, ok
}

// Page is one page to render.
type Page struct {
	Title  string
	Nav    string             // the navigation entry it belongs to
	Body   *template.Template // executed with Data into the content slot
	Data   any
	Status int // HTTP status; 0 is 200
}

// Render writes p inside the layout, framed with the Frame in r's context;
// without one (before sign-in) the page stands alone, with no navigation
// and nothing about the sensor.
func Render(w http.ResponseWriter, r *http.Request, p Page) {
	var body bytes.Buffer
	if err := p.Body.Execute(&body, p.Data); err != nil {
		http.Error(w, "console: page "+p.Title+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	f, framed := FrameFrom(r.Context())
	var out bytes.Buffer
	err := layout().Execute(&out, map[string]any{
		"Title": p.Title, "Active": p.Nav, "Nav": Nav, "Frame": f, "Framed": framed,
		"Content": template.HTML(body.String()), // the body template escaped its data
	})
	if err != nil {
		http.Error(w, "console: layout: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if p.Status != 0 {
		w.WriteHeader(p.Status)
	}
	w.Write(out.Bytes())
}

// Funcs are helpers for content templates: when formats an RFC 3339 time
// (a string from JSON, or a time.Time) for people ("2027-11-21 21:50 UTC").
func Funcs() template.FuncMap {
	return template.FuncMap{
		"when": func(v any) string {
			var t time.Time
			switch x := v.(type) {
			case time.Time:
				t = x
			case *time.Time:
				if x == nil {
					return ""
				}
				t = *x
			case string:
				p, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					return x
				}
				t = p
			default:
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
	}
}

// Lazy is a template parsed on its first use: every sensorcore command
// links the console's pages, and parsing them all at start would cost each
// run of `sensorcore analyze` its share.
type Lazy func() *template.Template

// New is a content template with Funcs, parsed on first use.
func New(name, text string) Lazy {
	return sync.OnceValue(func() *template.Template {
		return template.Must(template.New(name).Funcs(Funcs()).Parse(text))
	})
}

//go:embed static
var static embed.FS

// Static serves the stylesheet and the icon under /static/.
func Static() http.Handler {
	sub, _ := fs.Sub(static, "static")
	fsrv := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

var layout = Lazy(sync.OnceValue(func() *template.Template {
	return template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}{{if .Framed}} · {{.Frame.Sensor}}{{else}} · Tapline sensor{{end}}</title>
<link rel="stylesheet" href="/static/console.css"><link rel="icon" href="/static/icon.svg" type="image/svg+xml"></head>
{{if .Framed}}<body class="framed">
<nav class="side" aria-label="Sections">
{{range .Nav}}<a href="{{.Href}}"{{if eq .Key $.Active}} class="current" aria-current="page"{{end}}>{{.Icon}}<span>{{.Label}}</span></a>
{{end}}</nav>
<div class="main">
<header class="top"><div class="ident"><span class="sensor">{{.Frame.Sensor}}</span> <span class="gen">generation {{.Frame.Generation}}{{if .Frame.Pending}}, awaiting confirmation{{end}}</span></div>
<div class="who"><span>{{.Frame.User}}</span><form method="post" action="/logout"><button>Sign out</button></form></div></header>
<main>
<h1>{{.Title}}</h1>
{{.Content}}
</main></div>
{{else}}<body class="bare">
<main>
<div class="brand">Tapline sensor</div>
<h1>{{.Title}}</h1>
{{.Content}}
</main>
{{end}}</body></html>
`))
}))
