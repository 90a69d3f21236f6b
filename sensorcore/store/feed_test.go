package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

func rec(i int) string { return fmt.Sprintf(`{"id":"%016x","n":%d}`, i, i) }

// readAll pages through the feed from cursor and returns the record
// numbers and the last cursor.
func readAll(t *testing.T, dir, cursor string, max int) ([]int, string, bool) {
	t.Helper()
	var out []int
	gap := false
	for i := 0; ; i++ {
		f, err := ReadFeed(dir, cursor, max)
		if err != nil {
			t.Fatal(err)
		}
		gap = gap || f.Gap
		for _, r := range f.Records {
			var v struct{ N int }
			if err := json.Unmarshal(r, &v); err != nil {
				t.Fatalf("record %q: %v", r, err)
			}
			out = append(out, v.N)
		}
		cursor = f.Cursor
		if !f.More {
			return out, cursor, gap
		}
		if i > 100000 {
			t.Fatal("the feed never ends")
		}
	}
}

// TestFeedEveryRecordOnce: a reader that keeps up gets every record once,
// in the order written, across the log's rotations, in pages of any size.
func TestFeedEveryRecordOnce(t *testing.T) {
	for _, max := range []int{1, 100, 1000, 0} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			dir := t.TempDir()
			o, err := OpenOperations(dir, 8192)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			cursor, next := "", 0
			var got []int
			for i := 0; i < 2000; i++ {
				if _, err := fmt.Fprintln(o, rec(i)); err != nil {
					t.Fatal(err)
				}
				if i%37 == 0 {
					page, c, gap := readAll(t, dir, cursor, max)
					if gap {
						t.Fatalf("a gap at record %d though the reader kept up", i)
					}
					got, cursor = append(got, page...), c
				}
			}
			page, _, _ := readAll(t, dir, cursor, max)
			got = append(got, page...)
			for i, n := range got {
				if n != next {
					t.Fatalf("record %d is %d, want %d: lost, repeated or out of order", i, n, next)
				}
				next++
			}
			if next != 2000 {
				t.Fatalf("read %d records of 2000", next)
			}
		})
	}
}

// TestFeedPartialLine: a line still being written is left for the next
// page, then read whole.
func TestFeedPartialLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, OperationsFile)
	os.WriteFile(p, []byte(rec(0)+"\n"+rec(1)[:10]), 0o640)
	got, c, _ := readAll(t, dir, "", 0)
	if len(got) != 1 || got[0] != 0 {
		t.Fatalf("read %v, want only the whole line", got)
	}
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(rec(1)[10:] + "\n")
	f.Close()
	got, _, _ = readAll(t, dir, c, 0)
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("then read %v, want record 1 whole", got)
	}
}

// TestFeedGap: a cursor whose file was rotated away starts again at the
// oldest record held, and says records were lost.
func TestFeedGap(t *testing.T) {
	dir := t.TempDir()
	o, _ := OpenOperations(dir, 4096)
	fmt.Fprintln(o, rec(0))
	_, c, _ := readAll(t, dir, "", 0)
	for i := 1; i < 500; i++ {
		fmt.Fprintln(o, rec(i))
	}
	o.Close()
	got, _, gap := readAll(t, dir, c, 0)
	if !gap || len(got) == 0 || got[len(got)-1] != 499 {
		t.Fatalf("gap %v, read %d records ending %v", gap, len(got), got[len(got)-1:])
	}
	if _, err := ReadFeed(dir, "nonsense", 0); err == nil {
		t.Fatal("a malformed cursor was accepted")
	}
}

// TestFeedSameFileOnce: when both names hold the same file (a rotation
// between the feed's two opens), it is read once.
func TestFeedSameFileOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, OperationsFile)
	os.WriteFile(p, []byte(rec(0)+"\n"+rec(1)+"\n"), 0o640)
	if err := os.Link(p, p+".1"); err != nil {
		needs.Missing(t, "this test needs a file system with hard links (%v)", err)
	}
	got, _, _ := readAll(t, dir, "", 0)
	if len(got) != 2 {
		t.Fatalf("read %v: the file twice", got)
	}
}

// TestFeedLongLine: a line longer than any page is passed over and
// counted, never blocks the feed.
func TestFeedLongLine(t *testing.T) {
	dir := t.TempDir()
	long := make([]byte, FeedMax+10)
	for i := range long {
		long[i] = 'x'
	}
	os.WriteFile(filepath.Join(dir, OperationsFile), []byte(rec(0)+"\n"+string(long)+"\n"+rec(2)+"\n"), 0o640)
	f, err := ReadFeed(dir, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 || f.Skipped != 1 {
		t.Fatalf("%d records, %d skipped", len(f.Records), f.Skipped)
	}
}
