package console

import (
	"github.com/tapline/tapline/sensorcore/console/page"
)

// The console's own pages: content for the layout's slot (package page).

var loginBody = page.New("login", `{{with .Error}}<p class="err">{{.}}</p>{{end}}
<form method="post" action="/login">
<label>User name<input name="user" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button class="primary">Sign in</button>
</form>
<p class="hint">At the first sign-in, use the initial password delivered with the sensor; a new password is asked for at once. 5 failed sign-ins lock the account for a while.</p>`)

var passwordBody = page.New("password", `{{if .Must}}<p class="notice">Set a password of your own before using the console.</p>{{end}}
{{with .Error}}<p class="err">{{.}}</p>{{end}}
<div class="card narrow">
<form method="post" action="/password">
<label>Current password<input name="current" type="password" autocomplete="current-password" required autofocus></label>
<label>New password<input name="new" type="password" autocomplete="new-password" required></label>
<label>New password again<input name="confirm" type="password" autocomplete="new-password" required></label>
<button class="primary">Change password</button>
</form>
<p class="hint">At least 8 characters with upper case, lower case, a digit and a symbol. Every other session of {{.User}} ends.</p>
</div>`)

var overviewBody = page.New("overview", `<div class="grid">
<section class="card wide"><h2>Components</h2>
{{if .ComponentsErr}}<p class="err">{{.ComponentsErr}}</p>{{else}}<table class="list"><tr><th>Component</th><th>State</th><th>Detail</th></tr>
{{range .Components}}<tr><td>{{.Name}}</td><td>{{if .Up}}<span class="badge up">UP</span>{{else}}<span class="badge down">DOWN</span>{{end}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
{{if .AllUp}}<p class="summary ok">System is UP!</p>{{else}}<p class="summary err">System is DOWN: see the components above.</p>{{end}}{{end}}
</section>
<section class="card"><h2>Activation</h2>{{with .S.activation}}<table>
<tr><th>State</th><td>{{if .expired}}<b class="err">Expired: monitoring continues; upload a renewed activation file</b>{{else}}<b class="ok">Activated</b>{{end}}</td></tr>
{{range $.S.activation_findings}}<tr><th></th><td class="{{if eq .severity "error"}}err{{else}}warn{{end}}">{{.code}}: {{.message}}. {{.hint}}</td></tr>{{end}}
<tr><th>Sensor</th><td>{{.sensor_name}} ({{.sensor_id}})</td></tr><tr><th>Site / zone</th><td>{{.site}} / {{.zone}}</td></tr>
<tr><th>Mode</th><td>{{.mode}}</td></tr><tr><th>Plan</th><td>{{.plan_id}}, {{.device_count}} devices</td></tr>
<tr><th>Issued</th><td>{{when .issued_at}}</td></tr>
<tr><th>Expires</th><td>{{if .expires}}{{when .expires}}{{else}}never (cloud-connected){{end}}</td></tr>
</table>{{else}}<p class="err">Not activated.</p><p class="hint">Push this sensor's activation file from Tapline.</p>{{end}}</section>
<section class="card"><h2>SSH host key</h2>{{if .HostKeys}}<table>
{{range .HostKeys}}<tr><th>{{.Type}}</th><td><code>{{.Fingerprint}}</code><br><span class="hint">{{.Where}}</span></td></tr>
{{end}}</table>
<p class="hint">Compare with the fingerprint Tapline shows when it first connects to this sensor: they must be the same.</p>{{else}}<p class="muted">No SSH host key found.</p>{{end}}</section>
<section class="card"><h2>Certificate</h2>{{with .S.certificate}}<table><tr><th>Subject</th><td>{{.subject}}</td></tr>
<tr><th>SHA-256</th><td><code>{{.fingerprint_sha256}}</code></td></tr><tr><th>Expires</th><td>{{when .not_after}}</td></tr>
{{if .self_signed}}<tr><th></th><td class="err">Self-signed (not provisioned)</td></tr>{{end}}</table>{{end}}</section>
<section class="card"><h2>Network</h2>{{with .S.network}}<table><tr><th>Interface</th><td>{{.interface}}</td></tr>
<tr><th>Address</th><td>{{.address}} / {{.mask}}</td></tr><tr><th>Gateway</th><td>{{.gateway}}</td></tr>
<tr><th>DNS</th><td>{{range .dns}}{{.}} {{end}}</td></tr><tr><th>Host name</th><td>{{.hostname}}</td></tr></table>{{else}}<p class="muted">Not configured.</p>{{end}}</section>
<section class="card"><h2>System</h2><table><tr><th>Version</th><td>sensorcore {{.S.version}}</td></tr>
<tr><th>Generation</th><td>{{.S.generation}}{{if .S.pending_confirmation}} <span class="warn">(awaiting confirmation until {{when .S.rollback_deadline}})</span>{{end}}</td></tr>
{{with .S.last_rollback_reason}}<tr><th>Last rollback</th><td>{{.}}</td></tr>{{end}}</table></section>
{{with .S.monitor}}<section class="card"><h2>Monitoring</h2><table><tr><th>Engine</th><td>{{if .running}}<b class="ok">Running</b> (pid {{.pid}}){{else}}<b class="err">Restarting</b>{{with .next_start}} at {{when .}}{{end}}{{end}}</td></tr>
<tr><th>Runs as</th><td>{{.user}}</td></tr>
<tr><th>Restarts</th><td>capture restarted {{.restarts}} times</td></tr>
{{with .last_fault}}<tr><th>Last fault</th><td>{{when $.S.monitor.last_fault_at}}: <code>{{.}}</code></td></tr>{{end}}</table></section>{{end}}
{{with .S.plugins}}<section class="card wide"><h2>Protocol plugins</h2>
<p>Signing keys: {{range .keys}}<b>{{.name}}</b> (key <code>{{.key_id}}</code>) {{else}}<span class="warn">none: a provisioning bundle gives the plant's plugin key</span>{{end}}</p>
{{if .engine}}<table class="list"><tr><th>Plugin</th><th>Version</th><th>State</th><th>Signer</th></tr>
{{range .loaded}}<tr><td>{{.title}} (<code>{{.protocol}}</code>, {{.file}})</td><td>{{.version}}</td><td><span class="badge up">LOADED</span> {{when .loaded_at}}</td><td>{{.signer}} (key <code>{{.key_id}}</code>)</td></tr>
{{end}}{{range .refused}}<tr><td>{{.file}}</td><td>{{with .running}}{{.}} runs{{end}}</td><td><span class="badge down">REFUSED</span> <span class="err">{{.reason}}</span></td><td></td></tr>
{{end}}</table>{{else}}<p class="muted">{{len .installed}} installed; loaded once the monitoring engine runs.</p>{{end}}</section>{{end}}
<section class="card"><h2>Account</h2><p>Signed in as <b>{{.User}}</b>. <a href="/password">Change password</a></p>
{{if .Events}}<h2>Recent account events</h2><ul class="events">{{range .Events}}<li class="mono">{{.}}</li>{{end}}</ul>{{end}}</section>
</div>`)

var monitorOffBody = page.New("monitor-off", `<p class="notice">Monitoring is not running on this sensor, so there is nothing to show here yet.</p>
<p class="hint">Start the daemon with the SPAN or TAP port to watch: <code>sensorcore serve --monitor IFACE</code>.</p>`)

var operationsSlotBody = page.New("operations-slot", `<p class="notice">This sensor's monitoring keeps no operations log yet.</p>
<p class="hint">The operations log lists each industrial operation seen on the monitored network (reads, writes, program changes, stops), the evidence behind the alerts.</p>`)

var notFoundBody = page.New("not-found", `<p>There is no page at <code>{{.}}</code> on this sensor.</p><p><a href="/">Back to the overview</a></p>`)
