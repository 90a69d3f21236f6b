package console

import "html/template"

const head = `<!doctype html><html><head><meta charset="utf-8"><title>sensorcore</title>
<style>body{font-family:sans-serif;margin:2em;max-width:52em}th{text-align:left;padding-right:1em}.err{color:#b00}</style></head><body>`

var loginTmpl = template.Must(template.New("login").Parse(head + `<h1>Sign in</h1>
{{with .}}{{with .Error}}<p class="err">{{.}}</p>{{end}}{{end}}
<form method="post" action="/login"><p><label>User <input name="user" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button>Sign in</button></p></form></body></html>`))

var passwordTmpl = template.Must(template.New("password").Parse(head + `<h1>Set a new password for {{.User}}</h1>
<p>At least 8 characters with upper case, lower case, a digit and a symbol.</p>
{{with .Error}}<p class="err">{{.}}</p>{{end}}
<form method="post" action="/password"><p><label>New password <input name="new" type="password" autocomplete="new-password"></label></p>
<p><label>Again <input name="confirm" type="password" autocomplete="new-password"></label></p>
<p><button>Change password</button></p></form></body></html>`))

var overviewTmpl = template.Must(template.New("overview").Parse(head + `<h1>{{.S.sensor_name}}</h1>
<p>Signed in as {{.User}}. <form method="post" action="/logout" style="display:inline"><button>Sign out</button></form>
{{if .Monitor}} <a href="/monitor/">Devices and alerts</a>{{end}}</p>
<h2>Activation</h2>{{with .S.activation}}<table>
<tr><th>Sensor</th><td>{{.sensor_name}} ({{.sensor_id}})</td></tr><tr><th>Site / zone</th><td>{{.site}} / {{.zone}}</td></tr>
<tr><th>Mode</th><td>{{.mode}}</td></tr><tr><th>Plan</th><td>{{.plan_id}}, {{.device_count}} devices</td></tr>
<tr><th>Expires</th><td>{{if .expires}}{{.expires}}{{if .expired}} <b class="err">EXPIRED: monitoring continues; upload a renewed file</b>{{end}}{{else}}never (cloud-connected){{end}}</td></tr>
</table>{{else}}<p class="err">Not activated.</p>{{end}}
<h2>Certificate</h2>{{with .S.certificate}}<table><tr><th>Subject</th><td>{{.subject}}</td></tr>
<tr><th>SHA-256</th><td><code>{{.fingerprint_sha256}}</code></td></tr><tr><th>Expires</th><td>{{.not_after}}</td></tr>
{{if .self_signed}}<tr><th></th><td class="err">Self-signed (not provisioned)</td></tr>{{end}}</table>{{end}}
<h2>Network</h2>{{with .S.network}}<table><tr><th>Interface</th><td>{{.interface}}</td></tr>
<tr><th>Address</th><td>{{.address}} / {{.mask}}</td></tr><tr><th>Gateway</th><td>{{.gateway}}</td></tr>
<tr><th>DNS</th><td>{{range .dns}}{{.}} {{end}}</td></tr><tr><th>Hostname</th><td>{{.hostname}}</td></tr></table>{{else}}<p>Not configured.</p>{{end}}
<h2>System</h2><table><tr><th>Version</th><td>{{.S.version}}</td></tr><tr><th>Generation</th><td>{{.S.generation}}{{if .S.pending_confirmation}} (awaiting confirmation until {{.S.rollback_deadline}}){{end}}</td></tr>
{{with .S.last_rollback_reason}}<tr><th>Last rollback</th><td>{{.}}</td></tr>{{end}}</table></body></html>`))
