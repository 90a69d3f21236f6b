package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/plugin"
)

// TestPluginsScreen: lint problems with their lines; the C37.118 example
// decoded on a shared capture into the operations table with its alert;
// signed with the plant's key (a wrong passphrase refused, nothing
// written); sent to the chosen sensors of the Fleet's inventory with the
// key's public half, through the Fleet's push.
func TestPluginsScreen(t *testing.T) {
	root := filepath.Join("..", "..")
	caps, _ := filepath.Glob(filepath.Join(root, "..", "shared", "pcaps", "c37118", "*TCP*.pcap"))
	if len(caps) == 0 {
		needs.Missing(t, "needs the shared C37.118 captures in ../shared/pcaps/c37118")
	}
	dir := t.TempDir()
	a := test.NewTempApp(t)
	env := testEnv(a, dir)
	fleet := newFleetScreen(env)
	s := newPluginsScreen(env, fleet)
	w := test.NewTempWindow(t, s.build())
	w.Resize(fyne.NewSize(1200, 800))

	// A plugin with an error: its line.
	src, err := os.ReadFile(filepath.Join(root, "examples", "plugins", "c37118", "c37118.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(src), "byte_order: big", "byte_order: middle", 1)), 0o644)
	s.pluginPath.SetText(bad)
	test.Tap(s.decodeBtn)
	s.tasks.Wait()
	if !strings.Contains(s.problems.Text, "line 10:13: byte_order") || !strings.Contains(s.summary.Text, "does not load") {
		t.Fatalf("problems %q, summary %q", s.problems.Text, s.summary.Text)
	}

	// The example on a capture: operations and the alert.
	good := filepath.Join(dir, "c37118.yaml")
	os.WriteFile(good, src, 0o644)
	s.pluginPath.SetText(good)
	s.captures.SetText(caps[0])
	test.Tap(s.decodeBtn)
	s.tasks.Wait()
	if len(s.ops) == 0 || !strings.Contains(s.summary.Text, "c37118:") || s.opCell(cell(0, 3)) != "Function" {
		t.Fatalf("decoded: %d operations, summary %q, problems %q", len(s.ops), s.summary.Text, s.problems.Text)
	}
	if s.opCell(cell(1, 1)) == "" || s.opCell(cell(1, 3)) == "" {
		t.Fatalf("first row: %q %q", s.opCell(cell(1, 1)), s.opCell(cell(1, 3)))
	}
	if !strings.Contains(s.alerts.Text, "PMU data transmission turned off") {
		t.Fatalf("alerts: %q", s.alerts.Text)
	}

	// Sign: a wrong passphrase writes nothing; the right one signs.
	priv, pub, err := plugin.GenerateKey("Plant A plugins", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	keyDir := filepath.Join(dir, "plugin-key")
	os.MkdirAll(keyDir, 0o700)
	os.WriteFile(filepath.Join(keyDir, plugin.SigningKeyFile), priv, 0o600)
	os.WriteFile(filepath.Join(keyDir, plugin.PublicKeyFile), pub, 0o644)
	s.keyPath.SetText(filepath.Join(keyDir, plugin.SigningKeyFile))
	test.Type(s.passphrase, "wrong")
	test.Tap(s.signBtn)
	s.tasks.Wait()
	if !strings.Contains(s.signStatus.Text, "does not open") || fileExists(good+plugin.SignatureSuffix) {
		t.Fatalf("wrong passphrase: %q", s.signStatus.Text)
	}
	s.passphrase.SetText("correct horse")
	test.Tap(s.signBtn)
	s.tasks.Wait()
	sig, err := os.ReadFile(good + plugin.SignatureSuffix)
	keys, _ := plugin.ParseKeys(pub)
	if err != nil || !strings.Contains(s.signStatus.Text, `Signed by "Plant A plugins"`) {
		t.Fatalf("sign: %q %v", s.signStatus.Text, err)
	}
	if st, err := plugin.Verify(src, sig, keys); err != nil || st.Plugin != "c37118" {
		t.Fatalf("the signature does not verify: %v", err)
	}

	// The chosen sensors get it with their push.
	fleet.inv = &provision.Inventory{Rows: []provision.Row{{Sensor: "sensor-01"}, {Sensor: "sensor-02"}}}
	s.refreshSensors()
	if len(s.sensors.Options) != 2 {
		t.Fatalf("sensors %v", s.sensors.Options)
	}
	var pushed map[string]bool
	s.onPush = func(only map[string]bool) { pushed = only }
	s.sensors.SetSelected([]string{"sensor-02"})
	test.Tap(s.pushBtn)
	rows := fleet.inv.Rows
	if len(pushed) != 1 || !pushed["sensor-02"] || len(rows[1].Plugins) != 1 || rows[1].Plugins[0] != good ||
		rows[1].PluginKey != filepath.Join(keyDir, plugin.PublicKeyFile) || rows[0].Plugins != nil {
		t.Fatalf("push: %v %+v", pushed, rows)
	}
}

func cell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }
