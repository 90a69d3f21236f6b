package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/daemon"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/monitor"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/plugin/plugintest"
)

// kilnnetPlugin is the worked example of docs/plugins.md at version v.
func kilnnetPlugin(t *testing.T, v string) []byte {
	t.Helper()
	src := string(plugintest.WorkedExample(t))
	if !strings.Contains(src, "version: 1.0.0") {
		t.Fatal("the worked example is not version 1.0.0")
	}
	return []byte(strings.Replace(src, "version: 1.0.0", "version: "+v, 1))
}

// kilnnetServer answers KilnNet requests on a loopback port: a furnace
// controller for real traffic on the interface the engine captures.
func kilnnetServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				h := make([]byte, 8)
				for {
					if _, err := io.ReadFull(c, h); err != nil {
						return
					}
					n := int(h[4])<<8 | int(h[5])
					if n > 8 {
						if _, err := io.CopyN(io.Discard, c, int64(n-8)); err != nil {
							return
						}
					}
					// answer: status ok, value 0
					c.Write([]byte{'K', 'N', 1, 3, 0, 11, h[6], h[7], 0, 0, 0})
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// kilnnetTraffic runs one HMI session: n requests (set points and a
// stop), each answered; it returns the PDUs on the wire.
func kilnnetTraffic(t *testing.T, addr string, n int) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	ans := make([]byte, 11)
	for i := 0; i < n; i++ {
		req := []byte{'K', 'N', 1, 2, 0, 11, 0, byte(i), 1, 0x30, 0xd4} // set point zone 1
		if i == n-1 {
			req = []byte{'K', 'N', 1, 4, 0, 8, 0, byte(i)} // stop
		}
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, ans); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 2 * n
}

// stats reads the engine's counters through the console.
func (m *monitored) stats(t *testing.T) monitor.Stats {
	t.Helper()
	code, body := m.get(t, "/monitor/api/v1/stats")
	var s monitor.Stats
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
		t.Fatalf("stats: %d %s", code, body)
	}
	return s
}

// waitPDUs waits until the engine counted at least n kilnnet PDUs.
func (m *monitored) waitPDUs(t *testing.T, n uint64) monitor.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := m.stats(t)
		if s.Protocols["kilnnet"].PDUs >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("kilnnet counted %d PDUs, want at least %d: %+v\n%s", s.Protocols["kilnnet"].PDUs, n, s.Protocols["kilnnet"], m.d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitPlugin waits until status says the engine loaded version v of
// kilnnet.yaml, and returns status's plugins.
func (m *monitored) waitPlugin(t *testing.T, v string, refused bool) *daemon.PluginsStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st daemon.Status
		out, code := cli(t, nil, "status", "--json", "--root", m.root)
		if code == 0 && json.Unmarshal([]byte(out), &st) == nil && st.Plugins != nil && st.Plugins.Engine &&
			len(st.Plugins.Loaded) == 1 && st.Plugins.Loaded[0].Version == v && (len(st.Plugins.Refused) > 0) == refused {
			return st.Plugins
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not load kilnnet %s (refused: %v) within 10 s: %s\n%s", v, refused, out, m.d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPluginHotLoad: a signed plugin pushed to a running sensor (real
// serve, its monitoring engine capturing real TCP traffic on the
// loopback interface) is used without a restart: its protocol's counts
// appear under its name; a new version replaces it with the counts kept;
// an unsigned or tampered upload is refused by install and changes
// nothing; a tampered file in the plugin directory is refused by the
// engine and the previous version keeps running; a restarted engine is
// given the plugins again; the plugin key stays across generations.
func TestPluginHotLoad(t *testing.T) {
	m := startMonitored(t)
	first := m.engine(t, 0, 10*time.Second)
	addr := kilnnetServer(t)

	// Before any plugin: the traffic is no kilnnet.
	kilnnetTraffic(t, addr, 5)
	time.Sleep(time.Second)
	if p, ok := m.stats(t).Protocols["kilnnet"]; ok {
		t.Fatalf("kilnnet counted before any plugin: %+v", p)
	}

	// The plant's plugin key, in a bundle (generation 2).
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyFile := plugin.MarshalKey(plugin.Key{Name: "Plant A plugins", Public: pub})
	in := daemon.Layout{Root: m.root}.Incoming()
	b := m.kit.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Hostname: "sensor-01.plant.example", PluginKey: keyFile})
	if out, code := cli(t, nil, "apply", "--json", "--root", m.root, "--trust-root", m.kit.RootFile, b.Archive); code != 0 {
		t.Fatalf("apply with the plugin key: %s", out)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sign := func(data []byte) []byte {
		sig, err := plugin.Sign(data, "Plant A plugins", priv, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	cl := m.ssh.dial(t, m.root, m.d.run.SSH)
	defer cl.Close()
	install := func(data, sig []byte) (daemon.PluginResult, int) {
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o700)
		upload(t, cl, write("kilnnet.yaml", data))
		if sig != nil {
			upload(t, cl, write("kilnnet.yaml.sig", sig))
		}
		var res daemon.PluginResult
		code := remote(t, cl, "sensorcore plugin install --json kilnnet.yaml", &res)
		return res, code
	}

	// Version 1.0.0 over SSH, as tapline push --plugin sends it.
	v1 := kilnnetPlugin(t, "1.0.0")
	start := time.Now()
	if res, code := install(v1, sign(v1)); code != 0 || !res.OK || res.Version != "1.0.0" || res.Signer != "Plant A plugins" {
		t.Fatalf("install 1.0.0: exit %d %+v", code, res)
	}
	ps := m.waitPlugin(t, "1.0.0", false)
	t.Logf("kilnnet 1.0.0 loaded %s after install", time.Since(start).Round(time.Millisecond))
	if ps.Loaded[0].Signer != "Plant A plugins" || len(ps.Keys) != 1 || ps.Keys[0].Name != "Plant A plugins" {
		t.Fatalf("status plugins: %+v", ps)
	}
	wire := kilnnetTraffic(t, addr, 5)
	s1 := m.waitPDUs(t, uint64(wire))
	if s1.Protocols["kilnnet"].Functions["4"] < 1 {
		t.Fatalf("no stop_furnace counted: %+v", s1.Protocols["kilnnet"])
	}

	// Version 1.1.0 replaces it in place: the same engine, counts kept.
	v2 := kilnnetPlugin(t, "1.1.0")
	if res, code := install(v2, sign(v2)); code != 0 || !res.OK || res.Replaced != "1.0.0" {
		t.Fatalf("install 1.1.0: exit %d %+v", code, res)
	}
	m.waitPlugin(t, "1.1.0", false)
	if s := m.stats(t); s.Protocols["kilnnet"].PDUs < s1.Protocols["kilnnet"].PDUs || s.Packets < s1.Packets {
		t.Fatalf("counts lost with the new version: %+v, before %+v", s.Protocols["kilnnet"], s1.Protocols["kilnnet"])
	}
	wire += kilnnetTraffic(t, addr, 5)
	s2 := m.waitPDUs(t, uint64(wire))
	if e := m.engine(t, 0, time.Second); e.PID != first.PID || e.Restarts != 0 {
		t.Fatalf("the engine restarted: %+v, first %+v", e, first)
	}

	// Refused by install, nothing placed: unsigned; tampered after signing;
	// signed by another key.
	installed := filepath.Join(daemon.Layout{Root: m.root}.Plugins(), "kilnnet.yaml")
	tampered := bytes.Replace(v2, []byte("max: 4096"), []byte("max: 4095"), 1)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	otherSig, _ := plugin.Sign(v2, "Someone else", otherPriv, time.Now())
	for name, c := range map[string]struct {
		data, sig []byte
		want      string
	}{
		"unsigned":  {v2, nil, "not signed"},
		"tampered":  {tampered, sign(v2), "changed after it was signed"},
		"other key": {v2, otherSig, "not given"},
	} {
		res, code := install(c.data, c.sig)
		if code == 0 || res.OK || res.Code != daemon.CodePlugin || !strings.Contains(res.Error, c.want) {
			t.Errorf("%s: exit %d %+v", name, code, res)
		}
		if got, _ := os.ReadFile(installed); !bytes.Equal(got, v2) {
			t.Fatalf("%s: the installed plugin changed", name)
		}
		if left, _ := filepath.Glob(filepath.Join(in, "kilnnet*")); len(left) != 0 {
			t.Errorf("%s: uploads left in the incoming directory: %v", name, left)
		}
	}

	// A restarted engine gets the plugins again from serve and decodes
	// with them at once.
	syscall.Kill(first.PID, syscall.SIGKILL)
	second := m.engine(t, first.PID, 10*time.Second)
	m.waitPlugin(t, "1.1.0", false)
	before := m.stats(t).Protocols["kilnnet"].PDUs
	wire = int(before) + kilnnetTraffic(t, addr, 5)
	m.waitPDUs(t, uint64(wire))
	first = second

	// A tampered file put straight into the plugin directory (past
	// install): the engine refuses it and 1.1.0 keeps running.
	if err := os.WriteFile(installed, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	ps = m.waitPlugin(t, "1.1.0", true)
	if r := ps.Refused[0]; r.File != "kilnnet.yaml" || r.Running != "1.1.0" || !strings.Contains(r.Reason, "changed after it was signed") {
		t.Fatalf("refusal: %+v", r)
	}
	wire += kilnnetTraffic(t, addr, 5)
	m.waitPDUs(t, uint64(wire))
	out, _ := cli(t, nil, "status", "--root", m.root)
	if !strings.Contains(out, `plugin:        kilnnet 1.1.0 (kilnnet.yaml), loaded, signed by "Plant A plugins"`) ||
		!strings.Contains(out, "kilnnet.yaml REFUSED: plugin: the file was changed after it was signed") || !strings.Contains(out, "version 1.1.0 keeps running") {
		t.Fatalf("status text:\n%s", out)
	}
	if e := m.engine(t, 0, time.Second); e.PID != first.PID {
		t.Fatalf("the engine restarted: %+v", e)
	}
	if _, body := m.get(t, "/"); !strings.Contains(body, "Protocol plugins") || !strings.Contains(body, "KilnNet furnace control") ||
		!strings.Contains(body, "1.1.0") || !strings.Contains(body, "REFUSED") || !strings.Contains(body, "changed after it was signed") {
		t.Fatalf("the console's overview does not list the plugins:\n%s", body)
	}
	_ = s2

	// The engine dies with the tampered file still on disk: the new one
	// is given the version serve accepted before (the tampered bytes are
	// refused again, never loaded) and decodes with it at once; serve
	// says so once, not at every read of the directory.
	syscall.Kill(first.PID, syscall.SIGKILL)
	second = m.engine(t, first.PID, 10*time.Second)
	ps = m.waitPlugin(t, "1.1.0", true)
	if r := ps.Refused[0]; r.File != "kilnnet.yaml" || r.Running != "1.1.0" || !strings.Contains(r.Reason, "changed after it was signed") {
		t.Fatalf("after the restart, refusal: %+v", r)
	}
	if sum := sha256.Sum256(v2); ps.Loaded[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("the new engine loaded other bytes than the signed 1.1.0: %+v", ps.Loaded[0])
	}
	before = m.stats(t).Protocols["kilnnet"].PDUs
	wire = int(before) + kilnnetTraffic(t, addr, 5)
	m.waitPDUs(t, uint64(wire))
	time.Sleep(2 * time.Second) // two more reads of the directory
	if n := strings.Count(m.d.log.String(), "kilnnet.yaml in the plugin directory fails its check"); n != 1 {
		t.Fatalf("the tampering reported %d times, want once:\n%s", n, m.d.log)
	}
	if got, _ := os.ReadFile(installed); !bytes.Equal(got, tampered) {
		t.Fatal("the tampered file on disk was replaced: the sensor keeps the evidence")
	}
	first = second

	// The alert's text in the browser's language.
	for lang, want := range map[string]string{"de-DE,de;q=0.9,en;q=0.5": "Ofen angehalten", "en-GB,en": "Furnace stopped", "fr": "Furnace stopped"} {
		req, _ := http.NewRequest(http.MethodGet, m.base+"/monitor/alerts", nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := m.console.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Errorf("Accept-Language %s: the alerts page lacks %q:\n%s", lang, want, body)
		}
	}

	// A bundle without the plugin key keeps the key (generation 3).
	b = m.kit.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01", Hostname: "sensor-01.plant.example"})
	if out, code := cli(t, nil, "apply", "--json", "--root", m.root, "--trust-root", m.kit.RootFile, b.Archive); code != 0 {
		t.Fatalf("apply without the plugin key: %s", out)
	}
	var st daemon.Status
	out, _ = cli(t, nil, "status", "--json", "--root", m.root)
	if json.Unmarshal([]byte(out), &st) != nil || st.Generation != 3 || st.Plugins == nil || len(st.Plugins.Keys) != 1 {
		t.Fatalf("the plugin key did not stay across generations: %s", out)
	}
}
