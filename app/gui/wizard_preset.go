package gui

import "github.com/tapline/tapline/app/preset"

// prefill fills the wizard for one sensor of a preset (the demo fleet's
// first), so a newcomer can walk through it pressing Next.
func (s *wizardScreen) prefill(sn preset.Sensor) {
	c := s.conn
	c.address.SetText(sn.Address)
	c.sshPort.SetText(sn.SSHPort)
	c.consolePort.SetText(sn.ConsolePort)
	c.user.SetText(sn.User)
	c.password.SetText(sn.Password)
	n := s.net
	n.ip.SetText(sn.NewIP)
	n.mask.SetText(sn.Mask)
	n.gateway.SetText(sn.Gateway)
	n.dns.SetText(sn.DNS)
	n.hostname.SetText(sn.Hostname)
	n.reach.SetText(sn.Reach)
	n.uplink.SetText(sn.Uplink)
	s.act.path.SetText(sn.Activation)
	s.act.load()
	s.cert.cert.SetText(sn.Cert)
	s.cert.key.SetText(sn.Key)
	s.cert.chain.SetText(sn.Chain)
	s.cert.caPass.SetText("")
}
