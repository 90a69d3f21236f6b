package monitor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// sharedCaptures lists the shared real captures, skipping the test when
// they are absent (failing it under CI=true).
func sharedCaptures(t testing.TB) []string {
	return needs.Shared(t, "pcaps/*/*.pcap*")
}

// tsharkFields are, per protocol, the field present once per PDU and the
// function field, as named by tshark 4.0.
var tsharkFields = []struct {
	proto     uint8
	pdu       string
	functions []string
}{
	{dissect.Modbus, "mbtcp.len", []string{"modbus.func_code"}},
	{dissect.DNP3, "dnp3.len", []string{"dnp3.al.func"}},
	{dissect.S7comm, "s7comm.header.rosctr", []string{"s7comm.param.func"}},
	{dissect.ENIP, "enip.command", []string{"cip.sc"}},
	{dissect.BACnet, "bvlc.type", []string{"bacapp.confirmed_service", "bacapp.unconfirmed_service"}},
	{dissect.IEC104, "iec60870_104.apdulen", []string{"iec60870_asdu.typeid"}},
	{dissect.PNDCP, "pn_dcp.service_type", []string{"pn_dcp.service_id"}},
}

// tsharkCounts runs tshark over file and returns "proto.pdus" and
// "proto.fn.N" counts.
func tsharkCounts(t *testing.T, tshark, file string) map[string]uint64 {
	args := []string{"-n", "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=#"}
	type col struct {
		key string
		fn  bool
	}
	var cols []col
	for _, f := range tsharkFields {
		args = append(args, "-e", f.pdu)
		cols = append(cols, col{dissect.Name(f.proto), false})
		for _, fn := range f.functions {
			args = append(args, "-e", fn)
			cols = append(cols, col{dissect.Name(f.proto), true})
		}
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark on %s: %v: %s", file, err, stderr.String())
	}
	counts := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		for i, v := range strings.Split(sc.Text(), "#") {
			if v == "" || i >= len(cols) {
				continue
			}
			for _, x := range strings.Split(v, "|") {
				if !cols[i].fn {
					counts[cols[i].key+".pdus"]++
					continue
				}
				n, err := strconv.ParseUint(x, 0, 16)
				if err != nil {
					t.Fatalf("tshark %s: field value %q", file, x)
				}
				counts[fmt.Sprintf("%s.fn.%d", cols[i].key, n)]++
			}
		}
	}
	return counts
}

// ourCounts runs the pipeline over file; malformed PDUs are counted apart
// because tshark does not count what it cannot recognise.
func ourCounts(t *testing.T, file string) map[string]uint64 {
	m, err := New(Options{Learning: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.RunFiles(file); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for name, p := range m.Report().Protocols {
		if p.PDUs > 0 {
			counts[name+".pdus"] = p.PDUs
		}
		for fc, n := range p.Functions {
			counts[name+".fn."+fc] = n
		}
	}
	return counts
}

type allowed struct {
	ours, theirs uint64
	reason       string
	used         bool
}

// readAllowed parses testdata/groundtruth-allowed.tsv: file, key, our
// count, tshark's count, reason; '#' starts a comment.
func readAllowed(t *testing.T) map[string]*allowed {
	f, err := os.Open(filepath.Join("testdata", "groundtruth-allowed.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*allowed{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.HasPrefix(s, "#") || strings.TrimSpace(s) == "" {
			continue
		}
		p := strings.Split(s, "\t")
		if len(p) != 5 || strings.TrimSpace(p[4]) == "" {
			t.Fatalf("groundtruth-allowed.tsv:%d: want file<TAB>key<TAB>ours<TAB>tshark<TAB>reason", line)
		}
		o, err1 := strconv.ParseUint(p[2], 10, 64)
		th, err2 := strconv.ParseUint(p[3], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("groundtruth-allowed.tsv:%d: counts must be numbers", line)
		}
		out[p[0]+" "+p[1]] = &allowed{ours: o, theirs: th, reason: p[4]}
	}
	return out
}

// TestGroundTruthTshark compares per-protocol PDU and function counts with
// tshark's on every shared capture. Each difference must be listed, with
// its reason, in testdata/groundtruth-allowed.tsv, and each listed
// difference must still occur.
func TestGroundTruthTshark(t *testing.T) {
	files := sharedCaptures(t)
	tshark := needs.Tool(t, "tshark", "tshark")
	allow := readAllowed(t)
	for _, file := range files {
		base := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		compareCounts(t, base, base, tsharkCounts(t, tshark, file), ourCounts(t, file), allow)
	}
	unusedAllowed(t, allow, false)
}

// unusedAllowed fails on each entry of the allowed file that no longer
// differs: the operations log's ("ops." keys) or the counts'.
func unusedAllowed(t *testing.T, allow map[string]*allowed, ops bool) {
	for k, a := range allow {
		if !a.used && strings.Contains(k, " ops.") == ops {
			t.Errorf("groundtruth-allowed.tsv entry %q no longer differs; remove it", k)
		}
	}
}

// compareCounts reports every key where ours and theirs differ without an
// entry for base in the allowed file (or with other counts than the
// entry's); name is what the messages call the capture.
func compareCounts(t *testing.T, name, base string, theirs, ours map[string]uint64, allow map[string]*allowed) {
	t.Helper()
	keys := map[string]bool{}
	for k := range theirs {
		keys[k] = true
	}
	for k := range ours {
		keys[k] = true
	}
	for k := range keys {
		if ours[k] == theirs[k] {
			continue
		}
		a, ok := allow[base+" "+k]
		if !ok {
			t.Errorf("%s %s: sensorcore %d, tshark %d, and no entry in testdata/groundtruth-allowed.tsv", name, k, ours[k], theirs[k])
			continue
		}
		a.used = true
		if a.ours != ours[k] || a.theirs != theirs[k] {
			t.Errorf("%s %s: sensorcore %d, tshark %d; the allowed entry says %d and %d", name, k, ours[k], theirs[k], a.ours, a.theirs)
		}
	}
}
