package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
)

// leftovers lists what is in dir besides the names given.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		ok := false
		for _, k := range keep {
			ok = ok || e.Name() == k
		}
		if !ok {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestWriteFileReplaces: the content and the exact mode land under the
// final name (whatever the umask), and no temporary file stays behind.
func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, perm := range []os.FileMode{0o600, 0o644, 0o755} {
		if err := WriteFile(p, []byte("new "+perm.String()), perm); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(b) != "new "+perm.String() {
			t.Fatalf("content %q", b)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != perm {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), perm)
		}
	}
	if l := leftovers(t, dir, "state.json"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// TestWriteAbandoned: an error from the writer (a hash that does not
// match, say) or a failing write leaves the old file exactly as it was
// and no temporary file.
func TestWriteAbandoned(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key.pem")
	os.WriteFile(p, []byte("the key"), 0o600)
	refused := errors.New("hash mismatch")
	err := Write(p, 0o600, func(w io.Writer) error {
		io.WriteString(w, "half a new ke")
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("err %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "the key" {
		t.Fatalf("old file changed: %q", b)
	}
	if l := leftovers(t, dir, "key.pem"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
	// A directory that is not there: an error naming the file.
	if err := WriteFile(filepath.Join(dir, "no", "such"), nil, 0o600); err == nil || !strings.Contains(err.Error(), "such") {
		t.Fatalf("missing directory: %v", err)
	}
}

// TestWriteConcurrent: writers of the same file never share a temporary
// file (the old fixed ".tmp" name let two writers interleave): the result
// is always one writer's whole content.
func TestWriteConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "run.json")
	var wg sync.WaitGroup
	want := map[string]bool{}
	for i := range 16 {
		s := strings.Repeat(fmt.Sprintf("%02d", i), 4096)
		want[s] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := WriteFile(p, []byte(s), 0o644); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(p)
	if !want[string(b)] {
		t.Fatalf("mixed content (%d bytes)", len(b))
	}
	if l := leftovers(t, dir, "run.json"); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// TestReadFileLimit: a file over the limit is refused without being read,
// also a sparse one claiming terabytes; a directory is refused.
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("12345"), 0o600)
	if b, err := ReadFile(p, 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q %v", b, err)
	}
	_, err := ReadFile(p, 4)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) || tl.Max != 4 || !strings.Contains(err.Error(), p) {
		t.Fatalf("over the limit: %v", err)
	}
	sparse := filepath.Join(dir, "sparse")
	needs.SparseFile(t, sparse, 8<<40)
	if _, err := ReadFile(sparse, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("8 TiB sparse file: %v", err)
	}
	if _, err := ReadFile(dir, 1<<20); err == nil {
		t.Fatal("a directory was read")
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := ReadFileIn(r, "sparse", 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFileIn: %v", err)
	}
	if _, err := ReadFileIn(r, "../f", 1<<20); err == nil {
		t.Fatal("ReadFileIn left its root")
	}
}

// TestRemoveStale: a temporary file a crash left behind goes once it is
// old; a young one (a write in progress) and other files stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".run.json.tmp123", ".young.tmp456", "run.json", ".hidden"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	old := time.Now().Add(-time.Hour)
	for _, n := range []string{".run.json.tmp123", "run.json", ".hidden"} {
		os.Chtimes(filepath.Join(dir, n), old, old)
	}
	RemoveStale(dir, time.Minute)
	if l := leftovers(t, dir); strings.Join(l, " ") != ".hidden .young.tmp456 run.json" {
		t.Fatalf("left: %v", l)
	}
}
