package provision

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/site"
)

func uplinkSite(t *testing.T) (string, *ca.CA) {
	t.Helper()
	now := time.Now()
	c, err := ca.Init(ca.InitOptions{Country: "DE", Organization: "Example Plant", KeyType: ca.P256, Now: now, KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := siteconf.Init(siteconf.Options{Site: "plant-a", Nodes: []siteconf.Node{{Host: "192.0.2.20", ClientPort: 4222, ClusterPort: 6222}},
		Sensors: []string{"sensor-01"}, Dir: dir, CA: c, Now: now}); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, siteconf.SiteFile), c
}

// TestUplinkColumn: the uplink column (site init's site.json) gives the
// settings and the files site init made for the sensor; batch check
// finds nothing wrong with them, and the bundle carries them. A client
// certificate from another CA, a server certificate, a missing
// credential: each is the finding the sensor's apply would refuse with.
func TestUplinkColumn(t *testing.T) {
	sj, _ := uplinkSite(t)
	row := Row{Line: 2, Sensor: "sensor-01", Address: "192.0.2.11", Interface: "eth0", NewMask: "24", Uplink: sj}
	s, err := row.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.Uplink == nil || s.Uplink.Site != "plant-a" || len(s.Uplink.Servers) != 1 || s.Uplink.Servers[0] != "tls://192.0.2.20:4222" {
		t.Fatalf("uplink settings %+v", s.Uplink)
	}
	if fs := checkUplink(row, CheckOptions{Now: time.Now()}); len(fs) != 0 {
		t.Fatalf("site init's own files: %+v", fs)
	}
	files := map[bundle.Role][]byte{}
	if err := (&Session{}).uplinkFiles(row, files); err != nil {
		t.Fatal(err)
	}
	for _, r := range []bundle.Role{bundle.RoleUplinkCA, bundle.RoleUplinkClientCert, bundle.RoleUplinkClientKey, bundle.RoleUplinkCredential} {
		if len(files[r]) == 0 {
			t.Fatalf("the bundle lacks %s", r)
		}
	}

	other, _ := uplinkSite(t) // another site: another CA
	otherCreds := filepath.Join(filepath.Dir(other), siteconf.CredsDir)
	dir := t.TempDir()
	_, c2 := uplinkSite(t)
	srv, err := c2.Issue(ca.IssueRequest{Hostname: "nats-1.plant.example", KeyType: ca.P256, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "server.crt"), srv.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "server.key"), srv.KeyPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "bad.nk"), []byte("SAnot-a-seed\n"), 0o600)
	for _, c := range []struct {
		name string
		row  func(Row) Row
		code string
	}{
		{"another CA's client certificate", func(r Row) Row {
			r.UplinkCert, r.UplinkKey = filepath.Join(otherCreds, "sensor-01-client.crt"), filepath.Join(otherCreds, "sensor-01-client.key")
			return r
		}, site.CodeChain},
		{"a server certificate", func(r Row) Row {
			r.UplinkCert, r.UplinkKey = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
			return r
		}, site.CodeClientEKU},
		{"not a credential", func(r Row) Row { r.UplinkCredential = filepath.Join(dir, "bad.nk"); return r }, site.CodeCredential},
		{"a missing credential", func(r Row) Row { r.UplinkCredential = filepath.Join(dir, "none.nk"); return r }, CodeUnreadable},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := checkUplink(c.row(row), CheckOptions{Now: time.Now()})
			found := false
			for _, f := range fs {
				found = found || f.Code == c.code
			}
			if !found {
				t.Fatalf("findings %+v, want %s", fs, c.code)
			}
		})
	}
	// Uplink columns without the uplink: an error naming the column.
	bad := row
	bad.Uplink, bad.UplinkCredential = "", filepath.Join(dir, "bad.nk")
	if _, err := bad.Settings(); err == nil {
		t.Fatal("uplink_credential without uplink was accepted")
	}
}
