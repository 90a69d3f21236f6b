package gui

import (
	"image/color"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/tapline/tapline/assets"
)

// AppID is the application identifier, the same as in FyneApp.toml.
const AppID = "dev.tapline.companion"

// ScreenNames lists the main window's tabs, in order, without a window
// (start-up flags check --screen against it).
func ScreenNames() []string {
	return []string{"Setup", "Fleet", "Site", "Certificates", "Plugins", "Known hosts", "Settings"}
}

// Main is Tapline's main window and its screens.
type Main struct {
	painted   sync.Once
	onPaint   func()
	paintMu   sync.Mutex
	Window    fyne.Window
	Tabs      *container.AppTabs
	env       Env
	wizard    *wizardScreen
	fleet     *fleetScreen
	site      *siteScreen
	workbench *workbenchScreen
	plugins   *pluginsScreen
	known     *knownHostsScreen
	settings  *settingsScreen
}

// NewMainWindow builds Tapline's main window on a: one tab per screen.
// Files dropped on the window open in the certificate workbench.
func NewMainWindow(a fyne.App, env Env) *Main {
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG()))
	w := a.NewWindow("Tapline")
	env.Window = w
	env = env.withDefaults(a)
	m := &Main{Window: w, env: env}
	m.wizard = newWizardScreen(env)
	m.fleet = newFleetScreen(env)
	m.site = newSiteScreen(env)
	m.workbench = newWorkbenchScreen(env)
	m.plugins = newPluginsScreen(env, m.fleet)
	m.known = newKnownHostsScreen(env)
	m.settings = newSettingsScreen(a.Preferences())
	m.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Setup", theme.ComputerIcon(), m.wizard.build()),
		container.NewTabItemWithIcon("Fleet", theme.ListIcon(), m.fleet.build()),
		container.NewTabItemWithIcon("Site", theme.GridIcon(), m.site.build()),
		container.NewTabItemWithIcon("Certificates", theme.DocumentIcon(), m.workbench.build()),
		container.NewTabItemWithIcon("Plugins", theme.StorageIcon(), m.plugins.build()),
		container.NewTabItemWithIcon("Known hosts", theme.AccountIcon(), m.known.build()),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), m.settings.build()),
	)
	m.Tabs.SetTabLocation(container.TabLocationLeading)
	m.Tabs.OnSelected = func(it *container.TabItem) {
		switch it.Text {
		case "Known hosts":
			m.known.load() // a connection may have trusted a host since
		case "Site":
			m.site.onShown()
		case "Plugins":
			m.plugins.refreshSensors() // Fleet may have opened an inventory since
		}
	}
	w.SetContent(container.NewStack(m.Tabs, container.NewWithoutLayout(m.paintProbe())))
	w.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { m.onDropped(uris) })
	w.Canvas().SetOnTypedKey(m.onKey)
	if env.Inventory != "" {
		m.fleet.open(env.Inventory)
	}
	if p := env.Preset; p != nil {
		if len(p.Sensors) > 0 {
			m.wizard.prefill(p.Sensors[0])
		}
		m.fleet.password.SetText(p.SSHPassword)
		m.fleet.acceptNew.SetChecked(p.AcceptNew)
	}
	w.Resize(fyne.NewSize(1100, 720))
	return m
}

// paintProbe is a transparent 1x1 raster: the painter asks it for pixels
// while drawing a frame, which is the one moment that says "a frame is
// being painted" (the first-frame figure).
func (m *Main) paintProbe() fyne.CanvasObject {
	r := canvas.NewRasterWithPixels(func(_, _, _, _ int) color.Color {
		m.painted.Do(func() {
			m.paintMu.Lock()
			f := m.onPaint
			m.paintMu.Unlock()
			if f != nil {
				f()
			}
		})
		return color.Transparent
	})
	r.Resize(fyne.NewSize(1, 1))
	return r
}

// OnFirstPaint calls f (on the painting goroutine) when the first frame is
// drawn. Set it before the window is shown.
func (m *Main) OnFirstPaint(f func()) {
	m.paintMu.Lock()
	m.onPaint = f
	m.paintMu.Unlock()
}

// onDropped opens dropped files: an inventory (.csv) in Fleet, anything
// else in the certificate workbench.
func (m *Main) onDropped(uris []fyne.URI) {
	paths := make([]string, 0, len(uris))
	inventory := ""
	for _, u := range uris {
		switch {
		case u.Scheme() != "file":
		case strings.EqualFold(filepath.Ext(u.Path()), ".csv"):
			inventory = u.Path()
		default:
			paths = append(paths, u.Path())
		}
	}
	if inventory != "" && len(paths) == 0 {
		m.Tabs.SelectIndex(m.tabIndex("Fleet"))
		m.fleet.open(inventory)
		return
	}
	if len(paths) == 0 {
		return
	}
	m.Tabs.SelectIndex(m.tabIndex("Certificates"))
	m.workbench.addPaths(paths)
}

// onKey handles keys no widget took: Escape closes the dialog on top,
// Enter advances the setup wizard.
func (m *Main) onKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyEscape:
		m.env.dialogs.closeTop()
	case fyne.KeyReturn, fyne.KeyEnter:
		if m.Tabs.Selected() != nil && m.Tabs.Selected().Text == "Setup" {
			m.wizard.onNext()
		}
	}
}

func (m *Main) tabIndex(name string) int {
	for i, it := range m.Tabs.Items {
		if it.Text == name {
			return i
		}
	}
	return 0
}

// ShowScreen selects the tab called name (for screenshots and start-up flags).
func (m *Main) ShowScreen(name string) { m.Tabs.SelectIndex(m.tabIndex(name)) }

// Screens lists the tabs' names in order.
func (m *Main) Screens() []string {
	out := make([]string, len(m.Tabs.Items))
	for i, it := range m.Tabs.Items {
		out[i] = it.Text
	}
	return out
}

// Wait blocks until background work of every screen has finished.
func (m *Main) Wait() {
	m.wizard.Wait()
	m.fleet.tasks.Wait()
	m.site.tasks.Wait()
	m.known.tasks.Wait()
	m.workbench.tasks.Wait()
	m.plugins.tasks.Wait()
	m.workbench.ca.tasks.Wait()
}
