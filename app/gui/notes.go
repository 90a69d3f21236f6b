package gui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/certs"
)

// notes shows a page's problems next to the fields and actions they are
// about: a findings view right under each, and the field's border in the
// error colour while its note holds an error. Keys name the field or action
// in the page's words ("Default gateway", "Connect"); a page registers them
// in reading order, which is the order first() and all() follow.
type notes struct {
	order []string
	by    map[string]*note
}

type note struct {
	view  *findingsView
	entry *widget.Entry // highlighted while the note holds an error; may be nil
}

// at returns the box that shows key's problems. entry, when not nil, is the
// field whose border turns red while the note holds an error.
func (n *notes) at(key string, entry *widget.Entry) fyne.CanvasObject {
	if n.by == nil {
		n.by = map[string]*note{}
	}
	if x, ok := n.by[key]; ok {
		return x.view.box
	}
	if entry != nil {
		entry.AlwaysShowValidationError = true
	}
	x := &note{view: newFindingsView(""), entry: entry}
	n.by[key] = x
	n.order = append(n.order, key)
	return x.view.box
}

// under is w with key's note right below it: the widget of a form item.
func (n *notes) under(key string, w fyne.CanvasObject, entry *widget.Entry) fyne.CanvasObject {
	return container.NewVBox(w, n.at(key, entry))
}

// set shows fs next to key (nothing when fs is empty).
func (n *notes) set(key string, fs ...certs.Finding) {
	x, ok := n.by[key]
	if !ok {
		return
	}
	x.view.set(fs)
	if x.entry == nil {
		return
	}
	if hasErrorFinding(fs) {
		x.entry.SetValidationError(errors.New(fs[0].Message))
	} else {
		x.entry.SetValidationError(nil)
	}
}

// add shows f next to key after what is there already.
func (n *notes) add(key string, f certs.Finding) {
	if x, ok := n.by[key]; ok {
		n.set(key, append(append([]certs.Finding(nil), x.view.shown...), f)...)
	}
}

// clear empties the notes of keys, or every note when none is given.
func (n *notes) clear(keys ...string) {
	if len(keys) == 0 {
		keys = n.order
	}
	for _, k := range keys {
		if x, ok := n.by[k]; ok && len(x.view.shown) > 0 {
			n.set(k)
		}
	}
}

// of is what key's note shows.
func (n *notes) of(key string) []certs.Finding {
	if x, ok := n.by[key]; ok {
		return x.view.shown
	}
	return nil
}

// all is every note's findings in page order.
func (n *notes) all() []certs.Finding {
	var out []certs.Finding
	for _, k := range n.order {
		out = append(out, n.by[k].view.shown...)
	}
	return out
}

// first is the first note that holds an error, else the first that holds
// anything: what the page scrolls into view. nil when every note is empty.
func (n *notes) first() fyne.CanvasObject {
	var any fyne.CanvasObject
	for _, k := range n.order {
		x := n.by[k]
		if hasErrorFinding(x.view.shown) {
			return x.view.box
		}
		if any == nil && len(x.view.shown) > 0 {
			any = x.view.box
		}
	}
	return any
}

// reveal scrolls sc the least distance that brings o, an object inside it,
// into view (its top first when it is taller than the view).
func reveal(sc *container.Scroll, o fyne.CanvasObject) {
	if sc == nil || o == nil || !o.Visible() {
		return
	}
	sc.Refresh() // lay out content that just grew
	d := fyne.CurrentApp().Driver()
	if d.CanvasForObject(o) == nil {
		return
	}
	top := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(sc).Y + sc.Offset.Y
	bottom := top + o.Size().Height
	view := sc.Size().Height
	y := sc.Offset.Y
	switch {
	case top < y:
		y = top
	case bottom > y+view:
		y = min(top, bottom-view)
	default:
		return
	}
	sc.ScrollToOffset(fyne.NewPos(sc.Offset.X, max(0, y)))
}
