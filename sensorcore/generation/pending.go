package generation

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tapline/tapline/internal/safefile"
)

// Pending is pending.json: a generation applied with an address change and
// not yet confirmed. If Deadline passes, the daemon restores Previous.
type Pending struct {
	Generation int       `json:"generation"`
	Previous   int       `json:"previous"`
	Deadline   time.Time `json:"deadline"`
	ArmedAt    time.Time `json:"armed_at"`
}

// Rollback is last-rollback.json: why the sensor last went back.
type Rollback struct {
	From   int       `json:"from"`
	To     int       `json:"to"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

const (
	pendingName  = "pending.json"
	rollbackName = "last-rollback.json"
)

// ReadPending returns the pending record, or nil when none.
func (s Store) ReadPending() (*Pending, error) {
	var p Pending
	ok, err := readJSON(filepath.Join(s.Dir, pendingName), &p)
	if !ok {
		return nil, err
	}
	return &p, nil
}

// WritePending persists p (atomically, fsynced): it survives a restart or a reboot.
func (s Store) WritePending(p Pending) error {
	return writeJSON(filepath.Join(s.Dir, pendingName), p)
}

// ClearPending removes the pending record.
func (s Store) ClearPending() error {
	err := os.Remove(filepath.Join(s.Dir, pendingName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return safefile.SyncDir(s.Dir)
}

// ReadRollback returns the last rollback, or nil when none.
func (s Store) ReadRollback() (*Rollback, error) {
	var r Rollback
	ok, err := readJSON(filepath.Join(s.Dir, rollbackName), &r)
	if !ok {
		return nil, err
	}
	return &r, nil
}

// WriteRollback records a rollback.
func (s Store) WriteRollback(r Rollback) error {
	return writeJSON(filepath.Join(s.Dir, rollbackName), r)
}

func readJSON(path string, v any) (bool, error) {
	b, err := safefile.ReadFile(path, MaxStateSize)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("generation: %s: %v", path, err)
	}
	return true, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return safefile.WriteFile(path, append(b, '\n'), 0o600)
}
