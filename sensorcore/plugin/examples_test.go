package plugin

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/monitor"
)

// The shipped examples, each checked against the referee a user would
// trust: tshark 4.0 for OPC UA and C37.118, the built-in decoder for the
// Modbus plugin.

func example(t testing.TB, name string) string {
	return filepath.Join(needs.RepoRoot(t), "examples", "plugins", name, name+".yaml")
}

func shared(t testing.TB, glob string) []string {
	return needs.Shared(t, filepath.Join("pcaps", glob))
}

func tshark(t testing.TB) string {
	p, err := exec.LookPath("tshark")
	if err != nil {
		needs.Missing(t, "needs tshark 4.0 (apt-get install tshark; make test installs it)")
	}
	return p
}

// analyzeWith runs the monitor over files with the plugin files loaded
// (none: the built-in dissectors alone) and returns the report.
func analyzeWith(t testing.TB, plugins []string, files ...string) monitor.Report {
	t.Helper()
	var ps []*Plugin
	for _, p := range plugins {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, mustParse(t, string(data)))
	}
	m, closeAll := monitorWith(t, ps...)
	defer closeAll()
	for _, f := range files {
		if fr := m.RunFile(f); fr.Err() != nil {
			t.Fatal(fr.Err())
		}
	}
	return m.Report()
}

// tsharkCounts counts the values of each field over the capture's
// packets (several PDUs in one frame give comma-separated values).
func tsharkCounts(t testing.TB, file string, extra []string, fields ...string) []map[string]uint64 {
	t.Helper()
	args := append([]string{"-r", file, "-T", "fields", "-E", "separator=/t"}, extra...)
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark(t), args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
	}
	counts := make([]map[string]uint64, len(fields))
	for i := range counts {
		counts[i] = map[string]uint64{}
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		for i := range fields {
			if i >= len(cols) || cols[i] == "" {
				continue
			}
			for _, v := range strings.Split(cols[i], ",") {
				counts[i][v]++
			}
		}
	}
	return counts
}

// decimal turns tshark's values (0x0004 or 631) into decimal keys.
func decimal(t testing.TB, m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, n := range m {
		v, err := strconv.ParseInt(k, 0, 64)
		if err != nil {
			t.Fatalf("tshark value %q", k)
		}
		out[strconv.FormatInt(v, 10)] += n
	}
	return out
}

func TestExamplesAreClean(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(needs.RepoRoot(t), "examples", "plugins", "*", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		p, err := ReadFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, w := range p.Warnings {
			t.Errorf("%s: %s", f, w)
		}
	}
}

// TestOPCUAMatchesTshark: message types and service node ids of the OPC
// UA example on the shared capture (TCP 12001, found by its signature)
// equal tshark's opcua.transport.type and opcua.servicenodeid.numeric.
func TestOPCUAMatchesTshark(t *testing.T) {
	files := shared(t, "opcua/*.pcap")
	for _, f := range files {
		rep := analyzeWith(t, []string{example(t, "opcua")}, f)
		got := rep.Protocols["opcua"]
		want := tsharkCounts(t, f, []string{"-d", "tcp.port==12001,opcua"}, "opcua.transport.type", "opcua.servicenodeid.numeric")
		if len(want[0]) == 0 {
			t.Fatalf("%s: tshark found no OPC UA", f)
		}
		if !maps.Equal(got.Fields["message_type"], want[0]) {
			t.Errorf("%s: message types %v, tshark %v", f, got.Fields["message_type"], want[0])
		}
		if w := decimal(t, want[1]); !maps.Equal(got.Functions, w) {
			t.Errorf("%s: services %v, tshark %v", f, got.Functions, w)
		}
		var total uint64
		for _, n := range want[0] {
			total += n
		}
		if got.PDUs != total || got.Malformed != 0 {
			t.Errorf("%s: %d PDUs (%d malformed), tshark %d messages", f, got.PDUs, got.Malformed, total)
		}
	}
}

// TestC37118MatchesTshark: frame types and command codes of the C37.118
// example over TCP and UDP equal tshark's synphasor.frtype and
// synphasor.command, and every "turn off transmission" command raised the
// alert.
func TestC37118MatchesTshark(t *testing.T) {
	files := shared(t, "c37118/*.pcap")
	p, err := ReadFile(example(t, "c37118"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rep := analyzeWith(t, []string{example(t, "c37118")}, f)
		got := rep.Protocols["c37118"]
		want := tsharkCounts(t, f, nil, "synphasor.frtype", "synphasor.command")
		frtypes := decimal(t, want[0])
		if len(frtypes) == 0 {
			t.Fatalf("%s: tshark found no synchrophasor frame", f)
		}
		if !maps.Equal(got.Functions, frtypes) {
			t.Errorf("%s: frame types %v, tshark %v", f, got.Functions, frtypes)
		}
		commands := map[string]uint64{}
		for k, n := range decimal(t, want[1]) {
			v, _ := strconv.ParseInt(k, 10, 64)
			commands[p.countName(0, v)] += n
		}
		if !maps.Equal(got.Fields["command"], commands) {
			t.Errorf("%s: commands %v, tshark %v", f, got.Fields["command"], commands)
		}
		var off uint64
		for _, a := range rep.Alerts {
			if a.Rule == "c37118-turn-off-transmission" {
				off += a.Count
				if a.Texts["de"].Title == "" || a.Severity != "high" {
					t.Errorf("alert %+v", a)
				}
			}
		}
		if n := commands["Turn off transmission"]; off != n || n == 0 {
			t.Errorf("%s: %d turn-off alerts for %d turn-off commands", f, off, n)
		}
	}
}

// TestModbusPluginEqualsBuiltin: on every shared capture, the Modbus
// plugin counts the PDUs, function codes and malformed PDUs the built-in
// decoder counts without it (and leaves the built-in decoder nothing on
// port 502 while it is loaded).
func TestModbusPluginEqualsBuiltin(t *testing.T) {
	files := shared(t, "*/*.pcap*")
	seen := 0
	for _, f := range files {
		builtin := analyzeWith(t, nil, f).Protocols["modbus"]
		with := analyzeWith(t, []string{example(t, "modbus")}, f)
		got := with.Protocols["modbus_plugin"]
		if got.PDUs != builtin.PDUs || got.Malformed != builtin.Malformed || !maps.Equal(got.Functions, builtin.Functions) {
			t.Errorf("%s: plugin %d PDUs %v %d malformed; built-in %d PDUs %v %d malformed", filepath.Base(f),
				got.PDUs, got.Functions, got.Malformed, builtin.PDUs, builtin.Functions, builtin.Malformed)
		}
		if left := with.Protocols["modbus"].PDUs; left != 0 {
			t.Errorf("%s: the built-in decoder still counted %d PDUs beside the plugin", filepath.Base(f), left)
		}
		if builtin.PDUs > 0 {
			seen++
		}
	}
	if seen < 3 {
		t.Errorf("Modbus found in %d shared captures, want the 3 Modbus ones", seen)
	}
}

// TestPNDCPMatchesTshark: the PROFINET DCP example, on its EtherType
// 0x8892 (plain and in an 802.1Q tag), counts the frame ids, services and
// service types tshark finds in the shared PROFINET captures.
func TestPNDCPMatchesTshark(t *testing.T) {
	files := shared(t, "profinet/*.pcap")
	p, err := ReadFile(example(t, "pndcp"))
	if err != nil {
		t.Fatal(err)
	}
	var sets uint64
	for _, f := range files {
		rep := analyzeWith(t, []string{example(t, "pndcp")}, f)
		got := rep.Protocols["pndcp"]
		for _, a := range rep.Alerts {
			if a.Rule == "pndcp-set" && a.Texts["de"].Title != "" {
				sets += a.Count
			}
		}
		want := tsharkCounts(t, f, nil, "pn_rt.frame_id", "pn_dcp.service_id", "pn_dcp.service_type")
		frames := decimal(t, want[0])
		if len(frames) == 0 {
			t.Fatalf("%s: tshark found no PROFINET frame", f)
		}
		if !maps.Equal(got.Fields["frame_id"], frames) {
			t.Errorf("%s: frame ids %v, tshark %v", f, got.Fields["frame_id"], frames)
		}
		if !maps.Equal(got.Functions, decimal(t, want[1])) {
			t.Errorf("%s: services %v, tshark %v", f, got.Functions, decimal(t, want[1]))
		}
		types := map[string]uint64{}
		for k, n := range decimal(t, want[2]) {
			v, _ := strconv.ParseInt(k, 10, 64)
			types[p.countName(1, v)] += n
		}
		if !maps.Equal(got.Fields["service_type"], types) || got.Malformed != 0 {
			t.Errorf("%s: service types %v, tshark %v (malformed %d)", f, got.Fields["service_type"], types, got.Malformed)
		}
	}
	if sets != 1 { // profinet-dcp-set.pcap holds one DCP Set request (and its response)
		t.Errorf("%d DCP Set alerts, want 1", sets)
	}
}

// TestEtherTypeTransport: a plugin on an EtherType is handed exactly the
// non-IP frames of that EtherType (after VLAN tags), one PDU each; other
// EtherTypes and IP frames never reach it; IP, ARP and VLAN EtherTypes are
// refused when the plugin is parsed.
func TestEtherTypeTransport(t *testing.T) {
	const src = `format: tapline-plugin/1
protocol: l2test
title: L2 test
version: 1.0.0
byte_order: big
transport: {ethertype: [0x88b5]}
fields:
  - {id: kind, type: u1, valid: [1..3]}
  - {type: skip, size: rest}
operation: {function: kind}
`
	eth := func(et uint16, vlan bool, payload ...byte) []byte {
		f := []byte{0x01, 0x0e, 0xcf, 0, 0, 0, 0x02, 0, 0, 0, 0, 1}
		if vlan {
			f = append(f, 0x81, 0x00, 0x00, 0x05)
		}
		f = append(f, byte(et>>8), byte(et))
		f = append(f, payload...)
		for len(f) < 60 {
			f = append(f, 0) // Ethernet's padding
		}
		return f
	}
	frames := [][]byte{
		eth(0x88b5, false, 1),
		eth(0x88b5, true, 2),
		eth(0x88b5, false, 9),       // malformed: kind 9
		eth(0x88b6, false, 1),       // another EtherType
		eth(0x0800, false, 0x45, 0), // IPv4 (truncated): never the plugin's
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "l2.pcap")
	writePcap(t, pcap, frames)
	pf := filepath.Join(dir, "l2test.yaml")
	os.WriteFile(pf, []byte(src), 0o600)
	got := analyzeWith(t, []string{pf}, pcap).Protocols["l2test"]
	if got.PDUs != 3 || got.Malformed != 1 || got.Functions["1"] != 1 || got.Functions["2"] != 1 {
		t.Fatalf("l2test: %+v", got)
	}
	for _, et := range []string{"0x0800", "0x86dd", "0x0806", "0x8100", "0x05dc"} {
		if _, err := Parse([]byte(strings.Replace(src, "0x88b5", et, 1))); err == nil || !strings.Contains(err.Error(), "transport.ethertype[0]") {
			t.Errorf("ethertype %s: %v", et, err)
		}
	}
}

// writePcap writes Ethernet frames as a classic pcap file.
func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	le := func(b []byte, v ...uint32) []byte {
		for _, x := range v {
			b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
		}
		return b
	}
	out := le(nil, 0xa1b2c3d4)
	out = append(out, 2, 0, 4, 0) // version 2.4
	out = le(out, 0, 0, 65535, 1) // LINKTYPE_ETHERNET
	for i, f := range frames {
		out = le(out, uint32(1700000000+i), 0, uint32(len(f)), uint32(len(f)))
		out = append(out, f...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}
