package gui

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// tabWalk presses Tab from the first focusable widget until the focus
// comes back to it, and returns the widgets in the order Tab visits them.
func tabWalk(t *testing.T, c fyne.Canvas) []fyne.Focusable {
	t.Helper()
	c.Unfocus()
	test.FocusNext(c)
	first := c.Focused()
	if first == nil {
		return nil
	}
	out := []fyne.Focusable{first}
	for i := 0; i < 200; i++ {
		test.FocusNext(c)
		f := c.Focused()
		if f == first || f == nil {
			return out
		}
		out = append(out, f)
	}
	t.Fatal("Tab never came back to the first widget")
	return nil
}

// inReadingOrder reports where Tab goes against reading order: each widget
// must be on the same row as the one before and to its right, or below it.
func inReadingOrder(walk []fyne.Focusable) error {
	d := fyne.CurrentApp().Driver()
	for i := 1; i < len(walk); i++ {
		a, b := walk[i-1].(fyne.CanvasObject), walk[i].(fyne.CanvasObject)
		pa, pb := d.AbsolutePositionForObject(a), d.AbsolutePositionForObject(b)
		sameRow := pb.Y < pa.Y+a.Size().Height && pa.Y < pb.Y+b.Size().Height
		if sameRow && pb.X > pa.X || !sameRow && pb.Y >= pa.Y+a.Size().Height-1 {
			continue
		}
		return fmt.Errorf("Tab goes from %T at %v to %T at %v (widget %d of %d)", walk[i-1], pa, walk[i], pb, i+1, len(walk))
	}
	return nil
}

// TestTabOrderEveryForm: on every screen, every page of the setup wizard and
// the local CA, Tab moves through the widgets as the eye reads them: left
// to right along a row, then down; never up to a toolbar after the table
// below it.
func TestTabOrderEveryForm(t *testing.T) {
	m, _ := newTestMain(t)
	c := m.Window.Canvas()
	check := func(what string, min int) {
		t.Helper()
		m.Wait()
		walk := tabWalk(t, c)
		if len(walk) < min {
			t.Errorf("%s: Tab reaches %d widgets, want at least %d", what, len(walk), min)
		}
		if err := inReadingOrder(walk); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for _, name := range m.Screens() {
		m.ShowScreen(name)
		check(name, 2)
	}
	m.ShowScreen("Setup")
	for i, st := range m.wizard.steps {
		m.wizard.show(i)
		check("Setup: "+st.title(), 1)
	}
	m.ShowScreen("Certificates")
	m.workbench.tabs.SelectIndex(1)
	check("Certificates: Local CA", 3)
}
