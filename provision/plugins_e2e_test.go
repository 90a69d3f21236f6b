package provision_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/sensorcore/plugin"
	"github.com/tapline/tapline/sensorcore/plugin/plugintest"
)

// TestPushPlugins: push carries the plant's plugin key in the bundle and
// installs the row's signed plugins as its last step, against the real
// appliance; a plugin the sensor would refuse (unsigned, changed after
// signing, another key than the row's) is refused before anything
// connects; one the laptop could not check (no plugin_key in the row) and
// the sensor refuses fails the push with the sensor's reason, and the
// installed version stays.
func TestPushPlugins(t *testing.T) {
	t.Parallel()
	l := newLab(t, "sensor-01")
	ctx := context.Background()
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyFile := filepath.Join(dir, plugin.PublicKeyFile)
	os.WriteFile(keyFile, plugin.MarshalKey(plugin.Key{Name: "Plant A plugins", Public: pub}), 0o644)
	src := plugintest.WorkedExample(t)
	write := func(name string, data []byte, signer ed25519.PrivateKey) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		if signer != nil {
			sig, err := plugin.Sign(data, "Plant A plugins", signer, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p+plugin.SignatureSuffix, sig, 0o644)
		}
		return p
	}
	good := write("kilnnet.yaml", src, priv)

	f := l.kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	row := l.row("sensor-01", "198.18.0.10", f)
	row.PluginKey, row.Plugins = keyFile, []string{good}
	sess := &provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, l.kit.RootPub)}}
	prepare := func(r provision.Row) (provision.Prepared, error) {
		p, err := sess.Prepare(ctx, r)
		p.Target.Addr, p.Target.NewAddr = l.sshAddr, ""
		return p, err
	}

	// Refused before anything connects.
	tampered := write("tampered.yaml", bytes.Replace(src, []byte("max: 4096"), []byte("max: 4095"), 1), nil)
	os.WriteFile(tampered+plugin.SignatureSuffix, must(os.ReadFile(good+plugin.SignatureSuffix)), 0o644)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	for name, c := range map[string]struct{ path, want string }{
		"unsigned":  {write("unsigned.yaml", src, nil), "is not signed"},
		"tampered":  {tampered, "changed after it was signed"},
		"other key": {write("other.yaml", src, otherPriv), "not given"},
	} {
		r := row
		r.Plugins = []string{c.path}
		if _, err := prepare(r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// The key in the bundle, the plugin installed after verify.
	p, err := prepare(row)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var steps []provision.Step
	o := l.options(true, func(e provision.Event) {
		mu.Lock()
		if len(steps) == 0 || steps[len(steps)-1] != e.Step {
			steps = append(steps, e.Step)
		}
		mu.Unlock()
	})
	res := provision.Push(ctx, p.Target, p.Bundle, o)
	if res.Outcome != provision.OutcomeDone || len(res.Plugins) != 1 || res.Plugins[0].Version != "1.0.0" || res.Plugins[0].Signer != "Plant A plugins" {
		t.Fatalf("push with a plugin: %+v\n%s", res, l.app.Log.String())
	}
	mu.Lock()
	if got := fmt.Sprint(steps); got != "[connect trust preflight upload apply verify plugins]" {
		t.Fatalf("steps %s", got)
	}
	mu.Unlock()
	installed := filepath.Join(l.app.Root, "var", "lib", "sensorcore", "plugins", "kilnnet.yaml")
	if b, err := os.ReadFile(installed); err != nil || !bytes.Equal(b, src) {
		t.Fatalf("the plugin is not installed on the appliance: %v", err)
	}

	// Without plugin_key the laptop cannot check the signer: the sensor
	// does (the key it kept from the earlier bundle), and refuses.
	v2 := bytes.Replace(src, []byte("version: 1.0.0"), []byte("version: 1.1.0"), 1)
	r := row
	r.PluginKey, r.Plugins = "", []string{write("kilnnet.yaml", v2, otherPriv)}
	if p, err = prepare(r); err != nil {
		t.Fatal(err)
	}
	res = provision.Push(ctx, p.Target, p.Bundle, l.options(false, nil))
	if res.Outcome == provision.OutcomeDone || res.Step != provision.StepPlugins || !strings.Contains(res.Error, "refused plugin kilnnet.yaml") ||
		!strings.Contains(res.Error, "not given") {
		t.Fatalf("a plugin by another key: %+v", res)
	}
	if b, _ := os.ReadFile(installed); !bytes.Equal(b, src) {
		t.Fatal("the refused plugin replaced the installed one")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
