package daemon

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/generation"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
	"github.com/tapline/tapline/sensorcore/uplink"
)

// UplinkDir is the uplink's state folder (its outbox), serve's own.
func (l Layout) UplinkDir() string { return filepath.Join(l.State(), "uplink") }

// UplinkConfig is the current generation's uplink (docs/site.md), nil
// when it has none or no generation is applied. The files were checked
// at apply; they are read again here, bounded, at each call.
func (e *Engine) UplinkConfig() (*uplink.Config, error) {
	st := e.Layout.Store()
	n, err := st.Current()
	if errors.Is(err, generation.ErrNone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	read := func(r bundle.Role) ([]byte, error) {
		return safefile.ReadFile(filepath.Join(st.Path(n), bundle.FileName(r)), bundle.MaxFileSize)
	}
	sb, err := read(bundle.RoleSettings)
	if err != nil {
		return nil, fmt.Errorf("generation %d: %w", n, err)
	}
	s, err := netconf.Parse(sb)
	if err != nil || s.Uplink == nil {
		return nil, err
	}
	meta, err := st.ReadMeta(n)
	if err != nil {
		return nil, err
	}
	c := &uplink.Config{Sensor: meta.SensorName, Site: s.Uplink.Site}
	if act := e.activeIdentity(); act != nil {
		c.SensorID = act.SensorID
	}
	for _, srv := range s.Uplink.Servers {
		u, err := netconf.ParseServerURL(srv)
		if err != nil {
			return nil, err
		}
		c.Client.Servers = append(c.Client.Servers, u)
	}
	certRole, keyRole := bundle.RoleUplinkClientCert, bundle.RoleUplinkClientKey
	if s.Uplink.ClientCert == netconf.UplinkCertProxy {
		certRole, keyRole = bundle.RoleProxyClientCert, bundle.RoleProxyClientKey
	}
	for _, f := range []struct {
		r   bundle.Role
		dst *[]byte
	}{{bundle.RoleUplinkCA, &c.Client.CA}, {certRole, &c.Client.Cert}, {keyRole, &c.Client.Key}, {bundle.RoleUplinkCredential, &c.Client.Credential}} {
		if *f.dst, err = read(f.r); err != nil {
			return nil, fmt.Errorf("generation %d: %w", n, err)
		}
	}
	c.Client.Name = "sensorcore " + c.Sensor
	c.Client.InboxPrefix = site.Subjects{Site: c.Site, Sensor: c.Sensor}.InboxPrefix()
	return c, nil
}
