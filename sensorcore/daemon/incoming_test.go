package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// TestApplyRemovesUpload: an uploaded bundle carries the sensor's private
// key; once applied or refused it is removed from the incoming directory,
// whether an archive or a directory. An unfinished upload (.part), whose
// path apply refuses, and a bundle named outside the incoming directory on
// the command line are left alone.
func TestApplyRemovesUpload(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	e := newEngine(t, k, &fakeClock{now})
	ctx := context.Background()
	in := e.Layout.Incoming()
	gone := func(p string) bool { _, err := os.Lstat(p); return os.IsNotExist(err) }

	ok := k.Bundle(t, in, testkit.Spec{Sensor: "sensor-01"})
	if res, err := e.Apply(ctx, ApplyOptions{Path: filepath.Base(ok.Archive)}); err != nil || !res.OK {
		t.Fatalf("apply: %v %+v", err, res)
	}
	if !gone(ok.Archive) {
		t.Error("the applied archive (with its key) stayed in incoming")
	}
	os.RemoveAll(ok.Dir)

	bad := k.Bundle(t, in, testkit.Spec{Sensor: "sensor-01", WrongKey: true})
	if _, err := e.Apply(ctx, ApplyOptions{Path: filepath.Base(bad.Dir)}); err == nil {
		t.Fatal("a bundle whose key does not match was applied")
	}
	if !gone(bad.Dir) {
		t.Error("the refused bundle directory stayed in incoming")
	}
	if _, err := e.Apply(ctx, ApplyOptions{Path: filepath.Base(bad.Archive)}); err == nil || !gone(bad.Archive) {
		t.Errorf("refused archive: %v, removed %v", err, gone(bad.Archive))
	}

	part := filepath.Join(in, "x.tapbundle.part")
	os.WriteFile(part, []byte("half"), 0o600)
	if _, err := e.Apply(ctx, ApplyOptions{Path: "x.tapbundle.part"}); err == nil || gone(part) {
		t.Errorf("unfinished upload: %v, removed %v", err, gone(part))
	}
	outside := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", WrongKey: true})
	if _, err := e.Apply(ctx, ApplyOptions{Path: outside.Archive}); err == nil || gone(outside.Archive) {
		t.Errorf("bundle outside incoming: %v, removed %v", err, gone(outside.Archive))
	}
}

// TestStaleUploadsSwept: what a cut connection or a crashed apply left in
// the incoming directory (an upload never applied, a .part) is removed by
// the daemon's tick once an hour old; a fresh upload stays, also one
// copied with an old modification time (what counts is when it was put
// there).
func TestStaleUploadsSwept(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	in := e.Layout.Incoming()
	b := k.Bundle(t, in, testkit.Spec{Sensor: "sensor-01"})
	part := filepath.Join(in, ".x.tapbundle.abc.part")
	os.WriteFile(part, []byte("half"), 0o600)
	copied := filepath.Join(in, "copied.tapbundle")
	os.WriteFile(copied, []byte("x"), 0o600)
	yesterday := now.Add(-24 * time.Hour)
	os.Chtimes(copied, yesterday, yesterday)
	if _, err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{b.Archive, part, b.Dir, copied} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s (just put there) was removed", filepath.Base(p))
		}
	}
	// Two hours on: all of it is stale but an upload changed since.
	clk.t = now.Add(2 * time.Hour)
	fresh := filepath.Join(in, "fresh.tapbundle")
	os.WriteFile(fresh, []byte("x"), 0o600)
	os.Chtimes(fresh, clk.t, clk.t)
	if _, err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{b.Archive, part, b.Dir, copied} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s (2 hours old) stayed", filepath.Base(p))
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh upload was removed: %v", err)
	}
}
