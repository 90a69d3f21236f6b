package gui

import (
	"path/filepath"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// dialogs remembers the dialog on top so Escape can close it.
type dialogs struct {
	mu     sync.Mutex
	top    dialog.Dialog
	picker *filePicker // the file picker shown last (tests reach into it)
}

// show shows dl on top; onClosed run when it closes, however it closes.
func (d *dialogs) show(dl dialog.Dialog, onClosed ...func()) {
	dl.SetOnClosed(func() {
		if d != nil {
			d.mu.Lock()
			if d.top == dl {
				d.top = nil
			}
			d.mu.Unlock()
		}
		for _, f := range onClosed {
			f()
		}
	})
	if d != nil {
		d.mu.Lock()
		d.top = dl
		d.mu.Unlock()
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

// openFile asks for one file and hands its path to set. The picker starts
// in the folder a file was last chosen from (a preference; never a secret).
func (e Env) openFile(set func(path string)) {
	if e.Window == nil {
		return
	}
	start := ""
	if e.App != nil {
		start = e.App.Preferences().String(prefRecentFolder)
	}
	p := newFilePicker(start, func(path string) {
		if e.App != nil {
			e.App.Preferences().SetString(prefRecentFolder, filepath.Dir(path))
		}
		set(path)
	})
	d := dialog.NewCustomWithoutButtons("Choose a file", p.build(), e.Window)
	p.dlg = d
	d.Resize(fyne.NewSize(760, 540))
	e.dialogs.show(d)
	e.Window.Canvas().Focus(p.path) // type or paste a path at once; Escape closes from any field
	if e.dialogs != nil {
		e.dialogs.mu.Lock()
		e.dialogs.picker = p
		e.dialogs.mu.Unlock()
	}
}
