package gui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// progressBar shows how far a push got: a neutral track, the part done in
// the primary colour, the percentage on top. Fyne's own bar draws its track
// in a faded primary colour, which on the dark theme reads as a full bar at
// 0%; here the part not done looks empty.
type progressBar struct {
	widget.BaseWidget
	// Value is the part done, 0 to 1.
	Value float64
}

var _ fyne.Widget = (*progressBar)(nil)

func newProgressBar() *progressBar {
	p := &progressBar{}
	p.ExtendBaseWidget(p)
	return p
}

// SetValue sets the part done (clamped to 0..1) and redraws.
func (p *progressBar) SetValue(v float64) {
	p.Value = min(max(v, 0), 1)
	p.Refresh()
}

func (p *progressBar) CreateRenderer() fyne.WidgetRenderer {
	r := &progressRenderer{p: p, track: canvas.NewRectangle(nil), done: canvas.NewRectangle(nil), label: canvas.NewText("", nil)}
	r.label.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type progressRenderer struct {
	p     *progressBar
	track *canvas.Rectangle
	done  *canvas.Rectangle
	label *canvas.Text
}

func (r *progressRenderer) Layout(size fyne.Size) {
	r.track.Resize(size)
	r.done.Resize(fyne.NewSize(size.Width*float32(r.p.Value), size.Height))
	r.label.Resize(size)
}

func (r *progressRenderer) MinSize() fyne.Size {
	th := r.p.Theme()
	pad := th.Size(theme.SizeNameInnerPadding) * 2
	return fyne.MeasureText("100%", th.Size(theme.SizeNameText), fyne.TextStyle{}).AddWidthHeight(pad, pad)
}

func (r *progressRenderer) Refresh() {
	th := r.p.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	radius := th.Size(theme.SizeNameInputRadius)
	r.track.FillColor = th.Color(theme.ColorNameInputBackground, v)
	r.track.StrokeColor = th.Color(theme.ColorNameInputBorder, v)
	r.track.StrokeWidth = th.Size(theme.SizeNameInputBorder)
	r.track.CornerRadius = radius
	r.done.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.done.CornerRadius = radius
	r.done.Hidden = r.p.Value <= 0
	r.label.Color = th.Color(theme.ColorNameForeground, v)
	r.label.TextSize = th.Size(theme.SizeNameText)
	r.label.Text = strconv.Itoa(int(r.p.Value*100)) + "%"
	r.Layout(r.p.Size())
	r.track.Refresh()
	r.done.Refresh()
	r.label.Refresh()
}

func (r *progressRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.done, r.label}
}

func (r *progressRenderer) Destroy() {}
