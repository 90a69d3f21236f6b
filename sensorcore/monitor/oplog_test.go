package monitor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// opRecord is what the tests read back from the operations log.
type opRecord = Operation

// operationsOf runs a capture file with the operations log on and parses
// every record (each line must be one JSON object).
func operationsOf(t *testing.T, file string) []opRecord {
	t.Helper()
	var buf bytes.Buffer
	m, err := New(Options{Learning: -1, Operations: &buf})
	if err != nil {
		t.Fatal(err)
	}
	m.pipe.ops.checkMemo = true // every memoised object checked against its rendering
	if fr := m.RunFile(file); fr.Status == FileUnreadable {
		t.Fatal(fr.Err())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	var out []opRecord
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r opRecord
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s: record %q: %v", file, sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// TestOperationsLogModbus: a write request and its response make one
// record with the unit, address, quantity, written values, result and
// latency; an exception response is an error with its code; a request
// never answered is written at the end; ids are stable across runs.
func TestOperationsLogModbus(t *testing.T) {
	run := func() []opRecord {
		var buf bytes.Buffer
		m, _ := New(Options{Learning: -1, Operations: &buf})
		c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
		c.open()
		c.send(true, []byte{0, 7, 0, 0, 0, 11, 1, 16, 0, 10, 0, 2, 4, 0, 5, 0, 6}) // write 5, 6 at 10
		c.send(false, []byte{0, 7, 0, 0, 0, 6, 1, 16, 0, 10, 0, 2})
		c.send(true, []byte{0, 8, 0, 0, 0, 6, 1, 3, 0, 99, 0, 1})
		c.send(false, []byte{0, 8, 0, 0, 0, 3, 1, 0x83, 2}) // illegal data address
		c.send(true, []byte{0, 9, 0, 0, 0, 6, 1, 5, 0, 3, 0xff, 0})
		m.Close()
		var out []opRecord
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var r opRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			out = append(out, r)
		}
		return out
	}
	ops := run()
	if len(ops) != 3 {
		t.Fatalf("%d records: %+v", len(ops), ops)
	}
	w := ops[0]
	if w.Protocol != "modbus" || *w.Function != 16 || w.FunctionName != "Write Multiple Registers" || w.Action != "Modbus write" ||
		*w.Unit != 1 || *w.Address != 10 || *w.Quantity != 2 || fmt.Sprint(w.Values) != "[5 6]" || w.Result != "ok" ||
		w.LatencyUS == nil || *w.LatencyUS != 1000 || w.Client.IP != "198.18.0.1" || w.Client.Port != 40000 ||
		w.Server.Port != 502 || w.Server.MAC != "00:1b:1b:00:00:02" || len(w.ID) != 16 {
		t.Errorf("write record %+v", w)
	}
	if e := ops[1]; e.Result != "error" || *e.Status != 2 || *e.Function != 3 || *e.Address != 99 {
		t.Errorf("exception record %+v", e)
	}
	if n := ops[2]; n.Result != "no response" || *n.Function != 5 || fmt.Sprint(n.Values) != "[65280]" {
		t.Errorf("unanswered record %+v", n)
	}
	again := run()
	for i := range ops {
		if ops[i].ID != again[i].ID {
			t.Fatalf("record %d: id %s, then %s on the same traffic", i, ops[i].ID, again[i].ID)
		}
	}
	if ops[0].ID == ops[1].ID || ops[1].ID == ops[2].ID {
		t.Fatal("two operations share an id")
	}
}

// TestOperationsLogNoAlloc: with the operations log on, traffic that
// writes no record allocates nothing; and logging itself allocates
// nothing per operation.
func TestOperationsLogNoAlloc(t *testing.T) {
	var buf bytes.Buffer
	m, _ := New(Options{Learning: time.Hour, Operations: &buf})
	defer m.Close()
	n := allocsPerModbusPair(m, func() {
		if buf.Len() > 1<<20 {
			buf.Reset()
		}
	})
	if m.pipe.ops.Written < 200 {
		t.Fatalf("only %d records written", m.pipe.ops.Written)
	}
	if n != 0 {
		t.Fatalf("%v allocations per logged request/response", n)
	}
}

// TestOperationsStoredAndShown: with a state directory the operations log
// goes to the store, and the Devices page links each device to its
// operations, served as a page and as JSON.
func TestOperationsStoredAndShown(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Options{StateDir: dir, Learning: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
	c.open()
	c.send(true, writeReq)
	c.send(false, []byte{0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 9})
	o := &conn{m: m, c: 3, s: 4, cport: 40001, sport: 502, cseq: 100, sseq: 900, at: t0}
	o.open()
	o.send(true, readReq)
	h := m.Handler()
	get := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	var ops []opRecord
	if err := json.Unmarshal([]byte(get("/api/v1/operations?ip=198.18.0.2")), &ops); err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || *ops[0].Function != 6 || ops[0].Result != "ok" || fmt.Sprint(ops[0].Values) != "[9]" {
		t.Fatalf("operations of 198.18.0.2: %+v", ops)
	}
	if !strings.Contains(get("/devices"), `href="devices/198.18.0.2/operations"`) {
		t.Fatal("the Devices page does not link the device's operations")
	}
	page := get("/devices/198.18.0.2/operations")
	if !strings.Contains(page, "Write Single Register (6)") || !strings.Contains(page, "Modbus write") || strings.Contains(page, "198.18.0.4") {
		t.Fatalf("operations page:\n%s", page)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/operations?ip=not-an-address", nil))
	if rec.Code != 400 {
		t.Fatalf("bad ip: %d", rec.Code)
	}
	if _, err := os.Stat(filepath.Join(dir, "operations.jsonl")); err != nil {
		t.Fatal(err)
	}
}

// TestAlertNamesOperations: an alert names, by id, the operations log
// records of the requests that raised it, and carries a stable uid.
func TestAlertNamesOperations(t *testing.T) {
	run := func() ([]opRecord, []alert.Alert) {
		var buf bytes.Buffer
		m, _ := New(Options{Learning: -1, Operations: &buf})
		c := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 102, cseq: 100, sseq: 900, at: t0}
		c.open()
		s7 := []byte{0x32, 1, 0, 0, 0, 7, 0, 16, 0, 0, 0x29, 0, 0, 0, 0, 0, 9, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M'}
		tpkt := append([]byte{3, 0, 0, byte(7 + len(s7)), 2, 0xf0, 0x80}, s7...)
		c.send(true, tpkt)
		s7[5] = 8 // another PDU reference: a second operation
		c.send(true, tpkt)
		alerts := m.Alerts()
		m.Close()
		var ops []opRecord
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var r opRecord
			json.Unmarshal([]byte(line), &r)
			ops = append(ops, r)
		}
		return ops, alerts
	}
	ops, alerts := run()
	if len(alerts) != 1 || alerts[0].Rule != "s7-plc-stop" || len(alerts[0].Operations) != 2 || len(ops) != 2 {
		t.Fatalf("alerts %+v, %d records", alerts, len(ops))
	}
	for i, ref := range alerts[0].Operations {
		b, _ := ref.MarshalText()
		if string(b) != ops[i].ID {
			t.Fatalf("alert names operation %s, the log holds %s", b, ops[i].ID)
		}
	}
	_, again := run()
	if alerts[0].UID == "" || again[0].UID != alerts[0].UID {
		t.Fatalf("uid %q, then %q", alerts[0].UID, again[0].UID)
	}
}

// TestAppendDec: the log's number formatting is strconv's.
func TestAppendDec(t *testing.T) {
	check := func(v int64) {
		if got, want := string(appendDec(nil, v)), strconv.FormatInt(v, 10); got != want {
			t.Fatalf("appendDec(%d) = %q", v, got)
		}
	}
	for v := int64(-1000); v <= 200000; v++ {
		check(v)
	}
	for _, v := range []int64{999999, 1 << 31, 1<<63 - 1, -1 << 63} {
		check(v)
	}
}

// TestAppendTime: the log's timestamps are time.RFC3339Nano in UTC, from
// one record to the next whatever their order.
func TestAppendTime(t *testing.T) {
	l := newOpLog(io.Discard)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		v := rng.Int64N(4e18) - 1e18
		if i%3 == 0 {
			v -= v % 1e9 // whole seconds
		}
		want := time.Unix(0, v).UTC().Format(time.RFC3339Nano)
		if got := string(l.appendTime(nil, v)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", v, got, want)
		}
	}
	// every second of a day, and the fractions' edges
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC).UnixNano()
	for s := int64(0); s < 86400; s++ {
		for _, ns := range []int64{0, 1, 9, 10, 99, 100, 1e7, 1e8 - 1, 1e8, 1e8 + 1, 5e8, 999999990, 1e9 - 1} {
			v := day + s*1e9 + ns
			want := time.Unix(0, v).UTC().Format(time.RFC3339Nano)
			if got := string(l.appendTime(nil, v)); got != want {
				t.Fatalf("appendTime(%d) = %s, want %s", v, got, want)
			}
		}
	}
}

// TestConvCache: cached conversations are their protocol and ends
// formatted afresh.
func TestConvCache(t *testing.T) {
	var c convCache
	rng := rand.New(rand.NewPCG(3, 4))
	addr := func() (a decode.Addr) {
		switch rng.IntN(3) {
		case 0:
			a.Len = 4
			a.B[0], a.B[3] = 192, byte(rng.IntN(4))
		case 1:
			a.Len = 16
			a.B[0], a.B[15] = 0xfe, byte(rng.IntN(4))
		default:
			a = decode.MACAddr([6]byte{0, 1, 2, 3, 4, byte(rng.IntN(3))})
		}
		return a
	}
	for i := 0; i < 100000; i++ {
		var e opEntry
		e.key.client, e.key.server = addr(), addr()
		e.key.cport, e.key.sport = uint16(rng.IntN(3)), uint16(rng.IntN(3))
		e.key.proto = []uint8{dissect.Modbus, dissect.ENIP, dissect.PNDCP}[rng.IntN(3)]
		e.proto = dissect.Name(e.key.proto)
		e.cmac, e.smac = [6]byte{0, 1, 2, 3, 4, byte(rng.IntN(3))}, [6]byte{0, 1, 2, 3, 5, byte(rng.IntN(3))}
		e.hasMAC = rng.IntN(2) == 0
		want := `","protocol":"` + e.proto + `","client":` +
			string(appendEnd(nil, e.key.client, e.key.cport, e.cmac, e.hasMAC)) + `,"server":` +
			string(appendEnd(nil, e.key.server, e.key.sport, e.smac, e.hasMAC))
		if got := string(c.append(nil, &e)); got != want {
			t.Fatalf("cached %s, want %s", got, want)
		}
	}
}

// TestOperationsLogPairsWhileManyWait: 128 clients each have a request
// waiting at once (a busy poll cycle), three times over; every response
// finds its request, whatever the log's hash seed: no request is written
// as unanswered because another took its place, and the log is the same
// from run to run.
func TestOperationsLogPairsWhileManyWait(t *testing.T) {
	run := func() string {
		var buf bytes.Buffer
		m, _ := New(Options{Learning: -1, Operations: &buf})
		at := t0
		var cs []*conn
		for i := range 128 {
			c := &conn{m: m, c: byte(1 + i), s: 250, cport: 40000 + uint16(i), sport: 502, cseq: 100, sseq: 900, at: at}
			c.open()
			cs = append(cs, c)
		}
		for round := range 3 {
			for _, fromClient := range []bool{true, false} {
				for i, c := range cs {
					c.at, at = at, at.Add(time.Millisecond)
					txn := uint16(round*1000 + i)
					if fromClient {
						c.send(true, []byte{byte(txn >> 8), byte(txn), 0, 0, 0, 6, 1, 3, 0, 0, 0, 2})
					} else {
						c.send(false, []byte{byte(txn >> 8), byte(txn), 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2})
					}
				}
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	first := run()
	lines := strings.Split(strings.TrimSpace(first), "\n")
	answered := strings.Count(first, `"result":"ok"`)
	if len(lines) != 3*128 || answered != len(lines) {
		t.Fatalf("%d records, %d answered; want 384 answered (%d written unanswered, %d responses alone)",
			len(lines), answered, strings.Count(first, `"no response"`), strings.Count(first, `"request_seen":false`))
	}
	for range 4 {
		if run() != first {
			t.Fatal("the operations log differs from run to run on the same traffic")
		}
	}
}

// TestOperationsLogUnansweredInTime: a request left without a response
// is written as unanswered once its wait is over by the traffic's clock,
// before what comes later, not only when the monitor stops.
func TestOperationsLogUnansweredInTime(t *testing.T) {
	var buf bytes.Buffer
	m, _ := New(Options{Learning: -1, Operations: &buf})
	a := &conn{m: m, c: 1, s: 2, cport: 40000, sport: 502, cseq: 100, sseq: 900, at: t0}
	a.open()
	a.send(true, writeReq) // never answered
	b := &conn{m: m, c: 3, s: 2, cport: 40001, sport: 502, cseq: 100, sseq: 900, at: t0.Add(opResponseWait + opSweepEvery + time.Second)}
	b.open()
	b.send(true, readReq)
	b.send(false, readResp)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"no response"`) || !strings.Contains(lines[1], `"result":"ok"`) {
		t.Fatalf("records:\n%s", buf.String())
	}
}

func TestAppendHex64(t *testing.T) {
	for _, v := range []uint64{0, 1, 9, 10, 15, 16, 0xa5, 0x0123456789abcdef, 0xfedcba9876543210, 0xffffffffffffffff, 1 << 63, 0x9f9f9f9f09090909} {
		if got, want := string(appendHex64([]byte("x"), v)), "x"+fmt.Sprintf("%016x", v); got != want {
			t.Errorf("appendHex64(%#x) = %q, want %q", v, got, want)
		}
	}
	for i, v := 0, uint64(1); i < 10000; i, v = i+1, v*0x9e3779b97f4a7c15+uint64(i) {
		if got, want := string(appendHex64(nil, v)), fmt.Sprintf("%016x", v); got != want {
			t.Fatalf("appendHex64(%#x) = %q, want %q", v, got, want)
		}
	}
}

// TestCIPMemo: a CIP request whose path and services equal an earlier
// one's copies its object from the memo (the services' data may differ);
// a request that differs in one byte of a service code, a class, an
// instance or a tag is rendered anew. Every object, memoised or not, is
// the one rendered afresh.
func TestCIPMemo(t *testing.T) {
	service := func(code byte, tag string, class byte, data byte) []byte {
		if tag != "" {
			s := []byte{code, byte((2 + len(tag) + 1) / 2), 0x91, byte(len(tag))}
			s = append(s, tag...)
			if len(tag)%2 == 1 {
				s = append(s, 0)
			}
			return append(s, 1, data)
		}
		return []byte{code, 2, 0x20, class, 0x24, 0x01, data, 0}
	}
	msp := func(services ...[]byte) []byte {
		b := []byte{0x0a, 2, 0x20, 0x02, 0x24, 0x01}
		b = binary.LittleEndian.AppendUint16(b, uint16(len(services)))
		off := 2 + 2*len(services)
		for _, s := range services {
			b = binary.LittleEndian.AppendUint16(b, uint16(off))
			off += len(s)
		}
		for _, s := range services {
			b = append(b, s...)
		}
		// SendRRData: null address item, unconnected data item
		d := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0}
		d = binary.LittleEndian.AppendUint16(d, uint16(len(b)))
		d = append(d, b...)
		h := make([]byte, 24, 24+len(d))
		binary.LittleEndian.PutUint16(h[0:2], 0x6f)
		binary.LittleEndian.PutUint16(h[2:4], uint16(len(d)))
		return append(h, d...)
	}
	variants := [][]byte{
		msp(service(0x4c, "", 0x72, 1), service(0x4c, "", 0x72, 2)),
		msp(service(0x4c, "", 0x72, 9), service(0x4c, "", 0x72, 7)), // other data: the same object
		msp(service(0x4c, "", 0x72, 1), service(0x4e, "", 0x72, 2)), // a service code
		msp(service(0x4c, "", 0x72, 1), service(0x4c, "", 0x73, 2)), // a class
		msp(service(0x4c, "", 0x72, 1)),                             // one service fewer
		msp(service(0x4c, "Speed_1", 0, 1), service(0x4d, "Valve", 0, 1)),
		msp(service(0x4c, "Speed_2", 0, 1), service(0x4d, "Valve", 0, 1)), // a tag's byte
		msp(service(0x4c, "Speed_1", 0, 1), service(0x4d, "Valvf", 0, 1)),
		msp(service(0x4c, "Speed_1", 0, 1), service(0x4d, "Valve", 0, 2)), // data: the same object
	}
	instance := append([]byte(nil), variants[0]...)
	instance[24+16+12+5] = 0x02 // the first service's instance (after the headers, CPF and MSP's path, count and offsets)
	variants = append(variants, instance)
	var l opLog
	k := opKey{proto: dissect.ENIP, sport: 44818}
	k.server.Len, k.server.B[3] = 4, 83
	r := dissect.Result{Log: true}
	texts := map[string]bool{}
	for round := 0; round < 3; round++ {
		for i, v := range variants {
			if err := dissect.DecodeENIP(v, decode.DirToServer, &r); err != nil || !r.Request {
				t.Fatalf("variant %d: %v", i, err)
			}
			got := string(l.memo.appendCIP(nil, &k, &r, false))
			if want := string(appendObjectFields(nil, &r)); got != want {
				t.Fatalf("round %d, variant %d: memo gave %s, rendered %s", round, i, got, want)
			}
			texts[got] = true
		}
	}
	if len(texts) != len(variants)-2 {
		t.Fatalf("%d different objects for %d variants (two of which only change data): %v", len(texts), len(variants), texts)
	}
	hits := 0
	for _, w := range l.memo.ways {
		if w.used != 0 {
			hits++
		}
	}
	if hits != len(texts) {
		t.Fatalf("%d objects kept, want %d", hits, len(texts))
	}
}
