package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/inventory"
)

func TestSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "sensorcore", "monitor")
	if _, err := Load(dir); !errors.Is(err, ErrNoState) {
		t.Fatalf("empty dir: %v", err)
	}
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	fc := 41
	st := &State{
		Assets:   []inventory.Asset{{ID: "ip:192.0.2.1", IPs: []string{"192.0.2.1"}, Protocols: []string{"s7comm"}, FirstSeen: t0, LastSeen: t0}},
		Alerts:   []alert.Alert{{ID: 1, Time: t0, LastSeen: t0, Count: 1, Severity: "critical", Rule: "s7-plc-stop", Function: &fc, Status: "new"}},
		Baseline: alert.BaselineRecord{Start: t0, Devices: []string{"192.0.2.1"}},
	}
	if err := Save(dir, st); err != nil {
		t.Fatal(err)
	}
	// a second save replaces, not appends
	if err := Save(dir, st); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("loaded\n%+v\nwant\n%+v", got, st)
	}
	fi, _ := os.Stat(Path(dir))
	if fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := os.WriteFile(Path(dir), []byte("not a bbolt file at all, just text"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("corrupt file loaded")
	}
}
