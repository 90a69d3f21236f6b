package gui

import (
	"errors"
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Tour walks every screen on the demo fleet the way a newcomer would and
// calls shot after each view worth a picture (make screenshots). It runs on
// its own goroutine, never the UI's: UI actions go through the UI queue and
// it waits for each screen's background work.
func (m *Main) Tour(shot func(name string) error) error {
	f := m.env.Preset
	if f == nil || len(f.Sensors) < 2 {
		return errors.New("tour: start the app on the demo fleet (--demo) with at least 2 sensors")
	}
	// With the test queue the tour's goroutine is the UI goroutine (Wait
	// drains the queue on it); with Fyne's driver, DoAndWait.
	ui := func(f func()) {
		if m.env.ui != nil {
			f()
			return
		}
		fyne.DoAndWait(f)
	}
	w := m.wizard
	step := func(name string, act func()) error {
		if act != nil {
			ui(act)
		}
		m.Wait()
		return shot(name)
	}
	// Setup wizard, page by page, ending with the push. The key file is
	// optional: chosen and left empty, the line under it says which key
	// signs in; the demo's sensors take the password.
	if err := step("setup-connect-key", func() { m.ShowScreen("Setup"); w.conn.auth.SetSelected(authKey) }); err != nil {
		return err
	}
	if err := step("setup-connect", func() { w.conn.auth.SetSelected(authPassword); w.conn.onConnect() }); err != nil {
		return err
	}
	ui(func() { w.conn.onTrust() })
	m.Wait()
	if err := step("setup-network", w.onNext); err != nil {
		return err
	}
	// A mistake on the way: a gateway outside the subnet, said under it.
	gw := w.net.gateway.Text
	if err := step("setup-network-error", func() { w.net.gateway.SetText("198.51.100.1"); w.onNext() }); err != nil {
		return err
	}
	ui(func() { w.net.gateway.SetText(gw); w.onNext() })
	m.Wait()
	// Another sensor's activation file: flagged against the live sensor.
	if err := step("setup-activation-mismatch", func() { w.act.path.SetText(f.Sensors[1].Activation); w.act.load() }); err != nil {
		return err
	}
	ui(func() { w.act.path.SetText(f.Sensors[0].Activation); w.act.load() })
	m.Wait()
	if err := step("setup-activation", func() { w.act.confirm.SetChecked(true); w.act.terms.SetChecked(true) }); err != nil {
		return err
	}
	if err := step("setup-certificate", w.onNext); err != nil {
		return err
	}
	if err := step("setup-review", w.onNext); err != nil {
		return err
	}
	ui(w.onNext)
	if err := step("setup-push", w.push.onPush); err != nil { // ends in the done state
		return err
	}
	if err := step("setup-validate", w.onNext); err != nil { // the push's validation, check by check
		return err
	}
	// Fleet: check, run, one sensor's log.
	fl := m.fleet
	if err := step("fleet-checked", func() { m.ShowScreen("Fleet"); fl.onCheck() }); err != nil {
		return err
	}
	ui(func() { fl.onRun(nil) })
	if err := step("fleet", func() { fl.table.Select(widget.TableCellID{Row: 1, Col: 0}) }); err != nil {
		return err
	}
	// Site: the pushed sensors stream to the demo's site.
	if f.Site != "" {
		if err := m.tourSite(ui, shot); err != nil {
			return err
		}
	}
	// Certificate workbench on another sensor's files, then the local CA.
	wb := m.workbench
	sn := f.Sensors[1]
	ui(func() {
		m.ShowScreen("Certificates")
		wb.hostname.SetText(sn.Hostname)
		wb.ip.SetText(sn.NewIP)
		wb.addPaths([]string{sn.Cert, sn.Key, sn.Chain})
	})
	if err := step("certificates", nil); err != nil {
		return err
	}
	if err := step("certificates-wrong-host", func() { wb.hostname.SetText("sensor-09.plant.example"); wb.onCheck() }); err != nil {
		return err
	}
	// The file dialog (Open file…), then Escape closes it.
	if err := step("choose-file", func() {
		m.env.App.Preferences().SetString(prefRecentFolder, filepath.Dir(sn.Cert))
		wb.onOpen()
	}); err != nil {
		return err
	}
	ui(func() { m.env.dialogs.closeTop() })
	if err := step("local-ca", func() {
		wb.tabs.SelectIndex(1)
		wb.ca.passphrase.SetText(f.CAPassphrase)
		wb.ca.onUnlock()
	}); err != nil {
		return err
	}
	// Plugins: the C37.118 example decoded on a shared capture, when the
	// tour runs from the repository (make screenshots).
	pl := m.plugins
	if err := step("plugins", func() {
		m.ShowScreen("Plugins")
		pl.pluginPath.SetText(filepath.Join("examples", "plugins", "c37118", "c37118.yaml"))
		if caps, _ := filepath.Glob(filepath.Join("..", "shared", "pcaps", "c37118", "*TCP*.pcap")); len(caps) > 0 {
			pl.captures.SetText(caps[0])
		}
		pl.refreshSensors()
		pl.onDecode()
	}); err != nil {
		return err
	}
	if err := step("known-hosts", func() { m.ShowScreen("Known hosts") }); err != nil {
		return err
	}
	ui(func() { m.known.list.Select(0) })
	if err := shot("known-hosts-selected"); err != nil {
		return err
	}
	if err := step("settings", func() { m.ShowScreen("Settings") }); err != nil {
		return fmt.Errorf("tour: %w", err)
	}
	return nil
}
