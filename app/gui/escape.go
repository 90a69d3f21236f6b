package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Fyne gives a key to the focused widget only: once the engineer clicks
// into a dialog, Escape never reaches the window. The dialogs Tapline shows
// are built from these widgets, which hand Escape to onEscape (closing the
// dialog) and behave like their Fyne originals otherwise.

var (
	_ fyne.Focusable = (*escEntry)(nil)
	_ fyne.Focusable = (*escList)(nil)
	_ fyne.Focusable = (*escButton)(nil)
)

// escEntry is a widget.Entry whose Escape calls onEscape.
type escEntry struct {
	widget.Entry
	onEscape func()
}

func newEscEntry(onEscape func()) *escEntry {
	e := &escEntry{onEscape: onEscape}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey implements fyne.Focusable.
func (e *escEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// escList is a widget.List whose Escape calls onEscape and whose Enter
// calls onEnter with the item the keyboard is on.
type escList struct {
	widget.List
	onEscape func()
	onEnter  func()
}

func newEscList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *escList {
	l := &escList{}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey implements fyne.Focusable.
func (l *escList) TypedKey(k *fyne.KeyEvent) {
	switch {
	case k.Name == fyne.KeyEscape && l.onEscape != nil:
		l.onEscape()
	case (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && l.onEnter != nil:
		l.List.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace}) // select the item the keyboard is on
		l.onEnter()
	default:
		l.List.TypedKey(k)
	}
}

// escButton is a widget.Button whose Escape calls onEscape.
type escButton struct {
	widget.Button
	onEscape func()
}

func newEscButton(label string, icon fyne.Resource, tapped, onEscape func()) *escButton {
	b := &escButton{onEscape: onEscape}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey implements fyne.Focusable.
func (b *escButton) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && b.onEscape != nil {
		b.onEscape()
		return
	}
	b.Button.TypedKey(k)
}
