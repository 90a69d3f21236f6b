package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tapline/tapline/sensorcore/dissect"
)

// File is one plugin as it arrives: its file name, its bytes and its
// signature file's bytes (nil when it has none).
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
	Sig  []byte `json:"sig,omitempty"`
}

// Loaded describes a plugin in use.
type Loaded struct {
	File     string    `json:"file"`
	Protocol string    `json:"protocol"`
	Title    string    `json:"title"`
	Version  string    `json:"version"`
	Signer   string    `json:"signer,omitempty"`
	KeyID    string    `json:"key_id,omitempty"`
	SHA256   string    `json:"sha256"`
	LoadedAt time.Time `json:"loaded_at"`
}

// Refused is a plugin file that was not loaded, and why. Running names
// the version of the same file still in use, if one is.
type Refused struct {
	File    string `json:"file"`
	Reason  string `json:"reason"`
	Running string `json:"running,omitempty"`
}

// Status lists the plugins in use and those refused, by file name.
type Status struct {
	Loaded  []Loaded  `json:"loaded"`
	Refused []Refused `json:"refused,omitempty"`
	// Digest identifies the input last applied (Digest of its files and
	// keys), so a supervisor knows whether the engine has its plugins.
	Digest string `json:"digest,omitempty"`
}

// Set keeps the plugins of one directory registered: Apply loads the
// files given, replaces changed ones and removes those gone. A file that
// is refused (unsigned, signed by another key, altered, or invalid)
// leaves the version of it already running in place.
type Set struct {
	reg *dissect.Registry
	// Unsigned loads plugins without a signature check: for analyze and
	// events on files the engineer chose, never for the monitor.
	unsigned bool

	mu      sync.Mutex
	loaded  map[string]*Loaded // by file name
	refused map[string]Refused
	digest  string
}

// NewSet makes a set registering into reg. With unsigned, signatures are
// not required (offline analysis); the monitor never uses that.
func NewSet(reg *dissect.Registry, unsigned bool) *Set {
	return &Set{reg: reg, unsigned: unsigned, loaded: map[string]*Loaded{}, refused: map[string]Refused{}}
}

// Digest identifies a set of plugin files and trusted keys.
func Digest(files []File, keys []Key) string {
	h := sha256.New()
	fs := append([]File(nil), files...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	for _, f := range fs {
		d, s := sha256.Sum256(f.Data), sha256.Sum256(f.Sig)
		fmt.Fprintf(h, "%q %x %x\n", f.Name, d, s)
	}
	for _, k := range keys {
		fmt.Fprintf(h, "key %s %q\n", k.ID(), k.Name)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Apply makes the set hold the given files, each verified against keys
// (unless the set is unsigned) and compiled; it returns the status.
func (s *Set) Apply(files []File, keys []Key, now time.Time) Status {
	return s.ApplyAccepted(files, nil, keys, now)
}

// ApplyAccepted is Apply with, by file name, the versions of files that
// passed their check earlier (serve keeps them in memory): a file that
// is refused while no version of it runs loads its accepted version
// instead, verified again like any file, and is reported refused with
// that version running. A monitoring engine started after a plugin file
// was changed on disk thus decodes with what the one before it ran, and
// never with the changed file.
func (s *Set) ApplyAccepted(files, accepted []File, keys []Key, now time.Time) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused = map[string]Refused{}
	present := map[string]bool{}
	byProto := map[string]string{}
	for name, l := range s.loaded {
		byProto[l.Protocol] = name
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		present[f.Name] = true
		if err := s.load(f, keys, now, byProto); err != nil {
			r := Refused{File: f.Name, Reason: err.Error()}
			if s.loaded[f.Name] == nil {
				for _, a := range accepted {
					if a.Name == f.Name {
						s.load(a, keys, now, byProto)
					}
				}
			}
			if l := s.loaded[f.Name]; l != nil {
				r.Running = l.Version
			}
			s.refused[f.Name] = r
		}
	}
	for name, l := range s.loaded {
		if !present[name] {
			s.reg.Unregister(l.Protocol)
			delete(s.loaded, name)
		}
	}
	s.digest = Digest(files, keys)
	return s.status()
}

func (s *Set) load(f File, keys []Key, now time.Time, byProto map[string]string) error {
	sum := sha256.Sum256(f.Data)
	hexSum := hex.EncodeToString(sum[:])
	var st *Statement
	if !s.unsigned {
		var err error
		if st, err = Verify(f.Data, f.Sig, keys); err != nil {
			return err
		}
	}
	if l := s.loaded[f.Name]; l != nil && l.SHA256 == hexSum && (st == nil || st.KeyID == l.KeyID) {
		return nil // unchanged
	}
	p, err := Parse(f.Data)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			pe.File = f.Name
		}
		return err
	}
	if err := st.names(p); err != nil {
		return err
	}
	if other, ok := byProto[p.Name]; ok && other != f.Name {
		return fmt.Errorf("plugin: protocol %q is already described by %s; one plugin per protocol", p.Name, other)
	}
	old := s.loaded[f.Name]
	if _, err := p.Register(s.reg); err != nil {
		return err
	}
	if old != nil && old.Protocol != p.Name {
		s.reg.Unregister(old.Protocol)
		delete(byProto, old.Protocol)
	}
	l := &Loaded{File: f.Name, Protocol: p.Name, Title: p.Title, Version: p.Version, SHA256: hexSum, LoadedAt: now.UTC()}
	if st != nil {
		l.Signer, l.KeyID = st.Signer, st.KeyID
	}
	s.loaded[f.Name] = l
	byProto[p.Name] = f.Name
	return nil
}

// Check verifies f against keys and parses it, as the monitor does before
// loading it; it returns the signature's statement.
func Check(f File, keys []Key) (*Statement, error) {
	st, err := Verify(f.Data, f.Sig, keys)
	if err != nil {
		return nil, err
	}
	p, err := Parse(f.Data)
	if err != nil {
		return nil, err
	}
	if err := st.names(p); err != nil {
		return nil, err
	}
	return st, nil
}

// names refuses a signature that names another plugin or version than
// the file (nil: no signature checked).
func (st *Statement) names(p *Plugin) error {
	if st != nil && (st.Plugin != p.Name || st.Version != p.Version) {
		return fmt.Errorf("plugin: the signature names %s %s, the file %s %s", st.Plugin, st.Version, p.Name, p.Version)
	}
	return nil
}

// Status returns what the set holds.
func (s *Set) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status()
}

func (s *Set) status() Status {
	st := Status{Loaded: []Loaded{}, Digest: s.digest}
	for _, l := range s.loaded {
		st.Loaded = append(st.Loaded, *l)
	}
	for _, r := range s.refused {
		st.Refused = append(st.Refused, r)
	}
	sort.Slice(st.Loaded, func(i, j int) bool { return st.Loaded[i].File < st.Loaded[j].File })
	sort.Slice(st.Refused, func(i, j int) bool { return st.Refused[i].File < st.Refused[j].File })
	return st
}

// Close unregisters every plugin of the set.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, l := range s.loaded {
		s.reg.Unregister(l.Protocol)
		delete(s.loaded, name)
	}
}

// MaxDirFiles bounds the plugin files a directory may hold.
const MaxDirFiles = 32

// IsPluginFile reports whether a file name is a plugin's (.yaml or .yml).
func IsPluginFile(name string) bool {
	return (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) && !strings.HasPrefix(name, ".")
}

// ReadDir reads the plugin files of dir with their signatures. A
// directory that does not exist holds no plugins. Files over
// MaxFileSize, links and other non-regular files are refused by name.
func ReadDir(dir string) ([]File, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	var out []File
	for _, e := range ents {
		if !IsPluginFile(e.Name()) {
			continue
		}
		if len(out) == MaxDirFiles {
			return nil, fmt.Errorf("plugin: %s holds more than %d plugins", dir, MaxDirFiles)
		}
		path := filepath.Join(dir, e.Name())
		data, err := readCapped(path, MaxFileSize)
		if err != nil {
			return nil, err
		}
		sig, err := readCapped(path+SignatureSuffix, MaxSignatureSize)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		out = append(out, File{Name: e.Name(), Data: data, Sig: sig})
	}
	return out, nil
}

// readCapped reads a regular file (not following a link) of at most max
// bytes.
func readCapped(path string, max int64) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("plugin: %s is not a regular file", path)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("plugin: %s is %d bytes, over %d", path, fi.Size(), max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("plugin: %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("plugin: %s is over %d bytes", path, max)
	}
	return b, nil
}
