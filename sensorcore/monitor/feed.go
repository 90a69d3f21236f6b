package monitor

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/tapline/tapline/sensorcore/store"
)

// OperationsFeed is a page of the operations log after a cursor, as
// GET /api/v1/operations/feed answers it: serve's uplink reads the log
// this way, onward from the cursor it keeps, so every record reaches the
// site once and in order (docs/site.md).
type OperationsFeed struct {
	Records []json.RawMessage `json:"records"`
	Cursor  string            `json:"cursor"`            // give it back for the next page
	More    bool              `json:"more"`              // another page is ready
	Gap     bool              `json:"gap,omitempty"`     // the cursor's file was rotated away: records were lost
	Skipped int               `json:"skipped,omitempty"` // lines too long for any page, passed over
}

// ErrNoOperationsLog says the monitor keeps no operations log on disk.
var ErrNoOperationsLog = errors.New("monitor: no operations log is kept (no state directory)")

// OperationsAfter returns the stored operations log after cursor ("" for
// the oldest record held), at most max bytes of records (0: 1 MiB).
// Records still buffered are written first.
func (m *Monitor) OperationsAfter(cursor string, max int) (OperationsFeed, error) {
	if m.opts.StateDir == "" {
		return OperationsFeed{}, ErrNoOperationsLog
	}
	if err := m.FlushOperations(false); err != nil {
		return OperationsFeed{}, err
	}
	f, err := store.ReadFeed(m.opts.StateDir, cursor, max)
	if err != nil {
		return OperationsFeed{}, err
	}
	out := OperationsFeed{Records: make([]json.RawMessage, len(f.Records)), Cursor: f.Cursor, More: f.More, Gap: f.Gap, Skipped: f.Skipped}
	for i, r := range f.Records {
		out.Records[i] = r
	}
	return out, nil
}

// feedRoute serves GET /api/v1/operations/feed?cursor=C&max=BYTES.
func (m *Monitor) feedRoute(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	max := 0
	if v := q.Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			http.Error(w, "max must be a positive number of bytes", http.StatusBadRequest)
			return
		}
		max = n
	}
	if _, _, ok := store.ParseCursor(q.Get("cursor")); !ok {
		http.Error(w, "cursor is not one this feed gave", http.StatusBadRequest)
		return
	}
	f, err := m.OperationsAfter(q.Get("cursor"), max)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f)
}
