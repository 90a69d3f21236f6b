package gui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/plugin/offline"
)

// pluginsScreen develops a protocol plugin on site: open a plugin and
// captures, see its problems with their lines, the operations it decodes
// and the alerts it raises, sign it with the plant's plugin key, and send
// it to sensors of the Fleet's inventory with their next push.
type pluginsScreen struct {
	env   Env
	tasks tasks
	fleet *fleetScreen

	pluginPath *widget.Entry
	captures   *widget.Entry
	decodeBtn  *widget.Button
	problems   *widget.Label
	summary    *widget.Label
	ops        []offline.Operation
	table      *widget.Table
	alerts     *widget.Label

	keyPath    *widget.Entry
	passphrase *widget.Entry
	signBtn    *widget.Button
	signStatus *widget.Label

	sensors    *widget.CheckGroup
	pushBtn    *widget.Button
	pushStatus *widget.Label
	// onPush runs the Fleet's push on the chosen sensors (the Fleet
	// screen's onRun; tests replace it).
	onPush func(only map[string]bool)
}

// opColumns are the operations table's columns.
var opColumns = []string{"Time", "Client", "Server", "Function", "Fields", "Result"}

func newPluginsScreen(env Env, fleet *fleetScreen) *pluginsScreen {
	s := &pluginsScreen{env: env, tasks: tasks{ui: env.ui}, fleet: fleet,
		pluginPath: widget.NewEntry(), captures: widget.NewEntry(), problems: widget.NewLabel(""), summary: widget.NewLabel(""),
		alerts: widget.NewLabel(""), keyPath: widget.NewEntry(), passphrase: widget.NewPasswordEntry(), signStatus: widget.NewLabel(""),
		sensors: widget.NewCheckGroup(nil, nil), pushStatus: widget.NewLabel("")}
	s.pluginPath.SetPlaceHolder("the plugin file, NAME.yaml")
	s.captures.SetPlaceHolder("capture files to decode it on, separated by ;")
	s.keyPath.SetPlaceHolder("plugin-signing.key (tapline plugin keygen)")
	s.passphrase.SetPlaceHolder("the signing key's passphrase (memory only)")
	for _, l := range []*widget.Label{s.problems, s.summary, s.alerts, s.signStatus, s.pushStatus} {
		l.Wrapping = fyne.TextWrapWord
	}
	s.decodeBtn = widget.NewButton("Check and decode", s.onDecode)
	s.signBtn = widget.NewButton("Sign", s.onSign)
	s.pushBtn = widget.NewButton("Push to the chosen sensors", s.onPushChosen)
	if fleet != nil {
		s.onPush = fleet.onRun
	}
	return s
}

func (s *pluginsScreen) build() fyne.CanvasObject {
	s.table = widget.NewTable(
		func() (int, int) { return len(s.ops) + 1, len(opColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.opCell(id)) })
	for i, w := range []float32{200, 170, 170, 150, 330, 110} {
		s.table.SetColumnWidth(i, w)
	}
	files := widget.NewForm(
		widget.NewFormItem("Plugin", container.NewBorder(nil, nil, nil, widget.NewButton("Open…", func() { s.env.openFile(s.pluginPath.SetText) }), s.pluginPath)),
		widget.NewFormItem("Captures", container.NewBorder(nil, nil, nil, widget.NewButton("Add…", func() { s.env.openFile(s.addCapture) }), s.captures)),
	)
	sign := widget.NewForm(
		widget.NewFormItem("Signing key", container.NewBorder(nil, nil, nil, widget.NewButton("Open…", func() { s.env.openFile(s.keyPath.SetText) }), s.keyPath)),
		widget.NewFormItem("Passphrase", s.passphrase),
	)
	// One column, so Tab reads as the eye does: the files, the table,
	// then signing and the sensors below it (the border layout's objects
	// top first: Tab follows their order).
	side := container.NewVBox(
		widget.NewLabelWithStyle("Sign", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), sign, s.signBtn, s.signStatus,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Sensors", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("The Fleet's inventory; the chosen ones get the plugin (and the key's public half) with a push."),
		widget.NewButton("Refresh from Fleet", s.refreshSensors), s.sensors, s.pushBtn, s.pushStatus,
	)
	top := container.NewVBox(files, container.NewHBox(s.decodeBtn), s.problems, s.summary)
	results := container.NewVSplit(s.table, container.NewVScroll(s.alerts))
	results.SetOffset(0.75)
	center := container.NewVSplit(results, container.NewVScroll(side))
	center.SetOffset(0.6)
	return container.New(layout.NewBorderLayout(top, nil, nil, nil), top, center)
}

func (s *pluginsScreen) addCapture(p string) {
	if t := strings.TrimSpace(s.captures.Text); t != "" {
		p = t + "; " + p
	}
	s.captures.SetText(p)
}

func (s *pluginsScreen) opCell(id widget.TableCellID) string {
	if id.Row == 0 {
		return opColumns[id.Col]
	}
	op := s.ops[id.Row-1]
	switch id.Col {
	case 0:
		return op.Time
	case 1:
		return op.Client.String()
	case 2:
		return op.Server.String()
	case 3:
		if op.Function != nil {
			return fmt.Sprintf("%s (%d)", op.FunctionName, *op.Function)
		}
		return op.FunctionName
	case 4:
		keys := make([]string, 0, len(op.Fields))
		for k := range op.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, op.Fields[k]))
		}
		return strings.Join(parts, " ")
	}
	return op.Result
}

// paths splits the captures entry.
func (s *pluginsScreen) capturePaths() []string {
	var out []string
	for _, p := range strings.Split(s.captures.Text, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// decoded is what a check and decode found.
type decoded struct {
	problems []plugin.Problem
	err      error // the file could not be read, or did not load
	res      *offline.Result
}

// onDecode checks the plugin (its problems with their lines) and, when
// it loads and captures are given, decodes them with it.
func (s *pluginsScreen) onDecode() {
	path := strings.TrimSpace(s.pluginPath.Text)
	if path == "" {
		s.problems.SetText("Open a plugin file first.")
		return
	}
	caps := s.capturePaths()
	s.decodeBtn.Disable()
	s.summary.SetText("Checking…")
	run(&s.tasks, func(context.Context) decoded {
		data, err := os.ReadFile(path)
		if err != nil {
			return decoded{err: err}
		}
		p, err := plugin.Parse(data)
		if err != nil {
			var pe *plugin.Error
			if errors.As(err, &pe) {
				return decoded{problems: pe.Problems, err: err}
			}
			return decoded{err: err}
		}
		d := decoded{problems: p.Warnings}
		if len(caps) > 0 {
			d.res, d.err = offline.Run(path, data, caps)
		}
		return d
	}, s.show)
}

func (s *pluginsScreen) show(d decoded) {
	s.decodeBtn.Enable()
	var lines []string
	for _, p := range d.problems {
		lines = append(lines, "line "+p.String())
	}
	switch {
	case d.err != nil && len(d.problems) == 0:
		lines = append(lines, d.err.Error())
	case len(lines) == 0:
		lines = append(lines, "No problems.")
	}
	s.problems.SetText(strings.Join(lines, "\n"))
	s.ops = nil
	s.alerts.SetText("")
	if d.res == nil {
		if d.err == nil {
			s.summary.SetText("The plugin loads. Add captures to see what it decodes.")
		} else {
			s.summary.SetText("The plugin does not load: nothing decoded.")
		}
		s.table.Refresh()
		return
	}
	c := d.res.Counts
	s.summary.SetText(fmt.Sprintf("%s: %d PDUs, %d malformed (%d at one of the plugin's bounds), %d operations.",
		d.res.Protocol, c.PDUs, c.Malformed, c.MalformedByPlugin, len(d.res.Operations)))
	s.ops = d.res.Operations
	s.table.Refresh()
	var al []string
	for _, a := range d.res.Report.Alerts {
		if a.Protocol != d.res.Protocol {
			continue
		}
		al = append(al, fmt.Sprintf("%s  %s ×%d: %s", a.Severity, a.Title, a.Count, a.Message))
	}
	if len(al) == 0 {
		al = []string{"No alerts."}
	}
	s.alerts.SetText("Alerts\n" + strings.Join(al, "\n"))
}

// onSign signs the plugin with the plant's key (its name, the signer,
// from plugin-signing.pub beside it) into FILE.sig.
func (s *pluginsScreen) onSign() {
	path, keyPath, pass := strings.TrimSpace(s.pluginPath.Text), strings.TrimSpace(s.keyPath.Text), []byte(s.passphrase.Text)
	if path == "" || keyPath == "" {
		s.signStatus.SetText("Open the plugin and the signing key (plugin-signing.key) first.")
		return
	}
	now := s.env.Now()
	s.signBtn.Disable()
	run(&s.tasks, func(context.Context) string {
		defer clear(pass)
		data, err := os.ReadFile(path)
		if err != nil {
			return err.Error()
		}
		kb, err := os.ReadFile(keyPath)
		if err != nil {
			return err.Error()
		}
		key, err := plugin.ParseSigningKey(kb, pass)
		if err != nil {
			return fmt.Sprintf("The signing key does not open: %v. Check the passphrase.", err)
		}
		pub, err := os.ReadFile(filepath.Join(filepath.Dir(keyPath), plugin.PublicKeyFile))
		if err != nil {
			return fmt.Sprintf("No %s beside the key: it names the signer. %v", plugin.PublicKeyFile, err)
		}
		keys, err := plugin.ParseKeys(pub)
		if err != nil || len(keys) == 0 || !keys[0].Public.Equal(key.Public()) {
			return fmt.Sprintf("%s beside the key is not its public half.", plugin.PublicKeyFile)
		}
		sig, err := plugin.Sign(data, keys[0].Name, key, now)
		if err != nil {
			return "Not signed: " + err.Error()
		}
		if err := os.WriteFile(path+plugin.SignatureSuffix, sig, 0o644); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("Signed by %q (key %s): %s", keys[0].Name, keys[0].ID(), filepath.Base(path)+plugin.SignatureSuffix)
	}, func(msg string) {
		s.signBtn.Enable()
		s.signStatus.SetText(msg)
	})
}

// refreshSensors lists the Fleet inventory's sensors.
func (s *pluginsScreen) refreshSensors() {
	var names []string
	if s.fleet != nil && s.fleet.inv != nil {
		for _, r := range s.fleet.inv.Rows {
			names = append(names, r.Sensor)
		}
	}
	s.sensors.Options = names
	s.sensors.Refresh()
	if len(names) == 0 {
		s.pushStatus.SetText("Open an inventory in Fleet first.")
	}
}

// onPushChosen adds the signed plugin (and the key's public half, so the
// bundle gives it to the sensor) to the chosen sensors' rows and pushes
// them on the Fleet screen.
func (s *pluginsScreen) onPushChosen() {
	path := strings.TrimSpace(s.pluginPath.Text)
	if len(s.sensors.Selected) == 0 || path == "" || s.fleet == nil || s.fleet.inv == nil {
		s.pushStatus.SetText("Open and sign a plugin, then choose sensors.")
		return
	}
	if _, err := os.Stat(path + plugin.SignatureSuffix); err != nil {
		s.pushStatus.SetText("Sign the plugin first: sensors load only signed plugins.")
		return
	}
	pub := ""
	if k := strings.TrimSpace(s.keyPath.Text); k != "" {
		if p := filepath.Join(filepath.Dir(k), plugin.PublicKeyFile); fileExists(p) {
			pub = p
		}
	}
	only := map[string]bool{}
	for _, n := range s.sensors.Selected {
		only[n] = true
	}
	rows := s.fleet.inv.Rows
	for i := range rows {
		if !only[rows[i].Sensor] {
			continue
		}
		if !contains(rows[i].Plugins, path) {
			rows[i].Plugins = append(rows[i].Plugins, path)
		}
		if pub != "" && rows[i].PluginKey == "" {
			rows[i].PluginKey = pub
		}
	}
	s.pushStatus.SetText(fmt.Sprintf("Pushing %s to %d sensors: see Fleet.", filepath.Base(path), len(only)))
	if s.onPush != nil {
		s.onPush(only)
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
