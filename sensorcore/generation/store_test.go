package generation

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStageCommitSwitch(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if _, err := s.Current(); !errors.Is(err, ErrNone) {
		t.Fatalf("empty store: %v", err)
	}
	for n := 1; n <= 2; n++ {
		dir, err := s.Stage(Meta{Generation: n, Previous: n - 1}, map[string][]byte{"sensor.key": []byte("k")}, func(string) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(dir, n); err != nil {
			t.Fatal(err)
		}
		if err := s.Switch(n); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Current(); err != nil || c != n {
			t.Fatalf("current %d %v, want %d", c, err, n)
		}
	}
	fi, err := os.Stat(filepath.Join(s.Path(2), "sensor.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode: %v %v", fi, err)
	}
	// An interrupted apply: a staging directory and a committed generation 3
	// that never became current. Clean removes the first; Next skips 3.
	if _, err := s.Stage(Meta{Generation: 3}, nil, nil); err != nil {
		t.Fatal(err)
	}
	d4, _ := s.Stage(Meta{Generation: 3}, nil, nil)
	s.Commit(d4, 3)
	os.Symlink("x", filepath.Join(s.Dir, ".current.tmpdead"))
	if err := s.Clean(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(s.Dir, "generations"))
	if len(ents) != 3 {
		t.Fatalf("after clean: %d entries", len(ents))
	}
	if n, _ := s.Next(); n != 4 {
		t.Fatalf("next %d, want 4", n)
	}
	if err := s.Switch(9); err == nil {
		t.Fatal("switched to a missing generation")
	}
	if err := s.Prune(2, 2); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.List(); len(l) != 2 || l[0] != 2 {
		t.Fatalf("after prune %v", l)
	}
}

func TestPendingAndRollback(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if p, err := s.ReadPending(); p != nil || err != nil {
		t.Fatalf("no pending: %v %v", p, err)
	}
	d := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	if err := s.WritePending(Pending{Generation: 2, Previous: 1, Deadline: d}); err != nil {
		t.Fatal(err)
	}
	p, err := s.ReadPending()
	if err != nil || p.Generation != 2 || !p.Deadline.Equal(d) {
		t.Fatalf("pending %+v %v", p, err)
	}
	if err := s.ClearPending(); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.ReadPending(); p != nil {
		t.Fatal("pending not cleared")
	}
	s.WriteRollback(Rollback{From: 2, To: 1, Reason: "deadline"})
	if r, _ := s.ReadRollback(); r == nil || r.Reason != "deadline" {
		t.Fatal("rollback record")
	}
}
