package provision_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
)

// The one list of push steps: its order, the words the app shows, and the
// progress over a whole push.
func TestStepsList(t *testing.T) {
	got := fmt.Sprint(provision.Options{}.Steps())
	want := "[{connect Connect} {trust Trust the host key} {preflight Preflight} {upload Upload the bundle} {apply Apply} {confirm Reconnect and confirm} {verify Verify the certificate on the console}]"
	if got != want {
		t.Fatalf("steps\n got %s\nwant %s", got, want)
	}
	with := provision.Options{InstallCore: &provision.Core{}}.Steps()
	if with.Index(provision.StepInstallCore) != 2 || with.Index(provision.StepPreflight) != 3 || len(with) != 8 {
		t.Fatalf("with --install-core: %v", with)
	}
	s := provision.Options{}.Steps()
	for _, c := range []struct {
		e    provision.Event
		want float64
	}{
		{provision.Event{Step: provision.StepConnect}, 0},
		{provision.Event{Step: provision.StepUpload, Percent: 50}, 3.5 / 7},
		{provision.Event{Step: provision.StepVerify, Percent: 100}, 1},
		{provision.Event{Step: provision.StepVerify, Percent: 250}, 1},
		{provision.Event{Step: provision.StepInstallCore}, -1},
	} {
		if got := s.Progress(c.e); got != c.want {
			t.Errorf("progress at %s %.0f%%: %v, want %v", c.e.Step, c.e.Percent, got, c.want)
		}
	}
}

// Session.Push builds the bundle in memory and pushes it; pushed again, the
// sensor already runs it, so the push only verifies, and says so.
func TestSessionPushThenReverify(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	f := l.kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	row, sess := l.rowAt(t, "sensor-01", "198.18.0.10", f), l.session(t)
	var mu sync.Mutex
	var steps []provision.Step
	record := func(e provision.Event) {
		mu.Lock()
		defer mu.Unlock()
		if len(steps) == 0 || steps[len(steps)-1] != e.Step {
			steps = append(steps, e.Step)
		}
	}
	res, err := sess.Push(context.Background(), row, record)
	if err != nil || res.Outcome != provision.OutcomeDone || res.Reverified || res.BundleFingerprint == "" || res.ServedFingerprint != res.BundleFingerprint {
		t.Fatalf("first push: %v %+v\n%s", err, res, l.app.Log.String())
	}
	mu.Lock()
	if got := fmt.Sprint(steps); got != "[connect trust preflight upload apply verify]" {
		t.Fatalf("first push steps %s", got)
	}
	steps = nil
	mu.Unlock()
	res, err = sess.Push(context.Background(), row, record)
	if err != nil || res.Outcome != provision.OutcomeDone || !res.Reverified || res.Uploaded != nil || res.Generation != 1 {
		t.Fatalf("second push: %v %+v", err, res)
	}
	mu.Lock()
	if got := fmt.Sprint(steps); got != "[connect trust preflight verify]" {
		t.Fatalf("second push steps %s", got)
	}
	mu.Unlock()
	// A row that cannot be built sends nothing and says why.
	row.Cert = f.Key
	if res, err := sess.Push(context.Background(), row, record); err == nil || res.Code != provision.CodeNoBundle || res.Outcome != provision.OutcomeRefused {
		t.Fatalf("unbuildable row: %v %+v", err, res)
	}
}

// A changed host key on a port other than 22: the error and the fix give
// the exact command, ssh-keygen -R '[127.0.0.1]:PORT' -f FILE; and the
// preflight speaks of free space in human units.
func TestChangedHostKeyHintAndSizes(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	p := l.prepared(t, "sensor-01", "198.18.0.10")
	var msgs []string
	var mu sync.Mutex
	res := provision.Push(context.Background(), p.Target, p.Bundle, l.options(true, func(e provision.Event) {
		mu.Lock()
		msgs = append(msgs, e.Message)
		mu.Unlock()
	}))
	if res.Outcome != provision.OutcomeDone {
		t.Fatalf("first push: %+v", res)
	}
	mu.Lock()
	human := regexp.MustCompile(`generation \d+, \d+\.\d [KMGTPE]iB free`)
	if !human.MatchString(strings.Join(msgs, "\n")) {
		t.Errorf("preflight does not say the free space in human units:\n%s", strings.Join(msgs, "\n"))
	}
	mu.Unlock()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(other)
	_, port, _ := net.SplitHostPort(l.sshAddr)
	os.WriteFile(l.kh, []byte("[127.0.0.1]:"+port+" "+string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), 0o600)
	res = provision.Push(context.Background(), p.Target, p.Bundle, l.options(true, nil))
	want := "ssh-keygen -R '[127.0.0.1]:" + port + "' -f " + l.kh
	if res.Code != provision.CodeHostKeyChanged || res.Outcome != provision.OutcomeRefused || !strings.Contains(res.Error, want) || !strings.Contains(res.Fix, want) {
		t.Fatalf("changed host key: want %q in the error and the fix: %+v", want, res)
	}
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 bytes"}, {1, "1 byte"}, {1023, "1023 bytes"}, {1536, "1.5 KiB"}, {79572537344, "74.1 GiB"}, {3 << 40, "3.0 TiB"}} {
		if got := provision.HumanBytes(c.n); got != c.want {
			t.Errorf("HumanBytes(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}

// The validate step after a push, and Session.Validate as the wizard and
// Fleet call it: the lab sensor runs the none backend, so the gateway and
// DNS probes say "not applied (backend none)" and send nothing, the sanity
// lines are all up, and the push stays done whatever validation finds.
func TestValidateAfterPush(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	p := l.prepared(t, "sensor-01", "198.18.0.10")
	o := l.options(true, nil)
	o.Validate = true
	if got := o.Steps(); got[len(got)-1].Step != provision.StepValidate {
		t.Fatalf("steps with Validate: %v", got)
	}
	res := provision.Push(context.Background(), p.Target, p.Bundle, o)
	if res.Outcome != provision.OutcomeDone || res.Validation == nil || res.Step != provision.StepValidate {
		t.Fatalf("push with validate: %+v (%s)", res, res.ValidationError)
	}
	check := func(v *provision.Validation) {
		t.Helper()
		st := map[string]string{}
		for _, c := range v.Checks {
			st[c.Check+" "+c.Target] = c.Status + ": " + c.Detail
		}
		if !v.OK || v.Backend != "none" || !strings.HasPrefix(v.Verdict, "validated") ||
			!strings.HasPrefix(st["gateway "], "not_configured") && !strings.Contains(fmt.Sprint(st), "not applied (backend none)") ||
			!strings.HasPrefix(st["sanity console"], "ok") || !strings.HasPrefix(st["capture "], "not_configured") {
			t.Fatalf("validation: %s %v", v.Verdict, st)
		}
	}
	check(res.Validation)
	sess := &provision.Session{KnownHosts: l.kh}
	v, err := sess.Validate(context.Background(), provision.Target{Addr: l.sshAddr, User: "provision", Auth: sshconn.Auth{KeyFile: l.key}, PinnedKey: res.PinnedKey})
	if err != nil {
		t.Fatal(err)
	}
	check(v)
}
