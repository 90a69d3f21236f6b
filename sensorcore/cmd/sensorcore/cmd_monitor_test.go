package main

import (
	"bytes"
	bo "encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/monitor"
)

// s7StopPcap writes a one-packet pcap with an S7comm PLC stop job, to a
// file named .pcapng to prove the format is chosen by magic bytes.
func s7StopPcap(t *testing.T) string {
	s7 := []byte{0x32, 1, 0, 0, 0, 0, 0, 16, 0, 0, 0x29, 0, 0, 0, 0, 0, 9, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M'}
	tpkt := append([]byte{3, 0, 0, 0, 2, 0xf0, 0x80}, s7...)
	bo.BigEndian.PutUint16(tpkt[2:], uint16(len(tpkt)))
	frame := []byte{0, 0x1b, 0x1b, 0, 0, 2, 0, 0x1b, 0x1b, 0, 0, 1, 8, 0}
	ip := make([]byte, 20)
	ip[0] = 0x45
	bo.BigEndian.PutUint16(ip[2:], uint16(40+len(tpkt)))
	ip[8], ip[9] = 64, 6
	copy(ip[12:], []byte{192, 0, 2, 1})
	copy(ip[16:], []byte{192, 0, 2, 2})
	tcp := make([]byte, 20)
	bo.BigEndian.PutUint16(tcp[0:], 49152)
	bo.BigEndian.PutUint16(tcp[2:], 102)
	tcp[12], tcp[13] = 5<<4, 0x18
	frame = append(append(append(frame, ip...), tcp...), tpkt...)
	var b bytes.Buffer
	h := make([]byte, 24)
	bo.BigEndian.PutUint32(h[0:], 0xa1b23c4d) // big-endian, nanoseconds
	bo.BigEndian.PutUint16(h[4:], 2)
	bo.BigEndian.PutUint16(h[6:], 4)
	bo.BigEndian.PutUint32(h[16:], 65535)
	bo.BigEndian.PutUint32(h[20:], capture.LinkEthernet)
	b.Write(h)
	r := make([]byte, 16)
	bo.BigEndian.PutUint32(r[0:], 1795248000)
	bo.BigEndian.PutUint32(r[8:], uint32(len(frame)))
	bo.BigEndian.PutUint32(r[12:], uint32(len(frame)))
	b.Write(r)
	b.Write(frame)
	p := filepath.Join(t.TempDir(), "stop.pcapng")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeContract(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"analyze", s7StopPcap(t), "--json"}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &top); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"alerts", "assets", "bytes", "complete", "files", "link_types", "packets", "protocols", "truncated"}) {
		t.Fatalf("keys %v", keys)
	}
	var rep struct {
		Packets   int
		Bytes     int
		Protocols map[string]struct {
			PDUs      int            `json:"pdus"`
			Functions map[string]int `json:"functions"`
			Malformed *int           `json:"malformed"`
		}
		Assets []map[string]any
		Alerts []map[string]any
	}
	json.Unmarshal(out.Bytes(), &rep)
	if rep.Packets != 1 || rep.Bytes < 60 {
		t.Fatalf("packets %d bytes %d", rep.Packets, rep.Bytes)
	}
	for _, name := range []string{"modbus", "dnp3", "s7comm", "enip", "bacnet", "iec104"} {
		p, ok := rep.Protocols[name]
		if !ok || p.Functions == nil || p.Malformed == nil {
			t.Fatalf("protocol %s missing or incomplete: %+v", name, p)
		}
	}
	if s7 := rep.Protocols["s7comm"]; s7.PDUs != 1 || !reflect.DeepEqual(s7.Functions, map[string]int{"41": 1}) {
		t.Fatalf("s7comm %+v", s7)
	}
	if len(rep.Assets) != 2 || len(rep.Alerts) != 1 || rep.Alerts[0]["rule"] != "s7-plc-stop" || rep.Alerts[0]["status"] != "new" {
		t.Fatalf("assets %v alerts %v", rep.Assets, rep.Alerts)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"analyze", "--json"}, &out, &errb); rc != 2 {
		t.Fatalf("no file: rc %d", rc)
	}
	bad := filepath.Join(t.TempDir(), "notes.pcap")
	os.WriteFile(bad, []byte("hello world"), 0o644)
	errb.Reset()
	if rc := run([]string{"analyze", bad}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "notes.pcap") {
		t.Fatalf("bad file: rc %d, %q", rc, errb.String())
	}
}

// TestInventoryAlertsFromRoot: the CLI reads the state the daemon saves
// under <root>/var/lib/sensorcore/monitor.
func TestInventoryAlertsFromRoot(t *testing.T) {
	root := t.TempDir()
	var out, errb bytes.Buffer
	if rc := run([]string{"inventory", "--json", "--root", root}, &out, &errb); rc != 0 || strings.TrimSpace(out.String()) != "[]" {
		t.Fatalf("empty state: rc %d out %q", rc, out.String())
	}
	m, err := monitor.New(monitor.Options{StateDir: filepath.Join(root, monitor.StateSubdir), Learning: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RunFiles(s7StopPcap(t)); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if rc := run([]string{"inventory", "--json", "--root", root}, &out, &errb); rc != 0 {
		t.Fatalf("inventory rc %d: %s", rc, errb.String())
	}
	var assets []map[string]any
	if err := json.Unmarshal(out.Bytes(), &assets); err != nil || len(assets) != 2 {
		t.Fatalf("inventory %v: %s", err, out.String())
	}
	out.Reset()
	if rc := run([]string{"alerts", "--json", "--root", root}, &out, &errb); rc != 0 {
		t.Fatalf("alerts rc %d", rc)
	}
	var alerts []map[string]any
	if err := json.Unmarshal(out.Bytes(), &alerts); err != nil || len(alerts) != 1 || alerts[0]["title"] != "S7 PLC stop" {
		t.Fatalf("alerts %v: %s", err, out.String())
	}
	out.Reset()
	if rc := run([]string{"alerts", "--root", root}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "S7 PLC stop") {
		t.Fatalf("plain alerts: %q", out.String())
	}
	if rc := run([]string{"inventory", "extra"}, &out, &errb); rc != 2 {
		t.Fatalf("stray argument: rc %d", rc)
	}
	_ = time.Second
}

// TestAnalyzeCPUProfile checks --cpuprofile writes a profile (the way
// default.pgo is made) and refuses an unwritable path with one line.
func TestAnalyzeCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "analyze.pprof")
	var out, errb bytes.Buffer
	if rc := run([]string{"analyze", s7StopPcap(t), "--json", "--cpuprofile", prof}, &out, &errb); rc != 0 {
		t.Fatalf("analyze --cpuprofile: exit %d: %s", rc, errb.String())
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile is not a gzipped pprof profile (%d bytes)", len(b))
	}
	errb.Reset()
	bad := filepath.Join(t.TempDir(), "missing", "x.pprof")
	if rc := run([]string{"analyze", s7StopPcap(t), "--cpuprofile", bad}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "--cpuprofile") {
		t.Fatalf("unwritable profile path: exit %d, stderr %q", rc, errb.String())
	}
}

// TestAnalyzePartialInput: a capture cut short in the middle of a packet,
// a damaged one, an unreadable one beside a good one, and one of a link
// type sensorcore does not decode give their results with exit 1, one
// message per failure on stderr, no doubled prefixes; nothing readable at
// all gives exit 2 and no output.
func TestAnalyzePartialInput(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(s7StopPcap(t))
	if err != nil {
		t.Fatal(err)
	}
	// two packets, the second cut short
	twice := append(append([]byte{}, good...), good[24:]...)
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, twice[:len(twice)-5], 0o644)
	// the second record's length says 300000 bytes
	damaged := append([]byte{}, twice...)
	bo.BigEndian.PutUint32(damaged[len(good)+8:], 300000)
	bad := filepath.Join(dir, "damaged.pcap")
	os.WriteFile(bad, damaged, 0o644)
	// the same packet under LINKTYPE 147 (user-defined)
	odd := append([]byte{}, good...)
	bo.BigEndian.PutUint32(odd[20:], 147)
	oddPath := filepath.Join(dir, "dlt147.pcap")
	os.WriteFile(oddPath, odd, 0o644)
	notes := filepath.Join(dir, "notes.pcap")
	os.WriteFile(notes, []byte("hello world"), 0o644)

	cases := []struct {
		name    string
		files   []string
		code    int
		packets uint64
		stderr  []string
	}{
		{"cut short", []string{cut}, 1, 1, []string{"cut.pcap: the capture appears to have been cut short in the middle of a packet; results include the 1 packets before it"}},
		{"damaged", []string{bad}, 1, 1, []string{"damaged.pcap: corrupt capture file: record of 300000 bytes exceeds 262144"}},
		{"undecoded link type", []string{oddPath}, 1, 1, []string{"link type 147 (LINKTYPE 147) is not decoded: 1 packets"}},
		{"one unreadable of two", []string{notes, cut}, 1, 1, []string{"notes.pcap: not a pcap or pcapng file", "cut.pcap: the capture appears"}},
		{"nothing readable", []string{notes, filepath.Join(dir, "missing.pcap")}, 2, 0, []string{"notes.pcap: not a pcap or pcapng file (it starts with 68 65 6c 6c)", "missing.pcap: open: no such file or directory"}},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		rc := run(append([]string{"analyze", "--json"}, c.files...), &out, &errb)
		if rc != c.code {
			t.Errorf("%s: exit %d, want %d: %s", c.name, rc, c.code, errb.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if len(lines) != len(c.stderr) {
			t.Errorf("%s: %d lines on stderr, want one per failure: %q", c.name, len(lines), errb.String())
		}
		for _, want := range c.stderr {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("%s: stderr %q lacks %q", c.name, errb.String(), want)
			}
		}
		if strings.Count(errb.String(), "corrupt capture file") > strings.Count(errb.String(), "\n") || strings.Contains(errb.String(), "capture: capture") {
			t.Errorf("%s: doubled prefixes: %q", c.name, errb.String())
		}
		if c.code == 2 {
			if out.Len() != 0 {
				t.Errorf("%s: output %q for unreadable input", c.name, out.String())
			}
			continue
		}
		var rep monitor.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.Complete || rep.Packets != c.packets {
			t.Errorf("%s: complete %v packets %d", c.name, rep.Complete, rep.Packets)
		}
	}
	// a complete file: exit 0, complete, its link type named
	var out, errb bytes.Buffer
	if rc := run([]string{"analyze", "--json", s7StopPcap(t)}, &out, &errb); rc != 0 || errb.Len() != 0 {
		t.Fatalf("complete file: exit %d: %s", rc, errb.String())
	}
	var rep monitor.Report
	json.Unmarshal(out.Bytes(), &rep)
	if !rep.Complete || len(rep.LinkTypes) != 1 || rep.LinkTypes[0].Name != "Ethernet" || len(rep.Files) != 1 || rep.Files[0].Status != "complete" {
		t.Fatalf("complete file: %+v %+v %+v", rep.Complete, rep.LinkTypes, rep.Files)
	}
}

// TestAnalyzeInternalFault: a panic inside analyze exits 3, never 2 (bad
// input) nor Go's own panic exit.
func TestAnalyzeInternalFault(t *testing.T) {
	var errb bytes.Buffer
	code := func() (code int) {
		defer internalFault("analyze", &errb, &code)
		panic("boom")
	}()
	if code != exitInternal || !strings.Contains(errb.String(), "internal error") {
		t.Fatalf("exit %d, %q", code, errb.String())
	}
}

// TestEvents: events --json writes one JSON object per operation, the
// text form one line each; exit codes as analyze.
func TestEvents(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"events", "--json", s7StopPcap(t)}, &out, &errb); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var op struct {
		ID           string
		Protocol     string
		Function     int
		FunctionName string `json:"function_name"`
		Action       string
		Result       string
		Client       struct{ IP string }
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &op) != nil {
		t.Fatalf("records %q", out.String())
	}
	if op.Protocol != "s7comm" || op.Function != 0x29 || op.FunctionName != "PLC Stop" || op.Action != "S7 PLC stop" ||
		op.Client.IP != "192.0.2.1" || len(op.ID) != 16 || op.Result != "no response" {
		t.Fatalf("record %+v", op)
	}
	out.Reset()
	if rc := run([]string{"events", s7StopPcap(t)}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "192.0.2.1:49152 -> 192.0.2.2:102 PLC Stop(41) no response") {
		t.Fatalf("text: exit %d %q", rc, out.String())
	}
	if rc := run([]string{"events", filepath.Join(t.TempDir(), "missing.pcap")}, &out, &errb); rc != 2 {
		t.Fatalf("missing file: exit %d", rc)
	}
}
