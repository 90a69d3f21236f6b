package generation

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tapline/tapline/internal/safefile"
)

// Store is the generations directory tree under a state directory.
type Store struct {
	Dir string // var/lib/sensorcore under the sensor's root
}

const (
	gensDir     = "generations"
	currentLink = "current"
	stagingPfx  = ".staging-"
	metaName    = "generation.json"
	networkDone = ".network-applied"
)

// ErrNone is returned when no generation has been applied yet.
var ErrNone = errors.New("generation: none applied yet")

// Meta is generation.json: what a generation is and where it came from.
type Meta struct {
	Generation  int       `json:"generation"`
	Previous    int       `json:"previous"` // 0 when none
	AppliedAt   time.Time `json:"applied_at"`
	SensorName  string    `json:"sensor_name"`
	BundleName  string    `json:"bundle_name"`
	Fingerprint string    `json:"certificate_fingerprint_sha256"`
}

// Path returns generation n's directory.
func (s Store) Path(n int) string { return filepath.Join(s.Dir, gensDir, strconv.Itoa(n)) }

// Current returns the current generation number (ErrNone when none).
func (s Store) Current() (int, error) {
	t, err := os.Readlink(filepath.Join(s.Dir, currentLink))
	if errors.Is(err, os.ErrNotExist) {
		return 0, ErrNone
	}
	if err != nil {
		return 0, fmt.Errorf("generation: %w", err)
	}
	n, err := strconv.Atoi(filepath.Base(t))
	if err != nil || filepath.Dir(t) != gensDir {
		return 0, fmt.Errorf("generation: current points at %q, not a generation", t)
	}
	return n, nil
}

// ReadMeta reads generation n's generation.json.
func (s Store) ReadMeta(n int) (Meta, error) {
	var m Meta
	b, err := safefile.ReadFile(filepath.Join(s.Path(n), metaName), MaxStateSize)
	if err != nil {
		return m, fmt.Errorf("generation %d: %w", n, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("generation %d: %s: %v", n, metaName, err)
	}
	return m, nil
}

// MaxFileSize bounds each file a generation holds and ReadFile reads: a
// bundle's files are at most 4 MiB, a fetched CRL at most 8 MiB.
const MaxFileSize = 8 << 20

// MaxStateSize bounds the store's own JSON files (generation.json,
// pending.json, last-rollback.json), which are under 1 KiB.
const MaxStateSize = 1 << 20

// ReadFile reads one file of generation n, at most MaxFileSize bytes.
func (s Store) ReadFile(n int, name string) ([]byte, error) {
	return safefile.ReadFile(filepath.Join(s.Path(n), name), MaxFileSize)
}

// List returns the committed generation numbers in ascending order.
func (s Store) List() ([]int, error) {
	ents, err := os.ReadDir(filepath.Join(s.Dir, gensDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && n > 0 {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Next returns the number a new generation gets: one above every committed
// one (a committed but never switched-to generation is skipped, not reused).
func (s Store) Next() (int, error) {
	l, err := s.List()
	if err != nil {
		return 0, err
	}
	if len(l) == 0 {
		return 1, nil
	}
	return l[len(l)-1] + 1, nil
}

// Clean removes staging directories and temporary links an interrupted
// write left behind. Hold the lock.
func (s Store) Clean() error {
	ents, err := os.ReadDir(filepath.Join(s.Dir, gensDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), stagingPfx) {
			if err := os.RemoveAll(filepath.Join(s.Dir, gensDir, e.Name())); err != nil {
				return err
			}
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(s.Dir, "."+currentLink+".tmp*"))
	for _, t := range tmps {
		os.Remove(t)
	}
	// Temporary files of atomic writes (run.json, pending.json, ...) a
	// crash left; a minute old at least, so none still being written.
	safefile.RemoveStale(s.Dir, time.Minute)
	return nil
}

// Stage writes files and meta into a new staging directory, fsyncing each
// file and the directory, and returns the directory. Commit makes it a
// generation.
func (s Store) Stage(m Meta, files map[string][]byte, secret func(string) bool) (string, error) {
	base := filepath.Join(s.Dir, gensDir)
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", err
	}
	var rb [6]byte
	rand.Read(rb[:])
	dir := filepath.Join(base, fmt.Sprintf("%s%d-%s", stagingPfx, m.Generation, hex.EncodeToString(rb[:])))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	all := map[string][]byte{metaName: append(mb, '\n')}
	for k, v := range files {
		if k == metaName || strings.ContainsAny(k, "/\\") || strings.HasPrefix(k, ".") {
			return "", fmt.Errorf("generation: bad file name %q", k)
		}
		all[k] = v
	}
	for name, data := range all {
		mode := os.FileMode(0o644)
		if secret != nil && secret(name) {
			mode = 0o600
		}
		if err := writeSynced(filepath.Join(dir, name), data, mode); err != nil {
			return "", err
		}
	}
	return dir, safefile.SyncDir(dir)
}

// Commit renames a staged directory to generation n and fsyncs the parent.
func (s Store) Commit(staged string, n int) error {
	if err := os.Rename(staged, s.Path(n)); err != nil {
		return fmt.Errorf("generation: commit %d: %w", n, err)
	}
	return safefile.SyncDir(filepath.Join(s.Dir, gensDir))
}

// Switch points "current" at generation n: a new symlink renamed over the
// old one (rename(2) is atomic), then the directory is fsynced.
func (s Store) Switch(n int) error {
	if _, err := os.Stat(filepath.Join(s.Path(n), metaName)); err != nil {
		return fmt.Errorf("generation: switch to %d: %w", n, err)
	}
	var rb [6]byte
	rand.Read(rb[:])
	tmp := filepath.Join(s.Dir, "."+currentLink+".tmp"+hex.EncodeToString(rb[:]))
	if err := os.Symlink(filepath.Join(gensDir, strconv.Itoa(n)), tmp); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, currentLink)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("generation: %w", err)
	}
	return safefile.SyncDir(s.Dir)
}

// NetworkApplied reports whether generation n's network settings were
// applied since it last became current.
func (s Store) NetworkApplied(n int) bool {
	_, err := os.Stat(filepath.Join(s.Path(n), networkDone))
	return err == nil
}

// MarkNetwork records (done) or clears (!done) that generation n's network
// was applied.
func (s Store) MarkNetwork(n int, done bool) error {
	p := filepath.Join(s.Path(n), networkDone)
	if !done {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return safefile.SyncDir(s.Path(n))
	}
	return safefile.WriteFile(p, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// Prune removes committed generations other than keep's, oldest first,
// leaving at most max generations.
func (s Store) Prune(max int, keep ...int) error {
	l, err := s.List()
	if err != nil {
		return err
	}
	kept := map[int]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	for i := 0; len(l)-i > max && i < len(l); i++ {
		if !kept[l[i]] {
			if err := os.RemoveAll(s.Path(l[i])); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeSynced(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Lock takes the store's exclusive lock (flock on var/lib/sensorcore/lock)
// for apply, confirm and rollback; the returned func releases it.
func (s Store) Lock() (func(), error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("generation: lock: %w", err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// ClearCurrent removes "current": the appliance is back on its factory
// state (generation 0). Committed generations stay on disk; the next one
// still gets a new number. Hold the lock.
func (s Store) ClearCurrent() error {
	err := os.Remove(filepath.Join(s.Dir, currentLink))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("generation: %w", err)
	}
	return safefile.SyncDir(s.Dir)
}
