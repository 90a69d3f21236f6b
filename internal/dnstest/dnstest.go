// Package dnstest is a DNS server for tests: it answers A questions for
// the names it is given and NXDOMAIN for any other, over UDP.
package dnstest

import (
	"net"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// Serve answers on pc until it is closed. names maps fully qualified
// names ("sensor-01.plant.example.") to their IPv4 address.
func Serve(pc net.PacketConn, names map[string]netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		m := dnsmessage.Message{Header: dnsmessage.Header{ID: h.ID, Response: true, RecursionAvailable: true}, Questions: []dnsmessage.Question{q}}
		ip, ok := names[q.Name.String()]
		switch {
		case !ok:
			m.Header.RCode = dnsmessage.RCodeNameError
		case q.Type == dnsmessage.TypeA && ip.Is4():
			m.Answers = []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
				Body: &dnsmessage.AResource{A: ip.As4()}}}
		}
		out, _ := m.Pack()
		pc.WriteTo(out, from)
	}
}
