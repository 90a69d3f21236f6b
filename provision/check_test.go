package provision

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/examplesite"
	"github.com/tapline/tapline/sensorcore/activation"
)

// exampleCheck reads examples/site-a.csv (its files were made by tapline
// batch example) with its demo root.
func exampleOptions(t *testing.T) CheckOptions {
	t.Helper()
	root, err := activation.ReadPublicKey("../examples/site-a/demo-authority/demo-root.pub")
	if err != nil {
		t.Fatal(err)
	}
	at, err := examplesite.CheckTime("../examples/site-a")
	if err != nil {
		t.Fatal(err)
	}
	return CheckOptions{Now: at, ActivationRoots: []ed25519.PublicKey{root}}
}

func TestCheckExampleIsClean(t *testing.T) {
	inv, err := ReadInventory("../examples/site-a.csv")
	if err != nil {
		t.Fatal(err)
	}
	o := exampleOptions(t)
	rep := Check(inv, o)
	if rep.HasErrors() {
		t.Fatalf("example has errors: %+v", rep)
	}
	rc := rep.Rows[0]
	if rc.CN != "sensor-01.plant.example" || len(rc.CertFingerprint) != 64 || rc.FinalIP != "192.0.2.111" {
		t.Fatalf("row 1: %+v", rc)
	}
	want := []string{"- address 192.0.2.11", "+ address 192.0.2.111/24 on eth0", "+ gateway 192.0.2.1", "+ dns 192.0.2.53, 192.0.2.54", "+ hostname sensor-01.plant.example"}
	if strings.Join(rc.Diff, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s", strings.Join(rc.Diff, "\n"))
	}
}

func TestCheckFindsFleetAndRowErrors(t *testing.T) {
	src, err := os.ReadFile("../examples/site-a.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	// Row 2 gets row 1's name and final IP; row 3 a gateway outside its subnet
	// and row 1's certificate; a wrong activation for row 3.
	lines[4] = strings.Replace(strings.Replace(lines[4], "sensor-02,", "sensor-01,", 1), "192.0.2.112,", "192.0.2.111,", 1)
	lines[5] = strings.Replace(lines[5], ",192.0.2.1,", ",198.51.100.1,", 1)
	lines[5] = strings.Replace(lines[5], "certs/sensor-03.crt,site-a/certs/sensor-03.key", "certs/sensor-01.crt,site-a/certs/sensor-01.key", 1)
	lines[5] = strings.Replace(lines[5], "activation/sensor-03.tapact", "activation/sensor-02.tapact", 1)
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "site-a"), os.DirFS("../examples/site-a")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "bad.csv")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	inv, err := ReadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	rep := Check(inv, exampleOptions(t))
	codes := map[string]bool{}
	for _, f := range rep.Fleet {
		codes[f.Code] = true
	}
	for _, rc := range rep.Rows {
		for _, f := range rc.Findings {
			codes[f.Code] = true
		}
	}
	for _, c := range []string{CodeDuplicateName, CodeDuplicateIP, certs.CodeFleetDuplicateCert, CodeNetwork, activation.CodeWrongSensor} {
		if !codes[c] {
			t.Errorf("missing finding %s; got %v", c, codes)
		}
	}
	if !rep.HasErrors() {
		t.Fatal("HasErrors false")
	}
	var gw string
	for _, f := range rep.Rows[2].Findings {
		if f.Code == CodeNetwork {
			gw = f.Message
		}
	}
	if !strings.Contains(gw, "198.51.100.1 is outside the subnet 192.0.2.0/24") {
		t.Fatalf("gateway finding %q", gw)
	}
}
