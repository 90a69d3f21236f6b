package provision_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
)

// TestPushFailureCodes: real failures against a real sensorcore end with
// their stable code and fix, the appliance's own code carried through, and
// the code shown in the JSON, CSV and HTML reports.
func TestPushFailureCodes(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	ctx := context.Background()
	p1 := l.prepared(t, "sensor-01", "198.18.0.10")
	start := time.Now()
	want := func(name string, res provision.Result, code string) {
		t.Helper()
		t.Logf("%s: %v", name, time.Since(start))
		c, ok := provision.LookupPushCode(code)
		if code == provision.CodeHostKeyChanged {
			// The fix names the exact command for this host and file.
			c.Fix = strings.Replace(c.Fix, "ssh-keygen -R ADDRESS", sshconn.KeygenRemove(l.sshAddr, l.kh), 1)
		}
		if res.Code != code || !ok || res.Fix != c.Fix || res.Fix == "" {
			t.Errorf("%s: code %q fix %q, want %s (%s)", name, res.Code, res.Fix, code, res.Error)
		}
	}
	want("unknown host", provision.Push(ctx, p1.Target, p1.Bundle, l.options(false, nil)), provision.CodeUnknownHost)

	// Another key at the address known_hosts holds.
	os.WriteFile(l.kh, []byte(hostPattern(l.sshAddr)+" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBESNa+I/Av8zdJb3kZKGCb7eyP9P/8aCjQsZAAlVt5K\n"), 0o600)
	want("changed key", provision.Push(ctx, p1.Target, p1.Bundle, l.options(false, nil)), provision.CodeHostKeyChanged)
	os.Remove(l.kh)

	bad := p1.Target
	otherKey, _ := clientKey(t)
	bad.Auth = sshconn.Auth{KeyFile: otherKey}
	want("auth", provision.Push(ctx, bad, p1.Bundle, l.options(true, nil)), provision.CodeAuthFailed)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	gone := p1.Target
	gone.Addr = closed
	want("unreachable", provision.Push(ctx, gone, p1.Bundle, l.options(true, nil)), provision.CodeUnreachable)

	old := l.options(true, nil)
	old.MinCoreVersion = "999.0.0"
	want("version", provision.Push(ctx, p1.Target, p1.Bundle, old), provision.CodeVersionTooOld)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	want("cancelled", provision.Push(cctx, p1.Target, p1.Bundle, l.options(true, nil)), provision.CodeCancelled)

	// The appliance refuses: validation on, no CRL in the bundle, and its
	// distribution point does not answer: TL-APP-002 carried through.
	l.kit.CRLDP = "http://" + closed + "/ca.crl"
	f := l.kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	row := l.row("sensor-01", "198.18.0.10", f)
	row.CRLValidation = true
	pr, err := (&provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, l.kit.RootPub)}}).Prepare(ctx, row)
	if err != nil {
		t.Fatal(err)
	}
	pr.Target.Addr = l.sshAddr
	l.kit.CRLDP = ""
	res := provision.Push(ctx, pr.Target, pr.Bundle, l.options(true, nil))
	want("apply refused", res, provision.CodeApplyRefused)
	if res.ApplianceCode != "TL-APP-002" || len(res.Findings) == 0 {
		t.Fatalf("appliance code %q findings %v", res.ApplianceCode, res.Findings)
	}

	// The other sensor's bundle at this address: identity mismatch.
	p4 := l.prepared(t, "sensor-02", "198.18.0.10")
	p4.Target.Sensor = "sensor-01"
	want("identity", provision.Push(ctx, p4.Target, p4.Bundle, l.options(true, nil)), provision.CodeIdentityMismatch)

	rep := &provision.BatchReport{Inventory: "site.csv", Results: []provision.RowResult{{Row: row, Result: res, Attempts: 1}}}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"json": func(b *bytes.Buffer) error { return rep.WriteJSON(b) },
		"csv":  func(b *bytes.Buffer) error { return rep.WriteCSV(b) },
		"html": func(b *bytes.Buffer) error { return rep.WriteHTML(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil || !strings.Contains(b.String(), provision.CodeApplyRefused) || !strings.Contains(b.String(), "TL-APP-002") {
			t.Errorf("%s report lacks the codes: %v\n%s", name, err, b.String())
		}
	}
}

func hostPattern(addr string) string {
	h, p, _ := net.SplitHostPort(addr)
	return "[" + h + "]:" + p
}
