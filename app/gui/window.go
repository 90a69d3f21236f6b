package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/assets"
)

// AppID is the application identifier, the same as in FyneApp.toml.
const AppID = "dev.tapline.companion"

// NewMainWindow builds Tapline's main window on a: one tab per screen.
func NewMainWindow(a fyne.App) fyne.Window {
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG()))
	w := a.NewWindow("Tapline")
	settings := newSettingsScreen(a.Preferences())
	tabs := container.NewAppTabs(
		container.NewTabItem("Welcome", widget.NewLabel("Offline provisioning for OT network sensors.")),
		container.NewTabItem("Settings", settings.build()),
	)
	tabs.SetTabLocation(container.TabLocationLeading)
	w.SetContent(tabs)
	w.Resize(fyne.NewSize(1024, 680))
	return w
}
