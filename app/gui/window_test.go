package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newTestMain(t *testing.T) (*Main, Env) {
	t.Helper()
	a := test.NewTempApp(t)
	env := testEnv(a, t.TempDir())
	env.KnownHosts = filepath.Join("testdata", "missing", "known_hosts") // a stable path for the markup
	m := NewMainWindow(a, env)
	t.Cleanup(func() { m.Wait(); m.Window.Close() })
	m.Window.Resize(fyne.NewSize(1100, 720))
	return m, env
}

// TestMainScreensMarkup pins the layout of each main screen as first shown.
func TestMainScreensMarkup(t *testing.T) {
	m, _ := newTestMain(t)
	want := ScreenNames()
	if got := m.Screens(); len(got) != len(want) {
		t.Fatalf("screens %v", got)
	}
	for i, name := range want {
		if m.Screens()[i] != name {
			t.Fatalf("screen %d is %q, want %q", i, m.Screens()[i], name)
		}
		m.ShowScreen(name)
		m.Wait()
		// Every screen fits the default window: nothing is cut off on the right.
		if w := m.Window.Content().MinSize().Width; w > 1100 {
			t.Errorf("%s needs %v pixels across, more than the window's 1100", name, w)
		}
		test.AssertRendersToMarkup(t, "screen_"+strings.ReplaceAll(name, " ", "_")+".xml", m.Window.Canvas())
	}
}

func TestDroppedFilesOpenInWorkbench(t *testing.T) {
	m, _ := newTestMain(t)
	_, _, dir := mustCA(t, "sensor-01.plant.example")
	crt := storage.NewFileURI(filepath.Join(dir, "sensor-01.plant.example.crt"))
	m.onDropped([]fyne.URI{crt, storage.NewFileURI(filepath.Join(dir, "sensor-01.plant.example.key"))})
	m.Wait()
	if m.Tabs.Selected().Text != "Certificates" || len(m.workbench.files) != 2 {
		t.Fatalf("tab %s, %d files", m.Tabs.Selected().Text, len(m.workbench.files))
	}
	// An inventory dropped on the window opens in Fleet.
	inv := writeFile(t, dir, "plant.CSV", []byte("sensor,address,ssh_user,auth,cert,key\nsensor-01,192.0.2.10,admin,password,sensor-01.plant.example.crt,sensor-01.plant.example.key\n"))
	m.onDropped([]fyne.URI{storage.NewFileURI(inv)})
	m.Wait()
	if m.Tabs.Selected().Text != "Fleet" || m.fleet.model.len() != 1 {
		t.Fatalf("inventory drop: tab %s, %d rows (%s) %+v", m.Tabs.Selected().Text, m.fleet.model.len(), m.fleet.path.Text, m.fleet.findings.shown)
	}
}

func TestKeyboard(t *testing.T) {
	m, _ := newTestMain(t)
	// Escape closes the dialog on top.
	d := dialog.NewInformation("Title", "text", m.Window)
	m.env.dialogs.show(d)
	if len(m.Window.Canvas().Overlays().List()) == 0 {
		t.Fatal("dialog not shown")
	}
	m.onKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(m.Window.Canvas().Overlays().List()) != 0 {
		t.Fatal("Escape left the dialog open")
	}
	// Enter on the Setup screen advances the wizard (or says why not).
	m.ShowScreen("Setup")
	m.onKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !hasCode(m.wizard.shown(), codeField) {
		t.Fatalf("Enter on an empty Connect page: %s", codes(m.wizard.shown()))
	}
	// Tab moves through the Connect form in reading order.
	c := m.Window.Canvas()
	c.Focus(m.wizard.conn.address)
	order := []fyne.Focusable{m.wizard.conn.sshPort, m.wizard.conn.consolePort, m.wizard.conn.user}
	for _, want := range order {
		test.FocusNext(c)
		if _, isButton := c.Focused().(*widget.Button); isButton {
			test.FocusNext(c) // the address's list of recent hosts
		}
		if c.Focused() != want {
			t.Fatalf("Tab went to %T, want %T", c.Focused(), want)
		}
	}
}

// TestFilePickerEscape: Escape closes the file dialog wherever the focus is
// inside it (path field, list, a button), as the driver delivers keys: to
// the focused widget only. Choosing a file still works by list and Enter.
func TestFilePickerEscape(t *testing.T) {
	m, _ := newTestMain(t)
	c := m.Window.Canvas()
	dir := t.TempDir()
	writeFile(t, dir, "sensor.crt", []byte("x"))
	os.Mkdir(filepath.Join(dir, "keys"), 0o700)
	writeFile(t, filepath.Join(dir, "keys"), "sensor.key", []byte("x"))
	m.env.App.Preferences().SetString(prefRecentFolder, dir)

	var got string
	open := func() *filePicker {
		t.Helper()
		m.env.openFile(func(p string) { got = p })
		if len(c.Overlays().List()) != 1 {
			t.Fatal("the file dialog is not shown")
		}
		return m.env.dialogs.picker
	}
	escape := &fyne.KeyEvent{Name: fyne.KeyEscape}
	for _, focus := range []func(p *filePicker) fyne.Focusable{
		func(p *filePicker) fyne.Focusable { return p.path },
		func(p *filePicker) fyne.Focusable { return p.list },
		func(p *filePicker) fyne.Focusable { return p.openBtn },
		func(p *filePicker) fyne.Focusable { return p.upBtn },
	} {
		p := open()
		c.Focus(focus(p))
		if c.Focused() != focus(p) {
			t.Fatalf("focus on %T did not take", focus(p))
		}
		c.Focused().TypedKey(escape)
		if len(c.Overlays().List()) != 0 {
			t.Fatalf("Escape with %T focused left the dialog open", focus(p))
		}
	}

	// Folders first; a folder opens, a file fills the path, Enter opens it.
	p := open()
	if c.Focused() != p.path || p.dir != dir || len(p.items) != 2 || !p.items[0].dir {
		t.Fatalf("picker at %s: %+v, focus %T", p.dir, p.items, c.Focused())
	}
	p.list.Select(0)
	if p.dir != filepath.Join(dir, "keys") || len(p.items) != 1 {
		t.Fatalf("folder not opened: %s %+v", p.dir, p.items)
	}
	p.list.Select(0)
	pressEnter(p.path)
	if want := filepath.Join(dir, "keys", "sensor.key"); got != want || len(c.Overlays().List()) != 0 {
		t.Fatalf("chose %q, want %q", got, want)
	}
	if m.env.App.Preferences().String(prefRecentFolder) != filepath.Join(dir, "keys") {
		t.Error("the folder is not remembered")
	}

	// A path that does not exist is said, in the app's words; the dialog stays.
	p = open()
	retype(p.path, filepath.Join(dir, "missing.crt"))
	pressEnter(p.path)
	if len(c.Overlays().List()) != 1 || !strings.HasPrefix(p.status.Text, codeFile+"  Opening missing.crt") {
		t.Fatalf("missing file: %q", p.status.Text)
	}
	test.Tap(p.cancelBtn)
	if len(c.Overlays().List()) != 0 {
		t.Fatal("Cancel left the dialog open")
	}
}
