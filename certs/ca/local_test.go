package ca_test

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tapline/tapline/certs/ca"
)

func savedCA(t *testing.T, intermediate bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := newCA(t, intermediate, "").Save(dir, []byte("pw"), nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Twenty certificates issued at once through one session and, at the same
// time, through a second session on the same folder (another process):
// forty distinct serials, all forty on the issued list, none lost.
func TestLocalParallelIssueLosesNothing(t *testing.T) {
	t.Parallel()
	dir := savedCA(t, true)
	a, err := ca.OpenLocal(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.OpenLocal(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	serials := make([]string, 2*n)
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		l := a
		if i >= n {
			l = b
		}
		wg.Go(func() {
			is, err := l.Issue(ca.IssueRequest{Hostname: fmt.Sprintf("sensor-%02d.plant.example", i), KeyType: ca.P256, Now: now})
			if err != nil {
				errs[i] = err
				return
			}
			serials[i] = hex.EncodeToString(is.Cert.SerialNumber.Bytes())
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := ca.Load(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range c.State.Issued {
		got[r.Serial] = r.Hostname
	}
	if len(c.State.Issued) != 2*n || len(got) != 2*n {
		t.Fatalf("state.json records %d certificates (%d distinct), want %d", len(c.State.Issued), len(got), 2*n)
	}
	for i, s := range serials {
		if got[s] != fmt.Sprintf("sensor-%02d.plant.example", i) {
			t.Fatalf("serial %s recorded as %q", s, got[s])
		}
	}
}

// A revocation made by 'tapline ca revoke' while a session is open is not
// undone by the session's next save, and CRL numbers never go back.
func TestSaveStateMergesOtherWriters(t *testing.T) {
	t.Parallel()
	dir := savedCA(t, false)
	l, err := ca.OpenLocal(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.Load(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Revoke(big.NewInt(0x1234), 1, now); err != nil {
		t.Fatal(err)
	}
	if _, err := other.CRL(now, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := other.SaveState(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", KeyType: ca.P256, Now: now}); err != nil {
		t.Fatal(err)
	}
	c, err := ca.Load(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.State.Revoked) != 1 || c.State.Revoked[0].Serial != "1234" || c.State.CRLNumber != 1 || len(c.State.Issued) != 1 {
		t.Fatalf("state after both writers: %+v", c.State)
	}
	// The session's CRLs come after the other writer's: number 2.
	files, err := l.CRLs(now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Number != 2 {
		t.Fatalf("CRL number %d, want 2 (the other writer signed 1)", files[0].Number)
	}
	again, _ := l.CRLs(now, 0)
	if &again[0] != &files[0] {
		t.Fatal("the session signed its CRLs twice")
	}
}

// A Trial issues and signs CRLs in memory only: state.json, the CRL files
// and the session it came from are untouched.
func TestLocalTrialRecordsNothing(t *testing.T) {
	t.Parallel()
	dir := savedCA(t, true)
	l, err := ca.OpenLocal(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, ca.StateFile))
	tr := l.Trial()
	if _, err := tr.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", KeyType: ca.P256, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.CRLs(now, 0); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, ca.StateFile))
	if string(before) != string(after) {
		t.Fatalf("a trial changed state.json:\n%s", after)
	}
	for _, f := range []string{ca.CRLFileName, ca.RootCRLFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Fatalf("a trial wrote %s", f)
		}
	}
	is, err := l.Issue(ca.IssueRequest{Hostname: "sensor-01.plant.example", KeyType: ca.P256, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := ca.Load(dir, []byte("pw"))
	if len(c.State.Issued) != 1 || c.State.Issued[0].Serial != hex.EncodeToString(is.Cert.SerialNumber.Bytes()) {
		t.Fatalf("after the trial, the session's issuance: %+v", c.State.Issued)
	}
}

// Two processes (this test binary run twice, as two tapline commands on
// the same CA folder) issue at the same time: every certificate of both is
// on the issued list, none lost between one's read of state.json and its
// write.
func TestSaveStateAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("TAPLINE_CA_ISSUER_DIR"); dir != "" {
		l, err := ca.OpenLocal(dir, []byte("pw"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			if _, err := l.Issue(ca.IssueRequest{Hostname: fmt.Sprintf("sensor-%s-%02d.plant.example", os.Getenv("TAPLINE_CA_ISSUER"), i), KeyType: ca.P256, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	t.Parallel()
	dir := savedCA(t, false)
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestSaveStateAcrossProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), "TAPLINE_CA_ISSUER_DIR="+dir, fmt.Sprintf("TAPLINE_CA_ISSUER=%c", 'a'+i))
			outs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("issuer %d: %v\n%s", i, err, outs[i])
		}
	}
	c, err := ca.Load(dir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.State.Issued) != 600 {
		t.Fatalf("state.json records %d certificates, want the 600 both processes issued", len(c.State.Issued))
	}
}
