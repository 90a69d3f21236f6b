package netconf

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/filemode"
)

// TestFileBackendHostname: under a root other than "/" the netplan and
// networkd backends write R/etc/hostname beside their network file, as
// systemd-hostnamed writes /etc/hostname on an appliance; settings without
// a host name leave it alone.
func TestFileBackendHostname(t *testing.T) {
	for _, name := range []string{"netplan", "networkd"} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			be, err := BackendByName(name)
			if err != nil {
				t.Fatal(err)
			}
			n := Network{Interface: "eth0", Address: "192.0.2.10", Mask: "255.255.255.0", Gateway: "192.0.2.1", Hostname: "sensor-01.plant.example."}
			if err := be.Apply(context.Background(), root, n); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(root, HostnameFile)
			b, err := os.ReadFile(p)
			if err != nil || string(b) != "sensor-01.plant.example\n" {
				t.Fatalf("%s: %q %v", p, b, err)
			}
			if ok, err := filemode.Is(p, 0o644); err != nil || !ok {
				t.Fatalf("%s: not mode 0644 like /etc/hostname: %v", p, err)
			}
			n.Hostname = ""
			if err := be.Apply(context.Background(), root, n); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(p); string(b) != "sensor-01.plant.example\n" {
				t.Fatalf("settings without a host name changed %s: %q", p, b)
			}
			if err := be.SetHostname(context.Background(), root, "factory-name"); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(p); string(b) != "factory-name\n" {
				t.Fatalf("SetHostname: %q", b)
			}
			// RemoveConfig takes the backend's network file away.
			r, ok := be.(ConfigRemover)
			if !ok {
				t.Fatalf("%s is not a ConfigRemover", name)
			}
			var ents []string
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.Contains(d.Name(), "sensorcore") {
					ents = append(ents, p)
				}
				return nil
			})
			if len(ents) != 1 {
				t.Fatalf("network file: %v", ents)
			}
			if err := r.RemoveConfig(context.Background(), root); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(ents[0]); !os.IsNotExist(err) {
				t.Fatalf("%s still there: %v", ents[0], err)
			}
			if err := r.RemoveConfig(context.Background(), root); err != nil {
				t.Fatalf("removing it again: %v", err)
			}
		})
	}
}

func TestHostnameMatches(t *testing.T) {
	for _, c := range []struct {
		live, conf string
		want       bool
	}{
		{"sensor-01.plant.example", "sensor-01.plant.example", true},
		{"Sensor-01.Plant.Example", "sensor-01.plant.example.", true},
		{"sensor-01", "sensor-01.plant.example", false},
		{"", "sensor-01", false},
	} {
		if got := HostnameMatches(c.live, c.conf); got != c.want {
			t.Errorf("HostnameMatches(%q, %q) = %v", c.live, c.conf, got)
		}
	}
}
