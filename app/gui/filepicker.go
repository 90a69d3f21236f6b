package gui

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
)

// pickItem is one entry of the folder a filePicker shows.
type pickItem struct {
	name string
	dir  bool
}

// filePicker asks for one file: the entries of a folder (folders first,
// hidden ones last), a path the engineer can type or paste, Up, Cancel and
// Open. It is built from the esc widgets, so Escape closes it wherever the
// focus is (Fyne's own file dialog loses Escape once a file is clicked).
type filePicker struct {
	set func(path string)
	dir string

	items     []pickItem
	path      *escEntry
	list      *escList
	status    *widget.Label
	upBtn     *escButton
	cancelBtn *escButton
	openBtn   *escButton
	dlg       *dialog.CustomDialog
	closed    bool
}

func newFilePicker(start string, set func(string)) *filePicker {
	p := &filePicker{set: set, status: widget.NewLabel("")}
	p.status.Wrapping = fyne.TextWrapWord
	p.path = newEscEntry(p.close)
	p.path.OnSubmitted = func(string) { p.onOpen() }
	p.list = newEscList(func() int { return len(p.items) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.FolderIcon()), widget.NewLabel("a file name of some length.pem"))
		}, p.item)
	p.list.onEscape = p.close
	p.list.onEnter = p.onOpen
	p.list.OnSelected = p.onSelected
	p.upBtn = newEscButton("Up", theme.MoveUpIcon(), p.onUp, p.close)
	p.cancelBtn = newEscButton("Cancel", theme.CancelIcon(), p.close, p.close)
	p.openBtn = newEscButton("Open", theme.FolderOpenIcon(), p.onOpen, p.close)
	p.openBtn.Importance = widget.HighImportance
	if start == "" {
		start, _ = os.UserHomeDir()
	}
	p.load(start)
	return p
}

func (p *filePicker) build() fyne.CanvasObject {
	top := newBorder(nil, nil, p.upBtn, nil, p.path)
	bottom := container.NewVBox(p.status, container.NewHBox(layout.NewSpacer(), p.cancelBtn, p.openBtn))
	return newBorder(top, bottom, nil, nil, p.list)
}

func (p *filePicker) item(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(p.items) {
		return
	}
	row := o.(*fyne.Container)
	icon, label := row.Objects[0].(*widget.Icon), row.Objects[1].(*widget.Label)
	it := p.items[id]
	if it.dir {
		icon.SetResource(theme.FolderIcon())
		label.SetText(it.name + string(filepath.Separator))
	} else {
		icon.SetResource(theme.FileIcon())
		label.SetText(it.name)
	}
}

// load shows the entries of dir; an unreadable folder is said, not shown.
func (p *filePicker) load(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		p.say(problemFor("Opening the folder "+dir, err))
		return
	}
	p.dir = dir
	p.items = p.items[:0]
	for _, e := range ents {
		dir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(p.dir, e.Name())); err == nil {
				dir = st.IsDir()
			}
		}
		p.items = append(p.items, pickItem{name: e.Name(), dir: dir})
	}
	sort.SliceStable(p.items, func(i, j int) bool {
		a, b := p.items[i], p.items[j]
		if ha, hb := strings.HasPrefix(a.name, "."), strings.HasPrefix(b.name, "."); ha != hb {
			return hb
		}
		if a.dir != b.dir {
			return a.dir
		}
		return strings.ToLower(a.name) < strings.ToLower(b.name)
	})
	p.status.SetText("")
	p.path.SetText(withSep(dir))
	p.list.UnselectAll()
	if p.dlg != nil { // shown: the list has its scroller
		p.list.ScrollToTop()
	}
	p.list.Refresh()
}

func withSep(dir string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir
	}
	return dir + string(filepath.Separator)
}

// onSelected opens a folder, or puts a file's path in the path field.
func (p *filePicker) onSelected(id widget.ListItemID) {
	if id >= len(p.items) {
		return
	}
	it := p.items[id]
	full := filepath.Join(p.dir, it.name)
	if it.dir {
		p.load(full)
		return
	}
	p.path.SetText(full)
}

// say shows a problem as code, message and fix.
func (p *filePicker) say(f certs.Finding) {
	p.status.SetText(f.Code + "  " + f.Message + ". Fix: " + f.Hint)
}

func (p *filePicker) onUp() { p.load(filepath.Dir(filepath.Clean(p.dir))) }

// onOpen opens the folder typed, or hands the file typed to set and closes.
func (p *filePicker) onOpen() {
	path := strings.TrimSpace(p.path.Text)
	if strings.HasPrefix(path, "~"+string(filepath.Separator)) {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	if path == "" {
		return
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		p.say(problemFor("Opening "+filepath.Base(path), err))
	case st.IsDir():
		p.load(path)
	default:
		p.close()
		p.set(path)
	}
}

func (p *filePicker) close() {
	if p.closed {
		return
	}
	p.closed = true
	if p.dlg != nil {
		p.dlg.Hide()
	}
}
