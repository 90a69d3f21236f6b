package console

import (
	"html/template"
	"time"
)

// funcs are the page helpers: when formats an RFC 3339 time from the
// status JSON for people ("2027-11-21 21:50 UTC").
var funcs = template.FuncMap{
	"when": func(v any) string {
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return s
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}

const head = `<!doctype html><html><head><meta charset="utf-8"><title>sensorcore</title>
<style>body{font-family:sans-serif;margin:2em;max-width:52em}th{text-align:left;padding-right:1em;vertical-align:top}.err{color:#b00}.warn{color:#a60}.ok{color:#070}</style></head><body>`

var loginTmpl = template.Must(template.New("login").Funcs(funcs).Parse(head + `<h1>Sign in</h1>
{{with .}}{{with .Error}}<p class="err">{{.}}</p>{{end}}{{end}}
<form method="post" action="/login"><p><label>User <input name="user" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button>Sign in</button></p></form>
<p>First sign-in: users <b>admin</b> and <b>support</b>; the initial passwords are in
/etc/sensorcore/console-initial-passwords on the appliance, and a new password is asked for at once.
Five failed sign-ins lock the account for 5 minutes.</p></body></html>`))

var passwordTmpl = template.Must(template.New("password").Funcs(funcs).Parse(head + `<h1>Set a new password for {{.User}}</h1>
<p>At least 8 characters with upper case, lower case, a digit and a symbol.</p>
{{with .Error}}<p class="err">{{.}}</p>{{end}}
<form method="post" action="/password"><p><label>New password <input name="new" type="password" autocomplete="new-password"></label></p>
<p><label>Again <input name="confirm" type="password" autocomplete="new-password"></label></p>
<p><button>Change password</button></p></form></body></html>`))

var overviewTmpl = template.Must(template.New("overview").Funcs(funcs).Parse(head + `<h1>{{.S.sensor_name}}</h1>
<p>Signed in as {{.User}}. <form method="post" action="/logout" style="display:inline"><button>Sign out</button></form>
{{if .Monitor}} <a href="/monitor/">Devices and alerts</a>{{end}}</p>
<h2>Activation</h2>{{with .S.activation}}<table>
<tr><th>State</th><td>{{if .expired}}<b class="err">Expired: monitoring continues; upload a renewed activation file</b>{{else}}<b class="ok">Activated</b>{{end}}</td></tr>
{{range $.S.activation_findings}}<tr><th></th><td class="{{if eq .severity "error"}}err{{else}}warn{{end}}">{{.code}}: {{.message}}. {{.hint}}</td></tr>{{end}}
<tr><th>Sensor</th><td>{{.sensor_name}} ({{.sensor_id}})</td></tr><tr><th>Site / zone</th><td>{{.site}} / {{.zone}}</td></tr>
<tr><th>Mode</th><td>{{.mode}}</td></tr><tr><th>Plan</th><td>{{.plan_id}}, {{.device_count}} devices</td></tr>
<tr><th>Issued</th><td>{{when .issued_at}}</td></tr>
<tr><th>Expires</th><td>{{if .expires}}{{when .expires}}{{else}}never (cloud-connected){{end}}</td></tr>
</table>{{else}}<p class="err">Not activated.</p>{{end}}
<h2>Certificate</h2>{{with .S.certificate}}<table><tr><th>Subject</th><td>{{.subject}}</td></tr>
<tr><th>SHA-256</th><td><code>{{.fingerprint_sha256}}</code></td></tr><tr><th>Expires</th><td>{{when .not_after}}</td></tr>
{{if .self_signed}}<tr><th></th><td class="err">Self-signed (not provisioned)</td></tr>{{end}}</table>{{end}}
<h2>Network</h2>{{with .S.network}}<table><tr><th>Interface</th><td>{{.interface}}</td></tr>
<tr><th>Address</th><td>{{.address}} / {{.mask}}</td></tr><tr><th>Gateway</th><td>{{.gateway}}</td></tr>
<tr><th>DNS</th><td>{{range .dns}}{{.}} {{end}}</td></tr><tr><th>Hostname</th><td>{{.hostname}}</td></tr></table>{{else}}<p>Not configured.</p>{{end}}
<h2>System</h2><table><tr><th>Version</th><td>{{.S.version}}</td></tr><tr><th>Generation</th><td>{{.S.generation}}{{if .S.pending_confirmation}} <span class="warn">(awaiting confirmation until {{when .S.rollback_deadline}})</span>{{end}}</td></tr>
{{with .S.last_rollback_reason}}<tr><th>Last rollback</th><td>{{.}}</td></tr>{{end}}</table></body></html>`))
