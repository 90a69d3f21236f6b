package provision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/bundle"
)

// TestPrepareGatesWarnings: a row whose check warns (no chain file:
// TL-CERT warning) gets no bundle unless the warnings are accepted; then
// the manifest lists them in accepted_warnings. A row with an error never
// gets one; a clean row needs no acceptance.
func TestPrepareGatesWarnings(t *testing.T) {
	t.Parallel()
	ex, _ := filepath.Abs("../examples/site-a")
	dir := t.TempDir()
	row := func(sensor, chain, mask string) string {
		n := sensor[len(sensor)-1:]
		return fmt.Sprintf("%s,198.18.0.%s,root,key,/nonexistent/key,%s/activation/%s.tapact,%s/certs/%s.crt,%s/certs/%s.key,%s,192.0.2.11%s,%s,%s.plant.example",
			sensor, n, ex, sensor, ex, sensor, ex, sensor, chain, n, mask, sensor)
	}
	csv := "sensor,address,ssh_user,auth,key_file,activation,cert,key,chain,new_ip,new_mask,new_hostname\n" +
		row("sensor-01", ex+"/certs/chain.pem", "24") + "\n" + row("sensor-02", "", "24") + "\n"
	p := filepath.Join(dir, "site.csv")
	os.WriteFile(p, []byte(csv), 0o600)
	inv, err := provision.ReadInventory(p)
	if err != nil {
		t.Fatal(err)
	}
	prep := func(accept bool) *provision.Session {
		return &provision.Session{AcceptWarnings: accept, Check: provision.CheckOptions{Now: exampleNow(t), ActivationRoots: mustRoots(t, exampleRootPub)}}
	}
	ctx := context.Background()
	clean, warned := inv.Rows[0], inv.Rows[1]
	pr, err := prep(false).Prepare(ctx, clean)
	if err != nil {
		t.Fatalf("clean row refused: %v", err)
	}
	if m := manifestOf(t, pr.Bundle); len(m.AcceptedWarnings) != 0 {
		t.Fatalf("clean row's accepted_warnings %v", m.AcceptedWarnings)
	}
	_, err = prep(false).Prepare(ctx, warned)
	var ge *bundle.GateError
	if !errors.As(err, &ge) || len(ge.Errors) != 0 || len(ge.Warnings) == 0 || !strings.Contains(err.Error(), "--accept-warnings") {
		t.Fatalf("warned row without acceptance: %v", err)
	}
	pr, err = prep(true).Prepare(ctx, warned)
	if err != nil {
		t.Fatalf("warned row with acceptance: %v", err)
	}
	m := manifestOf(t, pr.Bundle)
	for _, f := range ge.Warnings {
		if !slices.Contains(m.AcceptedWarnings, f.Code) {
			t.Fatalf("accepted_warnings %v lacks %s", m.AcceptedWarnings, f.Code)
		}
	}
	// An error is never accepted: the activation file of another sensor.
	bad := warned
	bad.Activation = clean.Activation
	if _, err := prep(true).Prepare(ctx, bad); err == nil {
		t.Fatal("a row with another sensor's activation file got a bundle")
	}
	bad = clean
	bad.Cert = filepath.Join(ex, "certs", "sensor-02.crt")
	if _, err := prep(true).Prepare(ctx, bad); !errors.As(err, &ge) || len(ge.Errors) == 0 {
		t.Fatalf("a row whose certificate does not match its key: %v", err)
	}
}

func manifestOf(t *testing.T, pb provision.Bundle) *bundle.Manifest {
	t.Helper()
	b, err := bundle.ReadArchive(bytes.NewReader(pb.Archive))
	if err != nil {
		t.Fatal(err)
	}
	return b.Manifest
}
