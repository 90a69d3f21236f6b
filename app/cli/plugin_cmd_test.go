package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/internal/needs"
)

func examplePlugin(name string) string {
	return filepath.Join("..", "..", "examples", "plugins", name, name+".yaml")
}

// TestPluginKeygenSignCheck: the plant's key is made encrypted, a plugin
// signed with it verifies; a changed plugin, another key, a wrong
// passphrase and an unencrypted key are all refused and say why.
func TestPluginKeygenSignCheck(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass.txt")
	os.WriteFile(pass, []byte("Plant.pass-1\n"), 0o600)
	env, out, errb := testEnv(now)
	if rc := Main([]string{"plugin", "keygen", "--out", filepath.Join(dir, "key"), "--name", "Plant A plugins", "--passphrase-file", pass}, env); rc != 0 {
		t.Fatalf("keygen rc %d: %s", rc, errb)
	}
	keyFile, pubFile := filepath.Join(dir, "key", "plugin-signing.key"), filepath.Join(dir, "key", "plugin-signing.pub")
	kb, _ := os.ReadFile(keyFile)
	if private, err := filemode.Is(keyFile, 0o600); !strings.Contains(string(kb), "ENCRYPTED PRIVATE KEY") || err != nil || !private {
		t.Fatalf("key file private %v (%v) %q", private, err, kb[:40])
	}
	if rc := Main([]string{"plugin", "keygen", "--out", filepath.Join(dir, "key"), "--name", "again", "--passphrase-file", pass}, env); rc != ExitUsage {
		t.Fatalf("keygen over an existing key: rc %d", rc)
	}
	src, _ := os.ReadFile(examplePlugin("opcua"))
	pl := filepath.Join(dir, "opcua.yaml")
	os.WriteFile(pl, src, 0o644)

	env, out, errb = testEnv(now)
	if rc := Main([]string{"plugin", "sign", pl, "--key", keyFile, "--passphrase-file", pass}, env); rc != 0 {
		t.Fatalf("sign rc %d: %s", rc, errb)
	}
	if !strings.Contains(out.String(), `as "Plant A plugins"`) {
		t.Fatalf("sign: %s", out)
	}
	env, out, _ = testEnv(now)
	if rc := Main([]string{"plugin", "check", pl, "--key", pubFile}, env); rc != 0 || !strings.Contains(out.String(), "verified") {
		t.Fatalf("check rc %d: %s", rc, out)
	}

	// the attacks
	wrong := filepath.Join(dir, "wrong.txt")
	os.WriteFile(wrong, []byte("not.it-1\n"), 0o600)
	env, _, errb = testEnv(now)
	if rc := Main([]string{"plugin", "sign", pl, "--key", keyFile, "--passphrase-file", wrong}, env); rc != ExitUsage || !strings.Contains(errb.String(), "passphrase does not open") {
		t.Fatalf("wrong passphrase: rc %d %s", rc, errb)
	}
	plain := filepath.Join(dir, "plain.key")
	os.WriteFile(plain, []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFQ6jY3xS5NWrHPrbWcKXP5Q7hXkp9hk6k4vSNk1u0f2\n-----END PRIVATE KEY-----\n"), 0o600)
	env, _, errb = testEnv(now)
	if rc := Main([]string{"plugin", "sign", pl, "--key", plain, "--passphrase-file", pass, "--signer", "x"}, env); rc != ExitUsage || !strings.Contains(errb.String(), "not encrypted") {
		t.Fatalf("unencrypted key: rc %d %s", rc, errb)
	}
	os.WriteFile(pl, append(src, []byte("# changed after signing\n")...), 0o644)
	env, out, _ = testEnv(now)
	if rc := Main([]string{"plugin", "check", pl, "--key", pubFile}, env); rc != ExitVerdict || !strings.Contains(out.String(), "changed after it was signed") {
		t.Fatalf("tampered: rc %d %s", rc, out)
	}
	env, _, _ = testEnv(now)
	Main([]string{"plugin", "keygen", "--out", filepath.Join(dir, "other"), "--name", "Someone else", "--passphrase-file", pass}, env)
	env, out, _ = testEnv(now)
	if rc := Main([]string{"plugin", "check", pl, "--key", filepath.Join(dir, "other", "plugin-signing.pub")}, env); rc != ExitVerdict || !strings.Contains(out.String(), "not given") {
		t.Fatalf("other key: rc %d %s", rc, out)
	}
}

// TestPluginCheckLines: errors come with their line and column, one per
// line, and --json lists them.
func TestPluginCheckLines(t *testing.T) {
	dir := t.TempDir()
	bad := "format: tapline-plugin/1\nprotocol: Bad Name\ntitle: T\nversion: 1.0\nbyte_order: middle\ntransport: {tcp: [70000]}\n" +
		"framing: {length: {at: 0, size: 2}}\nfields:\n  - {id: a, type: u2}\n  - {id: b, type: bytes, size: c}\noperation: {function: a}\n"
	p := filepath.Join(dir, "bad.yaml")
	os.WriteFile(p, []byte(bad), 0o644)
	env, out, _ := testEnv(time.Now())
	if rc := Main([]string{"plugin", "check", p}, env); rc != ExitVerdict {
		t.Fatalf("rc %d", rc)
	}
	for _, want := range []string{p + ":2:11: protocol:", p + ":5:13: byte_order:", p + ":6:19: transport.tcp[0]: 70000 is outside", p + ":10:32: fields[1](b).size: no field \"c\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	env, out, _ = testEnv(time.Now())
	Main([]string{"plugin", "check", "--json", p, examplePlugin("modbus")}, env)
	var res []struct {
		File     string
		OK       bool
		Problems []struct{ Line int }
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 2 || res[0].OK || !res[1].OK || res[0].Problems[0].Line == 0 {
		t.Fatalf("json %v %s", err, out)
	}
}

// TestPluginTest: the same engine as the sensor: counts, the operations
// log and the alerts of the C37.118 example on a shared capture.
func TestPluginTest(t *testing.T) {
	pcap := needs.Shared(t, "pcaps/c37118/C37.118_1PMU_TCP.pcap")[0]
	env, out, errb := testEnv(time.Now())
	if rc := Main([]string{"plugin", "test", examplePlugin("c37118"), pcap}, env); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb)
	}
	for _, want := range []string{"c37118: 256 PDUs, 0 malformed", "functions: 0×252 3×1 4×3", "4 operations:", "command=1 command_name=Turn off transmission", "1 alerts:", "high PMU data transmission turned off"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	env, out, _ = testEnv(time.Now())
	if rc := Main([]string{"plugin", "test", "--json", examplePlugin("c37118"), pcap}, env); rc != 0 {
		t.Fatalf("json rc %d", rc)
	}
	var rep struct {
		Protocols  map[string]struct{ PDUs int }
		Operations []map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Protocols["c37118"].PDUs != 256 || len(rep.Operations) != 4 {
		t.Fatalf("%v %+v", err, rep)
	}
}

// TestPluginTestEtherTypeEnds: the operations of a protocol on an
// EtherType (the PROFINET DCP example) name their ends by MAC address
// alone, with no port.
func TestPluginTestEtherTypeEnds(t *testing.T) {
	pcap := needs.Shared(t, "pcaps/profinet/profinet-dcp-set.pcap")[0]
	env, out, errb := testEnv(time.Now())
	if rc := Main([]string{"plugin", "test", examplePlugin("pndcp"), pcap}, env); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb)
	}
	ops := regexp.MustCompile(`(?m)^  \S+ (\S+) -> (\S+) `).FindAllStringSubmatch(out.String(), -1)
	if len(ops) == 0 {
		t.Fatalf("no operations in\n%s", out)
	}
	mac := regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)
	for _, o := range ops {
		if !mac.MatchString(o[1]) || !mac.MatchString(o[2]) {
			t.Fatalf("operation %q: want both ends as MAC addresses without a port\n%s", o[0], out)
		}
	}
}
