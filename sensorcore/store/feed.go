package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The operations feed: the operations log read onward from a cursor, so a
// reader that keeps the cursor it was given (the sensor's uplink, in its
// outbox) gets every record once, in the order written, across rotations
// and restarts of the writer.
//
// A cursor names a position in one of the log's two files by the id of
// the first record of that file and a byte offset in it: "ID:OFFSET". A
// file's first record never changes while the file lives (the log only
// appends, and rotation renames the whole file), so the name survives the
// file becoming operations.jsonl.1. The empty cursor is the oldest record
// held.

// FeedMax bounds what one Feed call returns.
const FeedMax = 1 << 20

// Feed is one page of the operations log after a cursor.
type Feed struct {
	// Records are whole JSON lines, without their newline, oldest first.
	Records [][]byte
	// Cursor is where the next page starts: give it back as is.
	Cursor string
	// More says records remain after this page.
	More bool
	// Gap says the cursor's file was rotated away before it was read to
	// its end: records between the cursor and Records[0] are lost.
	Gap bool
	// Skipped counts lines longer than the page's bound, passed over.
	Skipped int
}

// segment is one file of the log, open.
type segment struct {
	f    *os.File // nil when missing
	name string   // names the file by its first line ("" while it has none)
	size int64
}

// openSegment opens path and names it. The file is read through the
// descriptor from then on, so a rotation while the feed reads changes
// nothing it reads.
func openSegment(path string) (segment, error) {
	var s segment
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("store: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return s, fmt.Errorf("store: %w", err)
	}
	s.f, s.size = f, fi.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, s.size), 4096)
	first, err := r.ReadSlice('\n')
	if err == nil || err == bufio.ErrBufferFull {
		s.name = segmentName(first)
	}
	return s, nil
}

func (s segment) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// segmentName names a file by its first line: the record's id, or when
// the line is no record with one, a digest of the line (its first 4 KiB).
func segmentName(line []byte) string {
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &r) == nil && r.ID != "" && len(r.ID) <= 64 && !strings.ContainsAny(r.ID, ": ") {
		return r.ID
	}
	h := sha256.Sum256(line)
	return "h" + hex.EncodeToString(h[:8])
}

// ParseCursor splits a cursor; ok is false for one ReadFeed never made.
func ParseCursor(c string) (name string, off int64, ok bool) {
	if c == "" {
		return "", 0, true
	}
	name, o, found := strings.Cut(c, ":")
	if !found || name == "" {
		return "", 0, false
	}
	off, err := strconv.ParseInt(o, 10, 64)
	if err != nil || off < 0 {
		return "", 0, false
	}
	return name, off, true
}

// ReadFeed returns the records of the operations log in dir after
// cursor, at most max bytes of them (0 or more than FeedMax: FeedMax;
// a record longer than max alone comes on a page of its own). A partial
// last line (a write in progress) is left for the next page. A cursor
// whose file is gone starts again at the oldest record held and says so
// (Gap); a malformed cursor is an error.
func ReadFeed(dir, cursor string, max int) (Feed, error) {
	if max <= 0 || max > FeedMax {
		max = FeedMax
	}
	name, off, ok := ParseCursor(cursor)
	if !ok {
		return Feed{}, fmt.Errorf("store: %q is not an operations log cursor", cursor)
	}
	// The current file first, then the rotated one: a rotation between
	// the two opens leaves both naming the same file, never one missed.
	cur, err := openSegment(filepath.Join(dir, OperationsFile))
	if err != nil {
		return Feed{}, err
	}
	defer cur.close()
	old, err := openSegment(filepath.Join(dir, OperationsFile+".1"))
	if err != nil {
		return Feed{}, err
	}
	defer old.close()
	if old.f != nil && cur.f != nil {
		if a, err1 := old.f.Stat(); err1 == nil {
			if b, err2 := cur.f.Stat(); err2 == nil && os.SameFile(a, b) {
				old = segment{}
			}
		}
	}
	segs := [2]segment{old, cur}
	fd := Feed{Cursor: cursor}
	start := 0
	switch {
	case cursor == "":
	case name == segs[1].name:
		start = 1
	case name == segs[0].name:
	default:
		fd.Gap, off = true, 0
	}
	if off > segs[start].size {
		// The file is shorter than the cursor says: not the file it named.
		fd.Gap, off = true, 0
	}
	if fd.Gap {
		fd.Cursor = ""
	}
	budget := max
	for i := start; i < 2; i++ {
		s := segs[i]
		if i > start {
			off = 0
		}
		if s.name == "" {
			if i == 0 {
				continue // no rotated file
			}
			return fd, nil // empty, or its first line still being written
		}
		recs, next, skipped, full, err := readLines(s.f, off, s.size, budget)
		if err != nil {
			return Feed{}, err
		}
		fd.Records = append(fd.Records, recs...)
		fd.Skipped += skipped
		for _, r := range recs {
			budget -= len(r) + 1
		}
		fd.Cursor = s.name + ":" + strconv.FormatInt(next, 10)
		if full {
			fd.More = true
			return fd, nil
		}
		if i == 0 && next < s.size {
			// The rotated file ends in a partial line: the writer moved
			// on, it will never be whole.
			fd.Skipped++
		}
	}
	return fd, nil
}

// readLines reads the whole lines of path from off up to size, while
// budget lasts (the first line is taken whatever its length, up to
// FeedMax; a longer one is passed over and counted). next is the offset
// after the last line taken or passed over; full says the budget ended
// the reading before size.
func readLines(f *os.File, off, size int64, budget int) (recs [][]byte, next int64, skipped int, full bool, err error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, size-off), 64<<10)
	next = off
	for next < size {
		if budget <= 0 {
			return recs, next, skipped, true, nil
		}
		var line []byte
		n, long := 0, false
		for {
			frag, err := r.ReadSlice('\n')
			n += len(frag)
			if !long {
				if len(line)+len(frag) > FeedMax+1 {
					long, line = true, nil
				} else {
					line = append(line, frag...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				return recs, next, skipped, false, nil // a line still being written
			}
			if err != nil {
				return nil, next, skipped, false, fmt.Errorf("store: %s: %w", f.Name(), err)
			}
			break
		}
		if long {
			skipped++
			next += int64(n)
			continue
		}
		t := bytes.TrimSpace(line)
		if len(t) > 0 {
			if len(t)+1 > budget && len(recs) > 0 {
				return recs, next, skipped, true, nil
			}
			recs = append(recs, t)
			budget -= len(t) + 1
		}
		next += int64(n)
	}
	return recs, next, skipped, false, nil
}
