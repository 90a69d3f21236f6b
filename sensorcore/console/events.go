package console

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/safefile"
)

// EventLog is the sensor's record of account events (var/lib/sensorcore/
// accounts.log, 0600): sign-in locks, unlocks, resets and password
// changes, one line each ("2026-11-21T12:00:00Z reset: ..."), never a
// password. The daemon and the `sensorcore console` commands append to it;
// past MaxEventLog bytes it moves to accounts.log.1 (one generation kept).
type EventLog struct {
	Path string
	Now  func() time.Time
	// Also receives each event as well (the daemon's log); may be nil.
	Also func(format string, args ...any)
}

// MaxEventLog is the size at which the account event log is rotated.
const MaxEventLog = 256 << 10

// Record appends one event: kind ("reset", "unlock", "locked",
// "password") and a sentence. Failures to write go to Also.
func (l *EventLog) Record(kind, format string, args ...any) {
	if l == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	msg = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	if l.Also != nil {
		l.Also("console: %s: %s", kind, msg)
	}
	if l.Path == "" {
		return
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	line := now().UTC().Format(time.RFC3339) + " " + kind + ": " + msg + "\n"
	if fi, err := os.Stat(l.Path); err == nil && fi.Size() > MaxEventLog {
		os.Rename(l.Path, l.Path+".1")
	}
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.WriteString(line) // one write: appends from two processes do not interleave
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil && l.Also != nil {
		l.Also("console: account event log: %v", err)
	}
}

// Tail returns the last n events, oldest first.
func (l *EventLog) Tail(n int) []string {
	if l == nil || l.Path == "" || n <= 0 {
		return nil
	}
	b, err := safefile.ReadFile(l.Path, 2*MaxEventLog)
	if err != nil {
		return nil
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, 0, len(lines))
	for _, ln := range lines {
		if len(ln) > 0 {
			out = append(out, string(ln))
		}
	}
	return out
}
