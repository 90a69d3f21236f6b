package gui

import (
	"path/filepath"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
)

// dialogs remembers the dialog on top so Escape can close it.
type dialogs struct {
	mu  sync.Mutex
	top dialog.Dialog
}

func (d *dialogs) show(dl dialog.Dialog) {
	if d != nil {
		d.mu.Lock()
		d.top = dl
		d.mu.Unlock()
		dl.SetOnClosed(func() {
			d.mu.Lock()
			if d.top == dl {
				d.top = nil
			}
			d.mu.Unlock()
		})
	}
	dl.Show()
}

// closeTop hides the dialog on top; it reports whether there was one.
func (d *dialogs) closeTop() bool {
	d.mu.Lock()
	top := d.top
	d.top = nil
	d.mu.Unlock()
	if top == nil {
		return false
	}
	top.Hide()
	return true
}

// openFile asks for one file and hands its path to set.
func (e Env) openFile(set func(path string)) {
	if e.Window == nil {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err == nil && r != nil {
			p := r.URI().Path()
			r.Close()
			if e.App != nil {
				e.App.Preferences().SetString(prefRecentFolder, filepath.Dir(p))
			}
			set(p)
		}
	}, e.Window)
	if e.App != nil {
		if dir := e.App.Preferences().String(prefRecentFolder); dir != "" {
			if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
				d.SetLocation(l)
			}
		}
	}
	d.Resize(fyne.NewSize(800, 560))
	e.dialogs.show(d)
	// Keys reach the window (Escape closes the dialog) until the engineer
	// clicks into a field of the dialog.
	e.Window.Canvas().Unfocus()
}
