package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/inventory"
)

// FileName is the database's name inside the state directory.
const FileName = "monitor.db"

// LockTimeout is how long Load and Save wait for the file lock.
const LockTimeout = 5 * time.Second

var (
	bucketAssets   = []byte("assets")
	bucketAlerts   = []byte("alerts")
	bucketBaseline = []byte("baseline")
	keyBaseline    = []byte("v1")
)

// ErrNoState means the state directory holds no database yet.
var ErrNoState = errors.New("store: no monitor state yet")

// State is everything the monitor persists.
type State struct {
	Assets   []inventory.Asset
	Alerts   []alert.Alert
	Baseline alert.BaselineRecord
}

// Path is the database path inside dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Save writes st to dir/monitor.db in one transaction, replacing what was
// there, creating dir (0750) and the file (0640) when missing.
func Save(dir string, st *State) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	db, err := bolt.Open(Path(dir), 0o640, &bolt.Options{Timeout: LockTimeout})
	if err != nil {
		return fmt.Errorf("store: %s: %w", Path(dir), err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAssets, bucketAlerts, bucketBaseline} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		ab := tx.Bucket(bucketAssets)
		for i := range st.Assets {
			v, err := json.Marshal(&st.Assets[i])
			if err != nil {
				return err
			}
			if err := ab.Put([]byte(st.Assets[i].ID), v); err != nil {
				return err
			}
		}
		lb := tx.Bucket(bucketAlerts)
		for i := range st.Alerts {
			v, err := json.Marshal(&st.Alerts[i])
			if err != nil {
				return err
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], st.Alerts[i].ID)
			if err := lb.Put(k[:], v); err != nil {
				return err
			}
		}
		v, err := json.Marshal(&st.Baseline)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketBaseline).Put(keyBaseline, v)
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", Path(dir), err)
	}
	return nil
}

// Load reads dir/monitor.db read-only. It returns ErrNoState when the file
// does not exist.
func Load(dir string) (*State, error) {
	p := Path(dir)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoState, p)
	}
	db, err := bolt.Open(p, 0o640, &bolt.Options{Timeout: LockTimeout, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", p, err)
	}
	defer db.Close()
	st := &State{}
	err = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketAssets); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				var a inventory.Asset
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("asset %q: %w", k, err)
				}
				st.Assets = append(st.Assets, a)
				return nil
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket(bucketAlerts); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				var a alert.Alert
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("alert %x: %w", k, err)
				}
				st.Alerts = append(st.Alerts, a)
				return nil
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket(bucketBaseline); b != nil {
			if v := b.Get(keyBaseline); v != nil {
				if err := json.Unmarshal(v, &st.Baseline); err != nil {
					return fmt.Errorf("baseline: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", p, err)
	}
	return st, nil
}
