package provision_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
)

// TestCheckFleetDuplicatesThroughCerts: certificate duplicates across the
// inventory come from certs.CheckFleet, on every row involved: two
// different certificates with one CN (TL-CERT-027), one certificate on two
// rows (TL-CERT-028). Names and new IPs stay inventory checks.
func TestCheckFleetDuplicatesThroughCerts(t *testing.T) {
	t.Parallel()
	kit := fleettest.New(t, time.Now().UTC())
	a := kit.Sensor(t, "fl-a", "fl-a.plant.example", "198.18.7.10")
	b := kit.Sensor(t, "fl-b", "fl-a.plant.example", "198.18.7.11") // a's CN, its own certificate
	c := kit.Sensor(t, "fl-c", "fl-c.plant.example", "198.18.7.12")
	var sb strings.Builder
	sb.WriteString("sensor,address,ssh_user,auth,new_ip,new_mask,new_hostname,activation,cert,key,chain\n")
	row := func(name, ip, host string, act, cert, key string) {
		fmt.Fprintf(&sb, "%s,198.18.6.%s,root,agent,%s,24,%s,%s,%s,%s,%s\n", name, ip[len(ip)-2:], ip, host, act, cert, key, kit.ChainPEM)
	}
	row("fl-a", "198.18.7.10", "fl-a.plant.example", a.Activation, a.Cert, a.Key)
	row("fl-b", "198.18.7.11", "fl-a.plant.example", b.Activation, b.Cert, b.Key)
	row("fl-c", "198.18.7.10", "fl-a.plant.example", c.Activation, a.Cert, a.Key) // a's certificate and a's new IP
	p := filepath.Join(t.TempDir(), "fleet.csv")
	os.WriteFile(p, []byte(sb.String()), 0o600)
	inv, err := provision.ReadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	rep := provision.Check(inv, provision.CheckOptions{Now: time.Now(), ActivationRoots: mustRoots(t, kit.RootPub)})
	has := func(i int, code string) bool {
		for _, f := range rep.Rows[i].Findings {
			if f.Code == code && f.Severity == certs.SeverityError {
				return true
			}
		}
		return false
	}
	if !has(0, certs.CodeFleetDuplicateCert) || !has(2, certs.CodeFleetDuplicateCert) || has(1, certs.CodeFleetDuplicateCert) {
		t.Errorf("same certificate on rows 1 and 3: %+v", rep.Rows)
	}
	if !has(1, certs.CodeFleetDuplicateCN) {
		t.Errorf("row 2 shares row 1's CN: %+v", rep.Rows[1].Findings)
	}
	fleet := map[string]bool{}
	for _, f := range rep.Fleet {
		fleet[f.Code] = true
	}
	if !fleet[provision.CodeDuplicateIP] || fleet["TL-INV-004"] || fleet["TL-INV-009"] || !rep.HasErrors() {
		t.Errorf("fleet findings %+v", rep.Fleet)
	}
}
