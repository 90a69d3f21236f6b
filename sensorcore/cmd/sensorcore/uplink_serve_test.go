package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/natstest"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// TestServeStreamsToSite: a bundle with an uplink, applied; the real
// sensorcore serve connects to the site's real NATS server with the
// bundle's client certificate and NKEY, and publishes its status (its
// generation, its licence) there; sanity says it streams.
func TestServeStreamsToSite(t *testing.T) {
	st := natstest.NewSite(t, 1, "sensor-01")
	k := testkit.New(t, time.Now().UTC().Truncate(time.Second), "")
	cl := st.Sensor("sensor-01")
	b := k.Bundle(t, t.TempDir(), testkit.Spec{Sensor: "sensor-01",
		Uplink: &netconf.Uplink{Site: st.Name, Servers: cl.Servers},
		UplinkFiles: map[bundle.Role][]byte{bundle.RoleUplinkCA: cl.CA, bundle.RoleUplinkClientCert: cl.Cert,
			bundle.RoleUplinkClientKey: cl.Key, bundle.RoleUplinkCredential: cl.Credential}})
	root := t.TempDir()
	if out, err := exec.Command(binary, "apply", "--root", root, "--trust-root", k.RootFile, "--json", b.Archive).CombinedOutput(); err != nil {
		t.Fatalf("apply: %v %s", err, out)
	}
	d := startServe(t, root, k.RootFile)

	vc, err := st.Viewer().Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	subj := site.Subjects{Site: st.Name, Sensor: "sensor-01"}
	var got site.Status
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		m, err := vc.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+site.StateStream(st.Name)+"."+subj.Status(), nil)
		cancel()
		if err == nil && m.Header.Get("Status") == "" {
			p, _ := site.Parse(subj.Status())
			v, err := site.Decode(p, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			got = *v.(*site.Status)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status from the sensor within 30 s: %v\n%s", err, d.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got.Generation != 1 || got.Devices.Licensed != 500 || got.SensorID != "ID-sensor-01" || got.Certificate != b.Fingerprint {
		t.Fatalf("status on the site stream: %+v", got)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		out, _ := exec.Command(binary, "sanity", "--root", root, "--trust-root", k.RootFile).CombinedOutput()
		if strings.Contains(string(out), "uplink") && strings.Contains(string(out), "streaming to tls://127.0.0.1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sanity does not say the uplink streams:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var status struct {
		Uplink *site.UplinkState `json:"uplink"`
	}
	out, _ := exec.Command(binary, "status", "--root", root, "--trust-root", k.RootFile, "--json").Output()
	if err := json.Unmarshal(out, &status); err != nil || status.Uplink == nil || !status.Uplink.Connected {
		t.Fatalf("status --json: %v %s", err, out)
	}
}

// TestServeUplinkCollectBounds: a collection interval out of its range is
// refused with the flag's name and range, before anything starts.
func TestServeUplinkCollectBounds(t *testing.T) {
	for _, v := range []string{"0s", "500ms", "11m", "-1s"} {
		out, code := cli(t, nil, "serve", "--root", t.TempDir(), "--uplink-collect", v)
		if code != 2 || !strings.Contains(out, "--uplink-collect") || !strings.Contains(out, "choose from 1s to 10m") {
			t.Errorf("--uplink-collect %s: exit %d %q", v, code, out)
		}
	}
}
