package gui

import (
	"net"

	"github.com/tapline/tapline/app/demo"
)

// prefillDemo fills the wizard for the demo fleet's first sensor so a
// newcomer can walk through it pressing Next.
func (s *wizardScreen) prefillDemo(f *demo.Fleet) {
	if f == nil || len(f.Sensors) == 0 {
		return
	}
	sn := f.Sensors[0]
	host, port, _ := net.SplitHostPort(sn.SSHAddr)
	_, cport, _ := net.SplitHostPort(sn.Console)
	c := s.conn
	c.address.SetText(host)
	c.sshPort.SetText(port)
	c.consolePort.SetText(cport)
	c.user.SetText(f.User)
	c.password.SetText(demo.Password)
	n := s.net
	n.ip.SetText(sn.NewIP)
	n.mask.SetText("24")
	n.gateway.SetText("192.0.2.1")
	n.dns.SetText("192.0.2.53")
	n.hostname.SetText(sn.Hostname)
	n.reach.SetText(host)
	s.act.path.SetText(sn.Activation)
	s.act.load()
	s.cert.cert.SetText(sn.Cert)
	s.cert.key.SetText(sn.Key)
	s.cert.chain.SetText(sn.Chain)
	s.cert.caPass.SetText("")
}
