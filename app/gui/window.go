package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/assets"
)

// AppID is the application identifier, the same as in FyneApp.toml.
const AppID = "dev.tapline.companion"

// NewMainWindow builds Tapline's main window on a.
func NewMainWindow(a fyne.App) fyne.Window {
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG()))
	w := a.NewWindow("Tapline")
	title := widget.NewLabelWithStyle("Tapline", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	body := widget.NewLabel("Offline provisioning for OT network sensors.")
	w.SetContent(container.NewVBox(title, body))
	w.Resize(fyne.NewSize(960, 640))
	return w
}
