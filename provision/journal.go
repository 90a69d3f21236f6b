package provision

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Journal is a batch's JSON-lines log beside its inventory: one line per
// attempt start and end, fsynced, so a batch interrupted by a crash or
// Ctrl-C resumes (--resume) and skips the sensors already done.
type Journal struct {
	path string
	now  func() time.Time
	mu   sync.Mutex
	f    *os.File
}

// JournalEntry is one line.
type JournalEntry struct {
	Time    time.Time `json:"time"`
	Sensor  string    `json:"sensor"`
	Attempt int       `json:"attempt"`
	Event   string    `json:"event"` // "start" or "end"
	Result  *Result   `json:"result,omitempty"`
}

// OpenJournal opens (appending) or creates the journal at path, 0600.
func OpenJournal(path string, now func() time.Time) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Journal{path: path, now: now, f: f}, nil
}

// Close closes the journal file.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	return j.f.Close()
}

func (j *Journal) write(e JournalEntry) {
	if j == nil {
		return
	}
	e.Time = j.now().UTC()
	b, _ := json.Marshal(e)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.f.Write(append(b, '\n'))
	j.f.Sync()
}

func (j *Journal) start(sensor string, attempt int) {
	j.write(JournalEntry{Sensor: sensor, Attempt: attempt, Event: "start"})
}

func (j *Journal) record(sensor string, attempt int, r Result) {
	j.write(JournalEntry{Sensor: sensor, Attempt: attempt, Event: "end", Result: &r})
}

// Done returns the last "done" result of every sensor the journal shows
// finished. A torn last line (a crash mid-write) is ignored.
func (j *Journal) Done() (map[string]Result, error) {
	f, err := os.Open(j.path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	out := map[string]Result{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e JournalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Event != "end" || e.Result == nil {
			continue
		}
		if e.Result.Outcome == OutcomeDone {
			out[e.Sensor] = *e.Result
		}
	}
	return out, sc.Err()
}
