package netconf

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
				t.Fatalf("%s: mode %v, want 0644 like /etc/hostname", p, fi.Mode().Perm())
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
