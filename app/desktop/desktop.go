// Package desktop starts Tapline's desktop app on the real Fyne driver. It is
// the only package that imports fyne.io/fyne/v2/app (and so needs cgo and the
// X11/GL headers); the screens live in app/gui and test without cgo.
package desktop

import (
	"fyne.io/fyne/v2/app"

	"github.com/tapline/tapline/app/gui"
)

// Run opens the main window and blocks until it is closed. args are reserved
// for start-up flags.
func Run(args []string) int {
	a := app.NewWithID(gui.AppID)
	w := gui.NewMainWindow(a)
	w.ShowAndRun()
	return 0
}
