package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

func examplePlugins(t *testing.T, name string) string {
	return filepath.Join("..", "..", "..", "examples", "plugins", name)
}

func opcuaCapture(t *testing.T) string {
	return needs.Shared(t, "pcaps/opcua/opc-ua-ap-method.pcap")[0]
}

// TestAnalyzePluginsContract: a plugin's protocol is counted under its
// declared name in "protocols", with the same members as a built-in one,
// and events logs its operations.
func TestAnalyzePluginsContract(t *testing.T) {
	pcap := opcuaCapture(t)
	var out, errb bytes.Buffer
	if rc := run([]string{"analyze", "--plugins", examplePlugins(t, "opcua"), "--json", pcap}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	var rep struct {
		Protocols map[string]map[string]json.RawMessage
		Alerts    []struct{ Rule, Protocol string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	op, mb := rep.Protocols["opcua"], rep.Protocols["modbus"]
	for k := range mb {
		if _, ok := op[k]; !ok {
			t.Errorf("opcua lacks the built-in member %q: %s", k, out.String())
		}
	}
	var pdus int
	json.Unmarshal(op["pdus"], &pdus)
	if pdus != 24 || len(rep.Alerts) == 0 || rep.Alerts[0].Protocol != "opcua" {
		t.Fatalf("opcua %v alerts %+v", op, rep.Alerts)
	}

	out.Reset()
	errb.Reset()
	if rc := run([]string{"events", "--plugins", examplePlugins(t, "opcua"), "--json", pcap}, &out, &errb); rc != 0 {
		t.Fatalf("events rc %d: %s", rc, errb.String())
	}
	n := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var rec struct {
			Protocol     string
			FunctionName string `json:"function_name"`
			Fields       map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Protocol == "opcua" && rec.FunctionName != "" && rec.Fields["message_type"] != nil {
			n++
		}
	}
	if n < 9 {
		t.Fatalf("%d OPC UA operations logged:\n%s", n, out.String())
	}
}

// TestAnalyzePluginsRefused: a plugin that does not load stops the run
// with its file and line (exit 2, nothing on stdout).
func TestAnalyzePluginsRefused(t *testing.T) {
	dir := t.TempDir()
	bad := "format: tapline-plugin/1\nprotocol: broken\ntitle: Broken\nversion: 1\nbyte_order: big\ntransport: {tcp: [9999]}\n" +
		"framing: {length: {at: 0, size: 2}}\nfields:\n  - {id: a, type: u9}\noperation: {function: a}\n"
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(bad), 0o644)
	var out, errb bytes.Buffer
	rc := run([]string{"analyze", "--plugins", dir, "--json", s7StopPcap(t)}, &out, &errb)
	if rc != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "broken.yaml:9:") || !strings.Contains(errb.String(), `unknown type "u9"`) {
		t.Fatalf("rc %d out %q err %q", rc, out.String(), errb.String())
	}
	for _, args := range [][]string{{"--plugins", filepath.Join(dir, "none")}, {"--plugins", t.TempDir()}} {
		errb.Reset()
		if rc := run(append([]string{"events", s7StopPcap(t)}, args...), &out, &errb); rc != 2 || errb.Len() == 0 {
			t.Fatalf("%v: rc %d %q", args, rc, errb.String())
		}
	}
}
