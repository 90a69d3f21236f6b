package uplink

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OutboxFile is the outbox's database in the uplink's state folder.
const OutboxFile = "outbox.db"

// Default bounds of the outbox.
const (
	DefaultMaxMessages = 100000
	DefaultMaxBytes    = 64 << 20
)

var (
	bucketMeta = []byte("meta")
	bucketMsgs = []byte("msgs") // seq (8 bytes big-endian) -> Stored JSON
	bucketKeys = []byte("keys") // coalescing key -> seq
	keyID      = []byte("id")
	keySeq     = []byte("next")
	keyDropped = []byte("dropped")
	keyPending = []byte("pending-drop")
	keyCursor  = []byte("ops-cursor") // the operations feed's cursor after the last batch put
)

// Message is one message to publish.
type Message struct {
	Subject string `json:"subject"`
	Data    []byte `json:"data"`
	// Key, when set, makes the message a state: a newer message with the
	// same key replaces it while both wait (an asset's or alert's latest
	// state is all the site keeps).
	Key string `json:"key,omitempty"`
	// Ops counts the operations records the message carries; messages
	// with Ops > 0 are the first dropped when the outbox is full.
	Ops int `json:"ops,omitempty"`
	// Asset marks an asset's state: dropped (after every operation) when
	// the outbox is still full; the next refresh sends it again.
	Asset bool `json:"asset,omitempty"`
}

// Stored is a message in the outbox with its sequence.
type Stored struct {
	Seq uint64
	Message
}

// Outbox is the bounded, persistent queue of messages waiting for the
// site's servers. It is safe for concurrent use.
type Outbox struct {
	mu          sync.Mutex
	db          *bolt.DB
	id          string
	maxMessages int
	maxBytes    int64
	count       int
	bytes       int64
	dropped     uint64 // operations dropped since the outbox was made
}

// OpenOutbox opens (creating) dir/outbox.db. maxMessages and maxBytes
// bound it (0: the defaults).
func OpenOutbox(dir string, maxMessages int, maxBytes int64) (*Outbox, error) {
	if maxMessages <= 0 {
		maxMessages = DefaultMaxMessages
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, OutboxFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("uplink: %s: %w", filepath.Join(dir, OutboxFile), err)
	}
	o := &Outbox{db: db, maxMessages: maxMessages, maxBytes: maxBytes}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketKeys); err != nil {
			return err
		}
		msgs, err := tx.CreateBucketIfNotExists(bucketMsgs)
		if err != nil {
			return err
		}
		if v := meta.Get(keyID); len(v) == 16 {
			o.id = string(v)
		} else {
			var b [8]byte
			rand.Read(b[:])
			o.id = hex.EncodeToString(b[:])
			if err := meta.Put(keyID, []byte(o.id)); err != nil {
				return err
			}
		}
		if v := meta.Get(keyDropped); len(v) == 8 {
			o.dropped = binary.BigEndian.Uint64(v)
		}
		return msgs.ForEach(func(k, v []byte) error {
			o.count++
			o.bytes += int64(len(v))
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("uplink: %s: %w", filepath.Join(dir, OutboxFile), err)
	}
	return o, nil
}

// Close closes the database.
func (o *Outbox) Close() error { return o.db.Close() }

// ID names the outbox (16 hex digits, made once): with a sequence it is
// every message's Nats-Msg-Id.
func (o *Outbox) ID() string { return o.id }

// Len and Bytes say what waits.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count
}

// Dropped counts the operations records dropped because the outbox was
// full, since it was made.
func (o *Outbox) Dropped() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped
}

func seqKey(s uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s)
	return b[:]
}

// OpsBuilder makes an operations batch's message once the outbox knows
// how many records it dropped just before it (the batch says so).
type OpsBuilder func(dropped uint64) (Message, error)

// ErrTooLarge is Put's answer for one message larger than the whole
// outbox may hold.
var ErrTooLarge = errors.New("uplink: a message larger than the outbox")

// Put adds messages in order, and then an operations batch when ops is
// not nil, in one transaction. A message with a Key replaces the one
// waiting with that key. When the outbox would pass its bounds, the
// oldest operations batches are dropped first (their records counted,
// and the count told by the next batch), then the oldest asset states;
// alerts, statuses and health are never dropped here.
func (o *Outbox) Put(msgs []Message, ops OpsBuilder) error { return o.put(msgs, ops, nil) }

// PutOperations puts an operations batch and records cursor, the
// operations feed's position after its records, in the same transaction:
// after a crash the outbox holds the batch and the cursor past it, or
// neither, so no record is put twice or skipped.
func (o *Outbox) PutOperations(ops OpsBuilder, cursor string) error { return o.put(nil, ops, &cursor) }

// Cursor is the operations feed's position after the last batch put
// ("" before the first).
func (o *Outbox) Cursor() string {
	var c string
	o.db.View(func(tx *bolt.Tx) error {
		c = string(tx.Bucket(bucketMeta).Get(keyCursor))
		return nil
	})
	return c
}

func (o *Outbox) put(msgs []Message, ops OpsBuilder, cursor *string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.db.Update(func(tx *bolt.Tx) error {
		meta, mb, kb := tx.Bucket(bucketMeta), tx.Bucket(bucketMsgs), tx.Bucket(bucketKeys)
		next := uint64(1)
		if v := meta.Get(keySeq); len(v) == 8 {
			next = binary.BigEndian.Uint64(v)
		}
		pending := uint64(0)
		if v := meta.Get(keyPending); len(v) == 8 {
			pending = binary.BigEndian.Uint64(v)
		}
		count, bytes, dropped := o.count, o.bytes, o.dropped
		put := func(m Message) error {
			if m.Key != "" {
				if old := kb.Get([]byte(m.Key)); old != nil {
					if v := mb.Get(old); v != nil {
						count--
						bytes -= int64(len(v))
						if err := mb.Delete(old); err != nil {
							return err
						}
					}
				}
			}
			v, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if int64(len(v)) > o.maxBytes/2 {
				return ErrTooLarge
			}
			// Make room: the oldest operations first, then asset states.
			for _, pass := range []func(Message) bool{func(s Message) bool { return s.Ops > 0 }, func(s Message) bool { return s.Asset }} {
				if count < o.maxMessages && bytes+int64(len(v)) <= o.maxBytes {
					break
				}
				c := mb.Cursor()
				for k, sv := c.First(); k != nil && (count >= o.maxMessages || bytes+int64(len(v)) > o.maxBytes); k, sv = c.Next() {
					var s Message
					if json.Unmarshal(sv, &s) != nil || !pass(s) {
						continue
					}
					if err := c.Delete(); err != nil {
						return err
					}
					if s.Key != "" {
						kb.Delete([]byte(s.Key))
					}
					count--
					bytes -= int64(len(sv))
					pending += uint64(s.Ops)
					dropped += uint64(s.Ops)
				}
			}
			if err := mb.Put(seqKey(next), v); err != nil {
				return err
			}
			if m.Key != "" {
				if err := kb.Put([]byte(m.Key), seqKey(next)); err != nil {
					return err
				}
			}
			next++
			count++
			bytes += int64(len(v))
			return nil
		}
		for _, m := range msgs {
			if err := put(m); err != nil {
				return err
			}
		}
		if ops != nil {
			m, err := ops(pending)
			if err != nil {
				return err
			}
			pending = 0
			if err := put(m); err != nil {
				return err
			}
		}
		if err := meta.Put(keySeq, seqKey(next)); err != nil {
			return err
		}
		if err := meta.Put(keyPending, seqKey(pending)); err != nil {
			return err
		}
		if err := meta.Put(keyDropped, seqKey(dropped)); err != nil {
			return err
		}
		if cursor != nil {
			if err := meta.Put(keyCursor, []byte(*cursor)); err != nil {
				return err
			}
		}
		o.count, o.bytes, o.dropped = count, bytes, dropped
		return nil
	})
}

// Peek returns up to n of the oldest messages, oldest first.
func (o *Outbox) Peek(n int) ([]Stored, error) {
	var out []Stored
	err := o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMsgs).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			var s Stored
			if err := json.Unmarshal(v, &s.Message); err != nil {
				return fmt.Errorf("uplink: outbox message %d: %w", binary.BigEndian.Uint64(k), err)
			}
			s.Seq = binary.BigEndian.Uint64(k)
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// Done removes delivered messages.
func (o *Outbox) Done(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.db.Update(func(tx *bolt.Tx) error {
		mb, kb := tx.Bucket(bucketMsgs), tx.Bucket(bucketKeys)
		for _, s := range seqs {
			k := seqKey(s)
			v := mb.Get(k)
			if v == nil {
				continue // replaced by a newer state meanwhile, or dropped
			}
			var m Message
			if json.Unmarshal(v, &m) == nil && m.Key != "" {
				if cur := kb.Get([]byte(m.Key)); cur != nil && binary.BigEndian.Uint64(cur) == s {
					kb.Delete([]byte(m.Key))
				}
			}
			if err := mb.Delete(k); err != nil {
				return err
			}
			o.count--
			o.bytes -= int64(len(v))
		}
		return nil
	})
}
