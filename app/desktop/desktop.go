// Package desktop starts Tapline's desktop app on the real Fyne driver. It is
// the only package that imports fyne.io/fyne/v2/app (and so needs cgo and the
// X11/GL headers); the screens live in app/gui and test without cgo.
package desktop

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/tapline/tapline/app/gui"
)

// Run opens the main window and blocks until it is closed. args are the
// start-up flags (see Run -h); started is when the process began, for the
// first-frame figure.
func Run(args []string, started time.Time) int {
	fs := flag.NewFlagSet("tapline", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	firstFrame := fs.Bool("first-frame", false, "print the time from process start to the first frame on stderr")
	quit := fs.Bool("quit-after-first-frame", false, "exit once the first frame is shown (for benchmarks)")
	inventory := fs.String("inventory", "", "open this inventory CSV in the Fleet screen")
	screen := fs.String("screen", "", "the screen to show first (Setup, Fleet, Certificates, Known hosts, Settings)")
	filesDir := fs.String("files", "", "folder for the local CA, bundles and reports (default: the app's storage)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a := app.NewWithID(gui.AppID)
	m := gui.NewMainWindow(a, gui.Env{Inventory: *inventory, FilesDir: *filesDir})
	if *screen != "" {
		m.ShowScreen(*screen)
	}
	if *firstFrame || *quit {
		go reportFirstFrame(m.Window, started, os.Stderr, *quit, a)
	}
	m.Window.ShowAndRun()
	m.Wait()
	return 0
}

// reportFirstFrame waits until the window's canvas has been painted once
// (its content has a size and the driver ran a frame after Show) and prints
// the time since started.
func reportFirstFrame(w fyne.Window, started time.Time, out io.Writer, quit bool, a fyne.App) {
	for {
		painted := false
		fyne.DoAndWait(func() {
			painted = w.Canvas().Content() != nil && w.Canvas().Size().Width > 0 && w.Canvas().Capture() != nil
		})
		if painted {
			fmt.Fprintf(out, "first frame after %d ms\n", time.Since(started).Milliseconds())
			if quit {
				fyne.Do(a.Quit)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
