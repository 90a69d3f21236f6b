package provision

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/userpath"
)

func TestParseInventory(t *testing.T) {
	home := t.TempDir() // no default SSH key in it
	t.Setenv(userpath.HomeEnv(), home)
	const good = "# comment\nSensor,Address,SSH-User,auth,key_file,new_ip,new_mask,new_dns,cert,key\n" +
		"s1,192.0.2.11,admin,key,keys/id,192.0.2.111,24,192.0.2.53;192.0.2.54,c.crt,/abs/c.key\n" +
		",,,,,,,,,\n" +
		"s2,192.0.2.12:2222,admin,agent,,,,,c2.crt,c2.key\n"
	inv, err := ParseInventory(strings.NewReader(good), "/site", "site.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Rows) != 2 {
		t.Fatalf("%d rows", len(inv.Rows))
	}
	r := inv.Rows[0]
	if r.Line != 3 || r.KeyFile != filepath.Join("/site", "keys", "id") || r.Key != filepath.FromSlash("/abs/c.key") || r.SSHAddr() != "192.0.2.11:22" ||
		len(r.NewDNS) != 2 || r.Interface != "eth0" || r.ConsolePort != 443 {
		t.Fatalf("row 1: %+v", r)
	}
	if r2 := inv.Rows[1]; r2.SSHAddr() != "192.0.2.12:2222" || r2.Line != 5 || len(r2.Record) != 10 {
		t.Fatalf("row 2: %+v", r2)
	}

	for _, c := range []struct{ name, csv, want string }{
		{"empty", "", "empty file"},
		{"unknown column", "sensor,address,ssh_user,auth,colour\n", "column colour: unknown column"},
		{"missing column", "sensor,address,ssh_user\n", "column auth: required column missing"},
		{"no rows", "sensor,address,ssh_user,auth\n", "no sensors"},
		{"bad auth", "sensor,address,ssh_user,auth,cert,key\ns1,192.0.2.1,admin,telnet,a,b\n", "site.csv:2: column auth: \"telnet\""},
		{"key without file", "sensor,address,ssh_user,auth,cert,key\ns1,192.0.2.1,admin,key,a,b\n",
			"column key_file: auth is key: no key file given and none of id_ed25519, id_ecdsa, id_rsa in " + filepath.Join(home, ".ssh") + ": give key_file, or make one"},
		{"bad port", "sensor,address,ssh_user,auth,ssh_port,cert,key\ns1,192.0.2.1,admin,agent,99999,a,b\n", "column ssh_port"},
		{"no cert", "sensor,address,ssh_user,auth\ns1,192.0.2.1,admin,agent\n", "column cert"},
		{"bad source", "sensor,address,ssh_user,auth,cert_source\ns1,192.0.2.1,admin,agent,smartcard\n", "column cert_source"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseInventory(strings.NewReader(c.csv), "/site", "site.csv")
			var ie *InventoryError
			if err == nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}

	// auth key and no key_file: the default key in the home folder's .ssh
	// (%USERPROFILE%\.ssh on Windows), as ssh takes it.
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("key"), 0o600)
	inv, err = ParseInventory(strings.NewReader("sensor,address,ssh_user,auth,key_file,cert,key\ns1,192.0.2.1,admin,key,,a,b\n"), "/site", "site.csv")
	if err != nil || inv.Rows[0].KeyFile != filepath.Join(home, ".ssh", "id_rsa") || len(inv.Rows[0].MoreKeyFiles) != 0 {
		t.Fatalf("default key: %v %+v", err, inv)
	}
	// Every default key that exists, the first named and the others
	// offered after it, as ssh offers them all.
	os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte("key"), 0o600)
	inv, err = ParseInventory(strings.NewReader("sensor,address,ssh_user,auth,key_file,cert,key\ns1,192.0.2.1,admin,key,,a,b\n"), "/site", "site.csv")
	if err != nil || inv.Rows[0].KeyFile != filepath.Join(home, ".ssh", "id_ed25519") ||
		strings.Join(inv.Rows[0].MoreKeyFiles, ",") != filepath.Join(home, ".ssh", "id_rsa") {
		t.Fatalf("default keys: %v %+v", err, inv.Rows[0])
	}
}

func FuzzParseInventory(f *testing.F) {
	f.Add("sensor,address,ssh_user,auth,cert,key\ns1,192.0.2.1,admin,agent,a,b\n")
	f.Add("sensor,address,ssh_user,auth,new_dns\n\"s1\",[::1]:22,a,key,;;\n")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInventory(strings.NewReader(s), "/x", "f.csv")
		if err == nil && (inv == nil || len(inv.Rows) == 0) {
			t.Fatal("no error and no rows")
		}
	})
}

// TestInventoryPlugins: plugin_key is a path like the other files; plugins
// is a ;-separated list of paths, each resolved beside the inventory.
func TestInventoryPlugins(t *testing.T) {
	csv := "sensor,address,ssh_user,auth,bundle,plugin_key,plugins\n" +
		"s1,192.0.2.10,admin,agent,s1.tapbundle,keys/plugin-signing.pub,kilnnet.yaml; /opt/p/opcua.yaml ;\n" +
		"s2,192.0.2.11,admin,agent,s2.tapbundle,,\n"
	inv, err := ParseInventory(strings.NewReader(csv), "/site", "site.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := inv.Rows[0]
	if r.PluginKey != filepath.FromSlash("/site/keys/plugin-signing.pub") || len(r.Plugins) != 2 || r.Plugins[0] != filepath.FromSlash("/site/kilnnet.yaml") || r.Plugins[1] != filepath.FromSlash("/opt/p/opcua.yaml") {
		t.Fatalf("row 1: %q %q", r.PluginKey, r.Plugins)
	}
	if r := inv.Rows[1]; r.PluginKey != "" || r.Plugins != nil || !inv.HasPlugins() {
		t.Fatalf("row 2: %q %q", r.PluginKey, r.Plugins)
	}
}
