package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tableColumn is a table column's title, its width at the design size
// and the narrowest it may get.
type tableColumn struct {
	title      string
	width, min float32
}

// fitColumns lays out a table so that its columns share the table's
// width: each gets its design width scaled to what the window leaves, no
// narrower than its minimum (then the table scrolls sideways, with its
// scroll bar). Cells truncate with an ellipsis; the full text is in the
// selected row's log.
type fitColumns struct {
	table   *widget.Table
	cols    []tableColumn
	headerW float32 // the row-number column
	widths  []float32
}

var _ fyne.Layout = (*fitColumns)(nil)

func newFitColumns(t *widget.Table, cols []tableColumn) *fitColumns {
	f := &fitColumns{table: t, cols: cols, widths: make([]float32, len(cols)),
		headerW: widget.NewLabel("9999").MinSize().Width}
	t.SetColumnWidth(-1, f.headerW)
	for i, c := range cols {
		f.widths[i] = c.width
		t.SetColumnWidth(i, c.width)
	}
	return f
}

// columnWidths returns the widths the columns get in a table w wide.
func (f *fitColumns) columnWidths(w float32) []float32 {
	sep := theme.Padding() // the table's divider after each column
	avail := w - f.headerW - sep*float32(len(f.cols)+1)
	var design float32
	for _, c := range f.cols {
		design += c.width
	}
	scale := max(avail, 0) / design
	out := make([]float32, len(f.cols))
	for i, c := range f.cols {
		out[i] = max(c.min, float32(int(c.width*scale)))
	}
	return out
}

func (f *fitColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for i, w := range f.columnWidths(size.Width) {
		if f.widths[i] != w {
			f.widths[i] = w
			f.table.SetColumnWidth(i, w)
		}
	}
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (f *fitColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}
