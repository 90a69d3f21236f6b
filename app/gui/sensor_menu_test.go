package gui

import (
	"bytes"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/internal/consoletest"
)

// TestSensorMenuResetsConsolePassword: the sensor menu recovers a console
// account over the provisioning SSH channel: refused for a host whose key
// was never trusted (nothing sent), then from the wizard signed in to the
// sensor a one-time password shown once, which the console takes and asks
// to change at once; from Fleet, on the selected row.
func TestSensorMenuResetsConsolePassword(t *testing.T) {
	f := startDemo(t, 1)
	sn := f.Sensors[0]
	a := test.NewTempApp(t)
	env := demoEnv(t, a, f)
	win := test.NewTempWindow(t, widget.NewLabel(""))
	win.Resize(fyne.NewSize(1000, 700))
	env.Window = win
	env.dialogs = &dialogs{}
	var logged bytes.Buffer
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	// Fleet first: nothing selected, then a sensor whose host key is not
	// trusted yet.
	fl := newFleetScreen(env)
	win.SetContent(fl.build())
	fl.open(f.Inventory)
	if !fl.menu.btn.Disabled() {
		t.Fatal("the sensor menu is on with no sensor selected")
	}
	fl.table.Select(widget.TableCellID{Row: 0, Col: 0})
	if fl.menu.btn.Disabled() {
		t.Fatal("the sensor menu is off with a sensor selected")
	}
	test.Type(fl.password, sn.Password)
	fl.menu.reset("admin")
	fl.menu.tasks.Wait()
	if fl.menu.last != nil || !hasCode(fl.menu.lastErr, codeUnknown) || len(win.Canvas().Overlays().List()) != 1 {
		t.Fatalf("unknown host: %+v %+v", fl.menu.last, fl.menu.lastErr)
	}
	env.dialogs.closeTop()

	// The wizard, signed in: its menu appears and resets admin.
	w := newWizardScreen(env)
	win.SetContent(w.build())
	if w.menu.btn.Visible() {
		t.Fatal("the wizard's sensor menu shows before Connect")
	}
	connectedTo(t, w, sn)
	if !w.menu.btn.Visible() {
		t.Fatal("the wizard's sensor menu is hidden once signed in")
	}
	w.menu.reset("admin")
	w.Wait()
	w.menu.tasks.Wait()
	r := w.menu.last
	if r == nil || r.Password == "" || !r.MustChange || r.User != "admin" {
		t.Fatalf("reset: %+v %+v", r, w.menu.lastErr)
	}
	pw := r.Password
	if !strings.Contains(texts(overlayCanvas{win.Canvas()}), pw) {
		t.Fatal("the one-time password is not shown")
	}
	// The console takes it and asks for a new password at once.
	resp, err := consoletest.From("127.0.0.1").PostForm("https://"+net.JoinHostPort(sn.Address, sn.ConsolePort)+"/login",
		url.Values{"user": {"admin"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
		t.Fatalf("sign-in with the one-time password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Closing the dialog drops it.
	env.dialogs.closeTop()
	if w.menu.last.Password != "" || strings.Contains(texts(overlayCanvas{win.Canvas()}), pw) {
		t.Fatal("the password outlives its dialog")
	}
	// Shown once, never logged nor written: not in the process's log, not
	// in any file under the app's folders.
	if strings.Contains(logged.String(), pw) {
		t.Error("the one-time password went to the log")
	}
	for _, root := range []string{env.FilesDir, filepath.Dir(env.KnownHosts)} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(pw)) {
					t.Errorf("%s holds the one-time password", path)
				}
			}
			return nil
		})
	}

	// Fleet again, now that the host key is trusted: support this time.
	win.SetContent(fl.build())
	fl.menu.reset("support")
	fl.menu.tasks.Wait()
	if fl.menu.last == nil || fl.menu.last.User != "support" || fl.menu.last.Password == "" {
		t.Fatalf("Fleet reset: %+v %+v", fl.menu.last, fl.menu.lastErr)
	}
	pw = fl.menu.last.Password
	if l := strings.Join(fl.model.logOf(0), "\n") + fl.logText.Text(); strings.Contains(l, pw) || strings.Contains(logged.String(), pw) {
		t.Error("the one-time password went to the sensor's log")
	}
	env.dialogs.closeTop()
}

// overlayCanvas shows texts what the top overlay (a dialog) holds.
type overlayCanvas struct{ fyne.Canvas }

func (c overlayCanvas) Content() fyne.CanvasObject {
	if top := c.Canvas.Overlays().Top(); top != nil {
		return top
	}
	return c.Canvas.Content()
}
