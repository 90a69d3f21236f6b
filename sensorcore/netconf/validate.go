package netconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/site"
)

// FieldError is one invalid setting: the field (settings.json path) and how
// to fix it.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "netconf: " + e.Field + ": " + e.Msg }

// maskBits reads a dotted IPv4 mask or a prefix length ("24", "/64").
func maskBits(mask string, a netip.Addr) (int, error) {
	m := strings.TrimPrefix(mask, "/")
	max := a.BitLen()
	if n, err := strconv.Atoi(m); err == nil {
		if n < 1 || n > max {
			return 0, fmt.Errorf("prefix length %d is outside 1..%d", n, max)
		}
		return n, nil
	}
	ma, err := netip.ParseAddr(m)
	if err != nil || !ma.Is4() || !a.Is4() {
		return 0, fmt.Errorf("%q is neither a prefix length nor a dotted IPv4 mask", mask)
	}
	b := ma.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&0x80000000 != 0 {
		ones++
		v <<= 1
	}
	if v != 0 || ones == 0 {
		return 0, fmt.Errorf("mask %s is not contiguous ones then zeros", mask)
	}
	return ones, nil
}

// Validate checks every setting and returns all problems joined; each is a
// *FieldError.
func (s *Settings) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	n := s.Network
	if !validIfName(n.Interface) {
		add("network.interface", "%q is not an interface name: 1-15 letters, digits and . _ - @, starting with a letter, digit or _ (a real name such as eth0 or enp3s0; patterns such as * are refused)", n.Interface)
	}
	a, err := netip.ParseAddr(n.Address)
	switch {
	case err != nil || a.Zone() != "":
		add("network.address", "%q is not an IPv4 or IPv6 address (example 192.0.2.10)", n.Address)
	case a.IsUnspecified() || a.IsMulticast() || a.IsLoopback():
		add("network.address", "%s is not a usable host address", a)
	default:
		bits, err := maskBits(n.Mask, a)
		if err != nil {
			add("network.mask", "%v (example 255.255.255.0 or 24)", err)
			break
		}
		p := netip.PrefixFrom(a, bits).Masked()
		if a.Is4() && bits < 31 && (a == p.Addr() || a == broadcast(p)) {
			add("network.address", "%s is the network or broadcast address of %s", a, p)
		}
		if n.Gateway != "" {
			g, err := netip.ParseAddr(n.Gateway)
			switch {
			case err != nil:
				add("network.gateway", "%q is not an IP address", n.Gateway)
			case g.Is4() != a.Is4():
				add("network.gateway", "%s is not the same IP version as the address %s", g, a)
			case a.Is6() && g.IsLinkLocalUnicast():
				// fe80:: gateways are on-link by definition.
			case !p.Contains(g):
				add("network.gateway", "%s is outside the subnet %s", g, p)
			case g == a:
				add("network.gateway", "%s is the sensor's own address", g)
			case a.Is4() && bits < 31 && (g == p.Addr() || g == broadcast(p)):
				add("network.gateway", "%s is the network or broadcast address of %s", g, p)
			}
		}
	}
	for i, d := range n.DNS {
		if da, err := netip.ParseAddr(d); err != nil || da.IsUnspecified() || da.IsMulticast() {
			add(fmt.Sprintf("network.dns[%d]", i), "%q is not a DNS server address", d)
		}
	}
	if n.Hostname != "" && !ValidHostname(n.Hostname) {
		add("network.hostname", "%q is not a host name per RFC 1123 (letters, digits, hyphens; labels of 1-63, no leading or trailing hyphen)", n.Hostname)
	} else if len(strings.TrimSuffix(n.Hostname, ".")) > MaxHostnameLen {
		add("network.hostname", "%q is %d characters; the appliance's host name holds at most %d (use a shorter name)", n.Hostname, len(n.Hostname), MaxHostnameLen)
	}
	if p := s.Proxy; p.Enabled {
		if _, err := netip.ParseAddr(p.Host); err != nil && !ValidHostname(p.Host) {
			add("proxy.host", "%q is not a host name or IP address", p.Host)
		}
		if p.Port < 1 || p.Port > 65535 {
			add("proxy.port", "%d is not a port (1-65535)", p.Port)
		}
		if p.Password != "" && p.Username == "" {
			add("proxy.username", "a proxy password needs a username")
		}
	}
	switch c := s.Console; {
	case c.CRLTimeout < 0:
		add("console.crl_timeout", "must not be negative")
	case time.Duration(c.CRLTimeout) > MaxCRLTimeout:
		add("console.crl_timeout", "%s is longer than %s (the default is %s)", time.Duration(c.CRLTimeout), MaxCRLTimeout, DefaultCRLTimeout)
	case c.CRLRetries != nil && (*c.CRLRetries < 0 || *c.CRLRetries > MaxCRLRetries):
		add("console.crl_retries", "%d is outside 0..%d", *c.CRLRetries, MaxCRLRetries)
	case c.FetchTimeout()*time.Duration(c.FetchRetries()+1) > MaxCRLFetch:
		add("console.crl_timeout", "%s for each of %d tries is more than %s in all: shorten the timeout or retry less",
			c.FetchTimeout(), c.FetchRetries()+1, MaxCRLFetch)
	}
	if s.Uplink != nil {
		s.Uplink.validate(add, s.Proxy)
	}
	return errors.Join(errs...)
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (1 << (32 - p.Bits())) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func validIfName(s string) bool {
	// The kernel's rules (dev_valid_name: 1-15 bytes, not . or .., no /,
	// : or whitespace), narrowed to the characters real names use, so no
	// renderer reads a name as a pattern (networkd's Name= and netplan's
	// match take globs and a leading !), an option (ip: a leading -) or
	// YAML or INI syntax.
	if len(s) == 0 || len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case i > 0 && (c == '.' || c == '-' || c == '@'):
		default:
			return false
		}
	}
	return true
}

// ValidHostname reports whether s is a host name per RFC 1123 §2.1 (labels
// of letters, digits and hyphens, 1-63 characters, not starting or ending
// with a hyphen; 253 characters in all). A name of digits and dots only is
// refused: it would read as an IPv4 address.
func ValidHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	allDigits := true
	for _, l := range strings.Split(s, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allDigits = false
			default:
				return false
			}
		}
	}
	return !allDigits
}

// validate checks the uplink's settings: the site name, each
// server URL (tls:// or nats://, a host, a port, no user or password:
// credentials travel as files), and the client certificate choice.
func (u *Uplink) validate(add func(field, format string, args ...any), proxy Proxy) {
	if err := site.CheckSiteName(u.Site); err != nil {
		add("uplink.site", "%v", err)
	}
	if len(u.Servers) == 0 {
		add("uplink.servers", "no server: give the site's NATS servers as tls://HOST:PORT")
	}
	if len(u.Servers) > MaxUplinkServers {
		add("uplink.servers", "%d servers, over %d", len(u.Servers), MaxUplinkServers)
	}
	for i, s := range u.Servers {
		if _, err := ParseServerURL(s); err != nil {
			add(fmt.Sprintf("uplink.servers[%d]", i), "%v", err)
		}
	}
	switch u.ClientCert {
	case "", UplinkCertOwn:
	case UplinkCertProxy:
		if !proxy.ClientCert {
			add("uplink.client_cert", "\"proxy\" needs the proxy client certificate, and the bundle carries none")
		}
	default:
		add("uplink.client_cert", "%q is neither %q nor %q", u.ClientCert, UplinkCertOwn, UplinkCertProxy)
	}
}

// DefaultUplinkPort is the NATS client port.
const DefaultUplinkPort = "4222"

// ParseServerURL reads one uplink server: tls://HOST[:PORT] or
// nats://HOST[:PORT] (the sensor speaks TLS to either), and returns it
// as tls://HOST:PORT.
func ParseServerURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("%q is not a server URL (example tls://nats-1.plant.example:4222)", s)
	case u.Scheme != "tls" && u.Scheme != "nats":
		return "", fmt.Errorf("%q: the scheme must be tls:// (or nats://), not %q", s, u.Scheme)
	case u.User != nil:
		return "", fmt.Errorf("%q holds a user name or password: the credential travels as a file, never in the URL", s)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%q: a server URL has no path or query", s)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = DefaultUplinkPort
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("%q: port %q is not 1-65535", s, port)
	}
	if _, err := netip.ParseAddr(host); err != nil && !ValidHostname(host) {
		return "", fmt.Errorf("%q: %q is not a host name or IP address", s, host)
	}
	return "tls://" + net.JoinHostPort(host, port), nil
}
