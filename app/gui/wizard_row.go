package gui

import (
	"net"
	"strconv"
	"strings"

	"github.com/tapline/tapline/provision"
)

// row is the wizard's pages as one inventory row, the form provision checks,
// prepares and pushes. Secrets are not in it: they go to provision.Secrets.
func (s *wizardScreen) row() provision.Row {
	c := s.conn
	r := provision.Row{Line: 1, Address: strings.TrimSpace(c.address.Text), User: strings.TrimSpace(c.user.Text)}
	r.SSHPort, _ = c.port()
	r.ConsolePort, _ = strconv.Atoi(strings.TrimSpace(c.consolePort.Text))
	if h, _, err := net.SplitHostPort(r.Address); err == nil {
		r.Address = h
	}
	// As Connect signed in: ~/.ssh/config's HostName and User, and with
	// no key file typed the default key or the agent.
	hs, _ := c.hostSettings(r.Address, r.SSHPort, r.User)
	r.User, r.HostName, r.SSHPort, r.KnownHostsFiles = hs.User, hs.HostName, hs.Port, hs.KnownHostsFiles
	r.Auth = provision.AuthPassword
	if c.auth.Selected == authKey {
		r.Auth = provision.AuthKey
		r.KeyFile = strings.TrimSpace(c.keyFile.Text)
		if auth, _, err := c.signIn(hs); err == nil && auth.AgentSocket != "" {
			r.Auth, r.AgentKeys = provision.AuthAgent, auth.AgentKeys
		} else if err == nil {
			r.KeyFile, r.MoreKeyFiles = auth.KeyFile, auth.MoreKeyFiles
		}
	}
	s.net.fill(&r)
	r.Sensor = s.act.sensorName()
	r.Activation = strings.TrimSpace(s.act.path.Text)
	s.cert.fill(&r)
	return r
}
