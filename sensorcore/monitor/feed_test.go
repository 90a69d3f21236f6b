package monitor

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
)

// TestOperationsFeedRoute: the feed serves the stored log onward from a
// cursor (records still buffered are written first), page by page; the
// next call with the last cursor brings only what is new; a cursor the
// feed never gave is refused.
func TestOperationsFeedRoute(t *testing.T) {
	m, err := New(Options{StateDir: t.TempDir(), Learning: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h := m.Handler()
	feed := func(cursor string, max int) OperationsFeed {
		t.Helper()
		q := url.Values{"cursor": {cursor}}
		if max > 0 {
			q.Set("max", strconv.Itoa(max))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/operations/feed?"+q.Encode(), nil))
		if rec.Code != 200 {
			t.Fatalf("feed: %d %s", rec.Code, rec.Body.String())
		}
		var f OperationsFeed
		if err := json.Unmarshal(rec.Body.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
	c.open()
	for i := 0; i < 5; i++ {
		c.send(true, writeReq)
		c.send(false, []byte{0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 9})
	}
	var ids []string
	cursor := ""
	for f := feed("", 1); ; f = feed(cursor, 1) {
		for _, r := range f.Records {
			var o opRecord
			json.Unmarshal(r, &o)
			ids = append(ids, o.ID)
		}
		cursor = f.Cursor
		if !f.More {
			break
		}
	}
	if len(ids) != 5 {
		t.Fatalf("the feed gave %d records, want the 5 operations", len(ids))
	}
	if f := feed(cursor, 0); len(f.Records) != 0 || f.Cursor != cursor {
		t.Fatalf("nothing new, yet the feed gave %d records, cursor %q", len(f.Records), f.Cursor)
	}
	c.send(true, writeReq)
	c.send(false, []byte{0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 9})
	if f := feed(cursor, 0); len(f.Records) != 1 {
		t.Fatalf("one new operation, the feed gave %d", len(f.Records))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/operations/feed?cursor=x", nil))
	if rec.Code != 400 {
		t.Fatalf("a made-up cursor: %d", rec.Code)
	}
}
