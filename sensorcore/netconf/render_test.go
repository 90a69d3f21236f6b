package netconf

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", p, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	v4 := good().Network
	v6 := Network{Interface: "ens3", Address: "2001:db8::10", Mask: "64", Gateway: "2001:db8::1", DNS: []string{"2001:db8::53", "192.0.2.53"}}
	for _, c := range []struct {
		name string
		n    Network
		fn   func(Network) ([]byte, error)
	}{
		{"netplan-v4.yaml", v4, RenderNetplan},
		{"netplan-v6.yaml", v6, RenderNetplan},
		{"networkd-v4.network", v4, RenderNetworkd},
		{"networkd-v6.network", v6, RenderNetworkd},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.fn(c.n)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, got)
		})
	}
}

func TestFileBackendWritesUnderRoot(t *testing.T) {
	root := t.TempDir()
	b, err := BackendByName("networkd")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(context.Background(), root, good().Network); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "etc/systemd/network/10-sensorcore.network"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "networkd-v4.network", got)
	if _, err := BackendByName("ifupdown"); err == nil {
		t.Error("unknown backend accepted")
	}
}
