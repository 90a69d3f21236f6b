package monitor

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

type conn struct {
	m          *Monitor
	c, s       byte
	cport      uint16
	sport      uint16
	cseq, sseq uint32
	at         time.Time
}

func (c *conn) send(fromClient bool, payload []byte) {
	c.at = c.at.Add(time.Millisecond)
	ci := capture.Info{UnixNano: c.at.UnixNano(), LinkType: capture.LinkEthernet}
	if fromClient {
		c.m.Packet(pcaptest.TCPFrame(c.c, c.s, c.cport, c.sport, c.cseq, 0x18, payload), ci)
		c.cseq += uint32(len(payload))
	} else {
		c.m.Packet(pcaptest.TCPFrame(c.s, c.c, c.sport, c.cport, c.sseq, 0x18, payload), ci)
		c.sseq += uint32(len(payload))
	}
}

func (c *conn) open() {
	ci := capture.Info{UnixNano: c.at.UnixNano(), LinkType: capture.LinkEthernet}
	c.m.Packet(pcaptest.TCPFrame(c.c, c.s, c.cport, c.sport, c.cseq-1, 0x02, nil), ci)
	c.m.Packet(pcaptest.TCPFrame(c.s, c.c, c.sport, c.cport, c.sseq-1, 0x12, nil), ci)
}

var (
	readReq  = []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}
	readResp = []byte{0, 1, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2}
	writeReq = []byte{0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 9}
)

// TestContentDetection: Modbus on a non-standard port is Modbus; HTTP on
// port 502 is not.
func TestContentDetection(t *testing.T) {
	m, _ := New(Options{Learning: -1})
	defer m.Close()
	c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 15020, cseq: 100, sseq: 900, at: t0}
	c.open()
	c.send(true, readReq)
	c.send(false, readResp)
	h := &conn{m: m, c: 3, s: 2, cport: 40001, sport: 502, cseq: 100, sseq: 900, at: t0}
	h.open()
	h.send(true, []byte("GET / HTTP/1.1\r\nHost: plc\r\n\r\n"))
	h.send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	p := m.Stats().Protocols["modbus"]
	if p.PDUs != 2 || p.Functions["3"] != 2 || p.Malformed != 0 {
		t.Fatalf("modbus %+v", p)
	}
}

// TestSpanAndShare: one ADU split over three segments, two ADUs in one
// segment, and a retransmission, all counted exactly once.
func TestSpanAndShare(t *testing.T) {
	m, _ := New(Options{Learning: -1})
	defer m.Close()
	c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
	c.open()
	c.send(true, readReq[:3])
	c.send(true, readReq[3:9])
	c.send(true, append(append([]byte{}, readReq[9:]...), writeReq...))
	c.cseq -= uint32(len(writeReq)) + 3
	c.send(true, append(append([]byte{}, readReq[9:]...), writeReq...)) // retransmission
	p := m.Stats().Protocols["modbus"]
	if p.PDUs != 2 || p.Functions["3"] != 1 || p.Functions["6"] != 1 {
		t.Fatalf("modbus %+v", p)
	}
}

// TestStatePersists: the inventory and alerts survive a restart, and the
// HTTP handler serves them.
func TestStatePersists(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Options{StateDir: dir, Learning: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
	c.open()
	c.send(true, readReq)
	c.send(false, readResp)
	c.at = t0.Add(2 * time.Hour)
	c2 := &conn{m: m, c: 7, s: 2, cport: 40002, sport: 502, cseq: 100, sseq: 900, at: t0.Add(2 * time.Hour)}
	c2.open()
	c2.send(true, writeReq)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, err := New(Options{StateDir: dir, Learning: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if n := len(m2.Assets()); n != 3 {
		t.Fatalf("%d assets after restart", n)
	}
	alerts := m2.Alerts()
	var write uint64
	for _, a := range alerts {
		if a.Rule == "modbus-write-unknown-master" && a.Src == "198.18.0.7" {
			write = a.ID
		}
	}
	if write == 0 {
		t.Fatalf("no write alert in %+v", alerts)
	}
	srv := httptest.NewServer(m2.Handler())
	defer srv.Close()
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	var assets []map[string]any
	if err := json.Unmarshal([]byte(get("/api/v1/assets")), &assets); err != nil || len(assets) != 3 {
		t.Fatalf("assets JSON: %v %d", err, len(assets))
	}
	if page := get("/devices"); !strings.Contains(page, "198.18.0.2") || !strings.Contains(page, "Modbus server") || strings.Contains(page, "http://") {
		t.Fatalf("devices page:\n%s", page)
	}
	resp, err := http.Post(srv.URL+"/api/v1/alerts/"+itoa(write)+"/ack", "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("ack: %v %v", err, resp.Status)
	}
	resp, _ = http.Post(srv.URL+"/api/v1/alerts/999999/ack", "text/plain", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ack of unknown id: %s", resp.Status)
	}
	if page := get("/alerts"); !strings.Contains(page, "Modbus write from unknown master") || !strings.Contains(page, "acknowledged") {
		t.Fatalf("alerts page:\n%s", page)
	}
	var js []map[string]any
	json.Unmarshal([]byte(get("/api/v1/alerts")), &js)
	if len(js) != len(alerts) {
		t.Fatalf("alerts JSON %d, want %d", len(js), len(alerts))
	}
}

func itoa(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
