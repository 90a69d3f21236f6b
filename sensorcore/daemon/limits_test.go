package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// sparse makes path an 8 TiB sparse file, or skips (fails under CI) where
// the file system cannot hold one.
func sparse(t *testing.T, path string) {
	t.Helper()
	needs.SparseFile(t, path, 8<<40)
}

// TestReadsAreCapped: every file the daemon reads has a stated maximum
// size. Each one made an 8 TiB sparse file is refused by size, naming it,
// never read into memory (the test would die of it).
func TestReadsAreCapped(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	k := testkit.New(t, now, "")
	clk := &fakeClock{now}
	e := newEngine(t, k, clk)
	b := k.Bundle(t, e.Layout.Incoming(), testkit.Spec{Sensor: "sensor-01"})
	if _, err := e.Apply(context.Background(), ApplyOptions{Path: filepath.Base(b.Archive)}); err != nil {
		t.Fatal(err)
	}
	l := e.Layout
	st := l.Store()
	cp, _ := l.SelfSignedPaths()
	for name, c := range map[string]struct {
		path string
		read func() error
	}{
		"config.json":  {filepath.Join(l.Etc(), "config.json"), func() error { _, err := LoadConfig(l); return err }},
		"run.json":     {l.RunFile(), func() error { _, err := safefile.ReadFile(l.RunFile(), MaxStateFile); return err }},
		"pending.json": {filepath.Join(l.State(), "pending.json"), func() error { _, err := st.ReadPending(); return err }},
		"factory":      {l.factoryPath(), func() error { _, _, err := l.ReadFactoryNetwork(); return err }},
		"generation certificate": {filepath.Join(st.Path(1), "sensor.crt"), func() error {
			_, err := st.ReadFile(1, "sensor.crt")
			return err
		}},
		"generation.json": {filepath.Join(st.Path(1), "generation.json"), func() error { _, err := st.ReadMeta(1); return err }},
		"self-signed":     {cp, func() error { _, _, err := e.selfSigned(); return err }},
		"trust root": {k.RootFile, func() error {
			_, err := NewEngine(Options{Root: l.Root, TrustRoots: []string{k.RootFile}})
			return err
		}},
	} {
		t.Run(name, func(t *testing.T) {
			if saved, err := os.ReadFile(c.path); err == nil {
				defer os.WriteFile(c.path, saved, 0o600)
			} else {
				defer os.Remove(c.path)
			}
			sparse(t, c.path)
			err := c.read()
			if !errors.Is(err, safefile.ErrTooLarge) {
				t.Fatalf("read of an 8 TiB %s: %v", name, err)
			}
		})
	}
	// A run.json that large is no daemon, not a crash.
	sparse(t, l.RunFile())
	if _, ok := l.ReadRunInfo(); ok {
		t.Fatal("an 8 TiB run.json read as a daemon")
	}
}
