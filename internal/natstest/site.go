package natstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// Site is a site's servers as tapline site init configures them, running
// on loopback.
type Site struct {
	t       testing.TB
	Name    string
	Dir     string // site init's folder
	CA      *ca.CA
	Servers []*Server
}

// MustCA makes a CA for a test site (P-256 keys, quick).
func MustCA(t testing.TB, name string) *ca.CA {
	t.Helper()
	c, err := ca.Init(ca.InitOptions{Name: name, Country: "DE", Organization: "Example Plant", KeyType: ca.P256, Now: time.Now().Add(-time.Hour), KDFIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewSite writes site plant-a's configuration for n loopback nodes and
// the sensors, starts the nodes and creates the streams.
func NewSite(t testing.TB, n int, sensors ...string) *Site {
	t.Helper()
	s := &Site{t: t, Name: "plant-a", Dir: t.TempDir(), CA: MustCA(t, "Plant CA")}
	ports := FreePorts(t, 2*n)
	var nodes []siteconf.Node
	for i := 0; i < n; i++ {
		nodes = append(nodes, siteconf.Node{Host: "127.0.0.1", ClientPort: ports[2*i], ClusterPort: ports[2*i+1]})
	}
	if _, err := siteconf.Init(siteconf.Options{Site: s.Name, Nodes: nodes, Sensors: sensors, Dir: s.Dir,
		Store: filepath.Join(s.Dir, "store"), CA: s.CA, Now: time.Now(),
		Limits: site.Limits{OpsMaxBytes: 256 << 20, StateMaxBytes: 64 << 20}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		s.Servers = append(s.Servers, Start(t, filepath.Join(s.Dir, fmt.Sprintf("nats-%d.conf", i+1)), fmt.Sprintf("127.0.0.1:%d", ports[2*i])))
	}
	s.applyStreams()
	return s
}

// Config is the site's site.json.
func (s *Site) Config() *siteconf.SiteConfig {
	s.t.Helper()
	sc, err := siteconf.ReadSiteConfig(filepath.Join(s.Dir, siteconf.SiteFile))
	if err != nil {
		s.t.Fatal(err)
	}
	return sc
}

func (s *Site) applyStreams() {
	s.t.Helper()
	admin, err := s.Config().Admin()
	if err != nil {
		s.t.Fatal(err)
	}
	nc, err := admin.Connect()
	if err != nil {
		s.t.Fatal(err)
	}
	defer nc.Close()
	streams, err := siteconf.ReadStreams(filepath.Join(s.Dir, siteconf.StreamsFile))
	if err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := siteconf.Apply(ctx, nc, streams)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("streams: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// File reads a file of the site's folder.
func (s *Site) File(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// Sensor is the sensor's client, with the files site init made for it.
func (s *Site) Sensor(name string) site.Client {
	s.t.Helper()
	tok := site.Token(name)
	return site.Client{Name: name, Servers: s.Config().Servers, CA: s.File(siteconf.CAFile),
		Cert: s.File("credentials/" + tok + "-client.crt"), Key: s.File("credentials/" + tok + "-client.key"),
		Credential: s.File("credentials/" + tok + ".nk"), InboxPrefix: site.Subjects{Site: s.Name, Sensor: name}.InboxPrefix()}
}

// Viewer is the app's client.
func (s *Site) Viewer() site.Client {
	s.t.Helper()
	c, err := s.Config().Viewer("test viewer")
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}
