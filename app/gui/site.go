package gui

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/siteview"
)

// siteColumn is one column of the Site screen's tables.
type siteColumn struct {
	title string
	width float32
}

var (
	siteSensorColumns = []siteColumn{{"Sensor", 120}, {"Last seen", 90}, {"Packets/s", 80}, {"Drops", 60}, {"Devices", 80},
		{"Protocols", 200}, {"Uplink", 220}}
	siteAssetColumns = []siteColumn{{"Device", 150}, {"MAC", 140}, {"Vendor", 130}, {"Identity", 200}, {"Protocols", 120},
		{"Roles", 140}, {"Seen by", 160}, {"Last seen", 90}}
	siteAlertColumns = []siteColumn{{"Sensor", 100}, {"Severity", 70}, {"Last seen", 90}, {"Count", 55}, {"Status", 170},
		{"Alert", 220}, {"Source > destination", 230}}
	siteOpColumns = []siteColumn{{"Time", 110}, {"Protocol", 75}, {"Client > server", 310}, {"Function", 185}, {"Result", 85},
		{"Sensors", 150}}
)

// siteOpsShown bounds the operations the table shows (the newest that
// match the search); the model keeps siteOpsKept.
const (
	siteOpsShown = 2000
	siteOpsKept  = 100000
	// siteLoadBatches is how many operations batches the screen reads
	// back when it opens a site (the newest; the rest stay in the stream).
	siteLoadBatches = 5000
)

// siteScreen is the whole site as its sensors stream it (docs/site.md):
// it opens a site's site.json (tapline site init), reads the site's
// streams as the app's user and follows them: every sensor with its
// health, one device table across sensors, the alerts of every sensor
// with a filter and acknowledgement, the operations log searchable by
// device, and the devices discovered against the licence.
type siteScreen struct {
	env   Env
	tasks tasks

	mu     sync.Mutex
	reader *siteview.Reader
	cfg    *siteconf.SiteConfig
	stop   context.CancelFunc
	follow sync.WaitGroup
	dirty  atomic.Bool
	// refreshEvery is how often followed changes reach the tables (0:
	// never by itself; the tests refresh).
	refreshEvery time.Duration

	sensors []siteview.Sensor
	assets  []siteview.Asset
	alerts  []siteview.Alert
	ops     []siteview.Operation
	selAl   int
	tried   bool // onShown connected once

	path       *widget.Entry
	browseBtn  *widget.Button
	connectBtn *widget.Button
	closeBtn   *widget.Button
	status     *widget.Label
	licence    *widget.Label
	tabs       *container.AppTabs

	sensorTable *widget.Table
	assetTable  *widget.Table
	alertTable  *widget.Table
	opTable     *widget.Table

	alSensor *widget.Select
	alSev    *widget.Select
	alOpen   *widget.Check
	alText   *widget.Entry
	ackNote  *widget.Entry
	ackBtn   *widget.Button
	alInfo   *widget.Label

	device *widget.Entry
	opInfo *widget.Label
}

func newSiteScreen(env Env) *siteScreen {
	s := &siteScreen{env: env, tasks: tasks{ui: env.ui}, selAl: -1, refreshEvery: time.Second,
		path: widget.NewEntry(), status: widget.NewLabel("No site open."), licence: widget.NewLabel(""),
		alInfo: widget.NewLabel(""), opInfo: widget.NewLabel("")}
	if env.ui != nil {
		s.refreshEvery = 0
	}
	s.path.SetPlaceHolder("the site's site.json (written by tapline site init)")
	s.path.OnSubmitted = func(string) { s.onConnect() }
	s.path.OnChanged = func(string) { s.sync() }
	s.status.Wrapping = fyne.TextWrapWord
	s.licence.Wrapping = fyne.TextWrapWord
	s.browseBtn = widget.NewButtonWithIcon("Open site.json…", theme.FolderOpenIcon(), func() {
		s.env.openFile(func(p string) { s.path.SetText(p); s.onConnect() })
	})
	s.connectBtn = widget.NewButtonWithIcon("Connect", theme.LoginIcon(), s.onConnect)
	s.connectBtn.Importance = widget.HighImportance
	s.closeBtn = widget.NewButtonWithIcon("Disconnect", theme.LogoutIcon(), s.disconnect)

	s.sensorTable = siteTable(siteSensorColumns, func() int { return len(s.sensors) }, s.sensorCell)
	s.assetTable = siteTable(siteAssetColumns, func() int { return len(s.assets) }, s.assetCell)
	s.alertTable = siteTable(siteAlertColumns, func() int { return len(s.alerts) }, s.alertCell)
	s.opTable = siteTable(siteOpColumns, func() int { return len(s.ops) }, s.opCell)
	s.alertTable.OnSelected = func(id widget.TableCellID) { s.selAl = id.Row; s.sync() }
	s.alertTable.OnUnselected = func(widget.TableCellID) { s.selAl = -1; s.sync() }

	s.alSensor = widget.NewSelect([]string{"All sensors"}, func(string) { s.refresh() })
	s.alSensor.SetSelectedIndex(0)
	s.alSev = widget.NewSelect([]string{"Any severity", "low", "medium", "high", "critical"}, func(string) { s.refresh() })
	s.alSev.SetSelectedIndex(0)
	s.alOpen = widget.NewCheck("Open only", func(bool) { s.refresh() })
	s.alText = widget.NewEntry()
	s.alText.SetPlaceHolder("text in the title, message, rule or addresses")
	s.alText.OnChanged = func(string) { s.refresh() }
	s.ackNote = widget.NewEntry()
	s.ackNote.SetPlaceHolder("note (optional): why it is fine")
	s.ackBtn = widget.NewButtonWithIcon("Acknowledge", theme.ConfirmIcon(), s.onAck)
	s.device = widget.NewEntry()
	s.device.SetPlaceHolder("device IP address: only its operations (as client or server)")
	s.device.OnChanged = func(string) { s.refresh() }
	if p := env.Preset; p != nil && p.Site != "" {
		s.path.SetText(p.Site)
	}
	s.sync()
	return s
}

// siteTable is a read-only table with a header row of cols.
func siteTable(cols []siteColumn, rows func() int, cell func(row, col int) string) *widget.Table {
	t := widget.NewTableWithHeaders(
		func() (int, int) { return rows(), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if txt := cell(id.Row, id.Col); o.(*widget.Label).Text != txt {
				o.(*widget.Label).SetText(txt)
			}
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		if id.Row < 0 && id.Col >= 0 {
			l.SetText(cols[id.Col].title)
		}
	}
	for i, c := range cols {
		t.SetColumnWidth(i, c.width)
	}
	return t
}

func (s *siteScreen) build() fyne.CanvasObject {
	top := container.NewVBox(
		newBorder(nil, nil, nil, container.NewHBox(s.browseBtn, s.connectBtn, s.closeBtn), s.path),
		s.status, s.licence)
	alertBar := container.NewVBox(
		newBorder(nil, nil, container.NewHBox(s.alSensor, s.alSev, s.alOpen), nil, s.alText),
		newBorder(nil, nil, nil, s.ackBtn, s.ackNote), s.alInfo)
	opBar := container.NewVBox(s.device, s.opInfo)
	s.tabs = container.NewAppTabs(
		container.NewTabItem("Sensors", s.sensorTable),
		container.NewTabItem("Devices", s.assetTable),
		container.NewTabItem("Alerts", newBorder(alertBar, nil, nil, nil, s.alertTable)),
		container.NewTabItem("Operations", newBorder(opBar, nil, nil, nil, s.opTable)),
	)
	return newBorder(top, nil, nil, nil, s.tabs)
}

// sync sets which buttons may be pressed.
func (s *siteScreen) sync() {
	s.mu.Lock()
	open := s.reader != nil
	s.mu.Unlock()
	busy := s.tasks.Busy()
	setEnabled(s.connectBtn, !busy && strings.TrimSpace(s.path.Text) != "")
	setEnabled(s.browseBtn, !busy)
	setEnabled(s.closeBtn, open)
	setEnabled(s.ackBtn, open && s.selAl >= 0 && s.selAl < len(s.alerts) && s.alerts[s.selAl].Ack == nil)
}

// onConnect opens the site named in the path field: it checks site.json
// and the app's files it names, connects as the app's user, reads the
// streams and then follows them.
func (s *siteScreen) onConnect() {
	path := strings.TrimSpace(s.path.Text)
	if path == "" || s.tasks.Busy() {
		return
	}
	s.disconnect()
	cfg, err := siteconf.ReadSiteConfig(path)
	if err != nil {
		s.status.SetText("Cannot open the site: " + err.Error() + ". Choose the site.json that tapline site init wrote.")
		return
	}
	cl, err := cfg.Viewer("Tapline app")
	if err != nil {
		s.status.SetText(fmt.Sprintf("Cannot open the site: %s: %v (the app's files sit beside site.json: run tapline site init again on its folder).", path, err))
		return
	}
	s.status.SetText(fmt.Sprintf("Connecting to %s (%s)…", cfg.Site, strings.Join(cfg.Servers, ", ")))
	type result struct {
		r   *siteview.Reader
		err error
	}
	run(&s.tasks, func(ctx context.Context) result {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		r, err := siteview.Open(cl, cfg.Site, siteOpsKept)
		if err != nil {
			return result{err: err}
		}
		if err := r.Load(ctx, siteLoadBatches); err != nil {
			r.Close()
			return result{err: err}
		}
		return result{r: r}
	}, func(res result) {
		if res.err != nil {
			s.status.SetText(fmt.Sprintf("Cannot read site %s: %v. Check that its servers run and that this laptop reaches them.", cfg.Site, res.err))
			s.sync()
			return
		}
		s.startFollow(res.r, cfg)
	})
	s.sync()
}

// startFollow keeps the model up to date from the streams; the tables
// follow every refreshEvery.
func (s *siteScreen) startFollow(r *siteview.Reader, cfg *siteconf.SiteConfig) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.reader, s.cfg, s.stop = r, cfg, cancel
	s.mu.Unlock()
	s.follow.Add(1)
	go func() {
		defer s.follow.Done()
		if err := r.Follow(ctx, func() { s.dirty.Store(true) }); err != nil && ctx.Err() == nil {
			s.dirty.Store(true)
		}
	}()
	if s.refreshEvery > 0 {
		s.follow.Add(1)
		go func() {
			defer s.follow.Done()
			t := time.NewTicker(s.refreshEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if s.dirty.Swap(false) {
						s.env.ui.post(s.refresh)
					}
				}
			}
		}()
	}
	s.refresh()
}

// disconnect stops following the site.
func (s *siteScreen) disconnect() {
	s.mu.Lock()
	r, stop := s.reader, s.stop
	s.reader, s.stop = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		s.follow.Wait()
	}
	if r != nil {
		r.Close()
		s.status.SetText("Disconnected from the site.")
	}
	s.sync()
}

// refresh copies the model into the tables (on the UI goroutine).
func (s *siteScreen) refresh() {
	s.mu.Lock()
	r, cfg := s.reader, s.cfg
	s.mu.Unlock()
	if r == nil {
		return
	}
	m := r.Model
	s.sensors = m.Sensors()
	s.assets = m.Assets()
	names := []string{"All sensors"}
	for _, x := range s.sensors {
		names = append(names, x.Name)
	}
	if !equalStrings(s.alSensor.Options, names) {
		s.alSensor.SetOptions(names)
	}
	f := siteview.AlertFilter{Open: s.alOpen.Checked, Text: strings.TrimSpace(s.alText.Text)}
	if i := s.alSensor.SelectedIndex(); i > 0 {
		f.Sensor = s.alSensor.Selected
	}
	if i := s.alSev.SelectedIndex(); i > 0 {
		f.MinSeverity = s.alSev.Selected
	}
	var selKey string
	if s.selAl >= 0 && s.selAl < len(s.alerts) {
		selKey = s.alerts[s.selAl].Sensor + "/" + s.alerts[s.selAl].Key
	}
	s.alerts = m.Alerts(f)
	s.selAl = -1
	for i, a := range s.alerts {
		if a.Sensor+"/"+a.Key == selKey {
			s.selAl = i
		}
	}
	open := len(m.Alerts(siteview.AlertFilter{Open: true}))
	s.alInfo.SetText(fmt.Sprintf("%d alerts shown; %d open on the site. Acknowledging one tells its sensor too.", len(s.alerts), open))
	dev := strings.TrimSpace(s.device.Text)
	s.ops = m.Operations(dev, siteOpsShown)
	sort.SliceStable(s.ops, func(i, j int) bool { return s.ops[i].Time.After(s.ops[j].Time) })
	nSensors, nAssets, nAlerts, nOps, refused, dropped := m.Counts()
	switch {
	case dev != "":
		s.opInfo.SetText(fmt.Sprintf("%d operations of %s, newest first (of %d held).", len(s.ops), dev, nOps))
	default:
		s.opInfo.SetText(fmt.Sprintf("The newest %d of %d operations held, newest first. Type a device's address to see its own.", len(s.ops), nOps))
	}
	st := fmt.Sprintf("Site %s on %s: %d sensors, %d devices, %d alerts, %d operations.", cfg.Site, strings.Join(cfg.Servers, ", "),
		nSensors, nAssets, nAlerts, nOps)
	if nSensors == 0 {
		st += " No sensor has streamed yet: provision the sensors with this site's uplink (the inventory's uplink column, or the setup wizard's Network page)."
	}
	if dropped > 0 {
		st += fmt.Sprintf(" Sensors' full outboxes dropped %d operations.", dropped)
	}
	if refused > 0 {
		st += fmt.Sprintf(" %d messages refused (not this site's or not their sender's).", refused)
	}
	s.status.SetText(st)
	l := m.Licence(cfg.Licensed)
	switch {
	case l.Licensed == 0:
		s.licence.Importance = widget.MediumImportance
		s.licence.SetText(fmt.Sprintf("Devices: %d discovered across the site; no sensor's licence counts them yet.", l.Discovered))
	case l.Over:
		s.licence.Importance = widget.DangerImportance
		s.licence.SetText(fmt.Sprintf("The site has outgrown its licence: %d devices discovered, %d licensed. Ask for a larger plan, or the newest devices go unwatched by the licence.", l.Discovered, l.Licensed))
	default:
		s.licence.Importance = widget.MediumImportance
		s.licence.SetText(fmt.Sprintf("Devices: %d discovered across the site of %d licensed.", l.Discovered, l.Licensed))
	}
	s.licence.Refresh()
	for _, t := range []*widget.Table{s.sensorTable, s.assetTable, s.alertTable, s.opTable} {
		t.Refresh()
	}
	s.sync()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// onAck acknowledges the selected alert on the site (its sensor follows).
func (s *siteScreen) onAck() {
	s.mu.Lock()
	r := s.reader
	s.mu.Unlock()
	if r == nil || s.selAl < 0 || s.selAl >= len(s.alerts) {
		return
	}
	a := s.alerts[s.selAl]
	by := operator(s.env.Getenv)
	note := strings.TrimSpace(s.ackNote.Text)
	now := s.env.Now()
	run(&s.tasks, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		return r.Ack(ctx, a.Sensor, a.Key, by, note, now)
	}, func(err error) {
		if err != nil {
			s.alInfo.SetText(fmt.Sprintf("Not acknowledged: %v.", err))
			s.sync()
			return
		}
		s.ackNote.SetText("")
		s.refresh()
	})
	s.sync()
}

func (s *siteScreen) sensorCell(row, col int) string {
	if row >= len(s.sensors) {
		return ""
	}
	x := s.sensors[row]
	h, st := x.Health, x.Status
	switch col {
	case 0:
		return x.Name
	case 1:
		return ago(s.env.Now(), x.LastSeen)
	case 2:
		if h != nil {
			return fmt.Sprintf("%.0f", h.Rate)
		}
	case 3:
		if h != nil {
			return fmt.Sprint(h.Drops)
		}
	case 4:
		if st != nil {
			return fmt.Sprintf("%d / %d", st.Devices.Discovered, st.Devices.Licensed)
		}
	case 5:
		if h != nil {
			var ps []string
			for p := range h.Protocols {
				ps = append(ps, p)
			}
			sort.Strings(ps)
			return strings.Join(ps, ", ")
		}
	case 6:
		if st != nil {
			if st.Uplink.Outbox > 0 || st.Uplink.Dropped > 0 {
				return fmt.Sprintf("%d waiting, %d dropped", st.Uplink.Outbox, st.Uplink.Dropped)
			}
			return "up to date"
		}
	}
	return "-"
}

func (s *siteScreen) assetCell(row, col int) string {
	if row >= len(s.assets) {
		return ""
	}
	a := s.assets[row]
	switch col {
	case 0:
		if len(a.IPs) > 0 {
			return strings.Join(a.IPs, ", ")
		}
		return a.ID
	case 1:
		return a.MAC
	case 2:
		return a.Vendor
	case 3:
		return strings.TrimSpace(a.Identity.Vendor + " " + a.Identity.Model + " " + a.Identity.Firmware)
	case 4:
		return strings.Join(a.Protocols, ", ")
	case 5:
		return strings.Join(a.Roles, ", ")
	case 6:
		return strings.Join(a.Sensors, ", ")
	case 7:
		return ago(s.env.Now(), a.LastSeen)
	}
	return ""
}

func (s *siteScreen) alertCell(row, col int) string {
	if row >= len(s.alerts) {
		return ""
	}
	a := s.alerts[row]
	switch col {
	case 0:
		return a.Sensor
	case 1:
		return a.Severity
	case 2:
		return ago(s.env.Now(), a.LastSeen)
	case 3:
		return fmt.Sprint(a.Count)
	case 4:
		if a.Ack != nil {
			return "acknowledged by " + a.Ack.By
		}
		return a.Status
	case 5:
		return a.Title
	case 6:
		return a.Src + " > " + a.Dst
	}
	return ""
}

func (s *siteScreen) opCell(row, col int) string {
	if row >= len(s.ops) {
		return ""
	}
	o := s.ops[row]
	switch col {
	case 0:
		return o.Time.Local().Format("15:04:05.000")
	case 1:
		return o.Protocol
	case 2:
		return fmt.Sprintf("%s:%d > %s:%d", o.Client.IP, o.Client.Port, o.Server.IP, o.Server.Port)
	case 3:
		if o.FunctionName != "" {
			return o.FunctionName
		}
		return fmt.Sprint(o.Function)
	case 4:
		return o.Result
	case 5:
		return strings.Join(o.Sensors, ", ")
	}
	return ""
}

// ago says how long ago t was, briefly ("-" for never).
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Local().Format("2006-01-02")
}

// onShown connects, the first time the screen is shown, to the site the
// app was started with (the demo's).
func (s *siteScreen) onShown() {
	s.mu.Lock()
	open := s.reader != nil
	s.mu.Unlock()
	if !open && !s.tasks.Busy() && s.env.Preset != nil && s.env.Preset.Site != "" && s.path.Text == s.env.Preset.Site && !s.tried {
		s.tried = true
		s.onConnect()
	}
}

// operator names who acknowledges from this laptop: user@host.
func operator(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	host, _ := os.Hostname()
	name := getenv("USER")
	if name == "" {
		name = getenv("USERNAME") // Windows
	}
	if u, err := user.Current(); name == "" && err == nil {
		name = u.Username
	}
	return name + "@" + host
}

// tourSite shows the site the demo's sensors stream to once every sensor
// of the preset reports traffic and alerts and operations are in (at
// most three minutes), and calls shot for each of the screen's tables:
// the alerts with the critical ones shown and one acknowledged, the
// operations of a PLC.
func (m *Main) tourSite(ui func(func()), shot func(name string) error) error {
	s := m.site
	ui(func() { m.ShowScreen("Site") })
	s.tasks.Wait()
	want := len(m.env.Preset.Sensors)
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		r := s.reader
		s.mu.Unlock()
		if r != nil {
			n := 0
			for _, x := range r.Model.Sensors() {
				if x.Status != nil && x.Health != nil && x.Health.Rate > 0 {
					n++
				}
			}
			if n >= want && len(r.Model.Alerts(siteview.AlertFilter{MinSeverity: "critical"})) > 0 && len(r.Model.Operations("", 1)) > 0 {
				break
			}
		}
		time.Sleep(time.Second)
	}
	steps := []struct {
		name string
		tab  int
		act  func()
	}{
		{"site", 0, nil},
		{"site-devices", 1, nil},
		{"site-alerts", 2, func() {
			s.alSev.SetSelected("critical")
			if len(s.alerts) > 0 {
				s.alertTable.Select(widget.TableCellID{Row: 0, Col: 0})
				s.ackNote.SetText("planned stop for maintenance")
				s.onAck()
			}
		}},
		{"site-operations", 3, func() {
			for _, a := range s.assets {
				if len(a.IPs) > 0 && strings.Contains(strings.Join(a.Roles, " "), "PLC") {
					s.device.SetText(a.IPs[0])
					return
				}
			}
		}},
	}
	for _, st := range steps {
		ui(func() {
			s.tabs.SelectIndex(st.tab)
			s.refresh()
			if st.act != nil {
				st.act()
			}
		})
		s.tasks.Wait()
		ui(s.refresh)
		if err := shot(st.name); err != nil {
			return err
		}
	}
	ui(func() { s.alSev.SetSelectedIndex(0); s.device.SetText(""); s.tabs.SelectIndex(0) })
	return nil
}
