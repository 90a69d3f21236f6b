package certs

import (
	"net/netip"
	"strings"
)

// ruleSubjectAltName: the SAN holds the FQDN as a dNSName and, when the target
// has an address, that address as an iPAddress (RFC 5280 §4.2.1.6; browsers
// match only the SAN, RFC 6125 §6.4.4).
func ruleSubjectAltName(b *bundle) []Finding {
	var out []Finding
	if h := normName(b.target.Hostname); h != "" {
		found := false
		for _, n := range b.leaf.DNSNames {
			if normName(n) == h {
				found = true
				break
			}
		}
		if !found {
			out = append(out, newFinding(CodeSANMissingName, "want DNS:%s; SAN has %s", b.target.Hostname, sanList(b.leaf.DNSNames, nil)))
		}
	}
	if b.target.IP.IsValid() {
		want := b.target.IP.Unmap()
		found := false
		for _, ip := range b.leaf.IPAddresses {
			if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap() == want {
				found = true
				break
			}
		}
		if !found {
			out = append(out, newFinding(CodeSANMissingIP, "want IP:%s", want))
		}
	}
	return out
}

// sanList renders SAN entries for a message; "nothing" when empty.
func sanList(dns []string, ips []string) string {
	all := append(append([]string{}, dns...), ips...)
	if len(all) == 0 {
		return "nothing"
	}
	return strings.Join(all, ", ")
}
