package netconf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// Settings is what a bundle's settings.json holds.
type Settings struct {
	Network Network `json:"network"`
	Proxy   Proxy   `json:"proxy"`
	Console Console `json:"console"`
	// Uplink is the site stream (docs/site.md); absent: the sensor keeps
	// its data to itself.
	Uplink *Uplink `json:"uplink,omitempty"`
}

// Uplink is where the sensor streams its assets, alerts, operations and
// health: the site's NATS JetStream servers. The bundle carries the CA
// that signed their certificates (uplink-ca.pem), the credential (an
// NKEY seed or a NATS user credentials file, uplink.cred) and, unless
// ClientCert is "proxy", the client certificate and key
// (uplink-client.crt, uplink-client.key).
type Uplink struct {
	Site    string   `json:"site"`    // the site's name: letters, digits, - and _ (site.CheckSiteName)
	Servers []string `json:"servers"` // tls://host:port, one per server of the site's cluster
	// ClientCert says which client certificate the sensor shows the
	// servers: "uplink" (its own, the default) or "proxy" (the one it
	// shows a TLS-inspecting proxy: one client identity for the plant).
	ClientCert string `json:"client_cert,omitempty"`
}

// Client certificate choices of Uplink.ClientCert.
const (
	UplinkCertOwn   = "uplink"
	UplinkCertProxy = "proxy"
)

// MaxUplinkServers bounds the servers an uplink lists.
const MaxUplinkServers = 16

// Network is the management interface's addressing.
type Network struct {
	Interface string   `json:"interface"` // management interface, e.g. eth0
	Address   string   `json:"address"`   // IPv4 or IPv6 address, no prefix
	Mask      string   `json:"mask"`      // IPv4 dotted mask (255.255.255.0) or prefix length (24, /64)
	Gateway   string   `json:"gateway"`   // default gateway, inside the subnet
	DNS       []string `json:"dns"`       // DNS servers
	Hostname  string   `json:"hostname"`  // RFC 1123 host name (may be an FQDN)
}

// Proxy is the optional HTTP proxy the appliance uses for outbound HTTP
// (CRL fetch). ClientCert says the bundle carries proxy-client.crt/.key.
type Proxy struct {
	Enabled    bool   `json:"enabled"`
	Host       string `json:"host,omitempty"`
	Port       int    `json:"port,omitempty"`
	Username   string `json:"username,omitempty"`
	Password   string `json:"password,omitempty"`
	ClientCert bool   `json:"client_cert,omitempty"`
}

// Console is the console's certificate validation settings.
type Console struct {
	CertValidation bool     `json:"cert_validation"` // validate expiry, chain and revocation (CRL)
	CRLTimeout     Duration `json:"crl_timeout,omitempty"`
	CRLRetries     *int     `json:"crl_retries,omitempty"`
}

// Defaults for the CRL fetch (docs/field-facts.md: 3 s timeout, 1 retry).
const (
	DefaultCRLTimeout = 3 * time.Second
	DefaultCRLRetries = 1
	// Upper bounds: apply holds the provisioning session while it fetches.
	MaxCRLTimeout = 30 * time.Second // one try
	MaxCRLRetries = 5
	MaxCRLFetch   = time.Minute // every try together
)

// FetchTimeout returns the CRL fetch timeout, defaulted.
func (c Console) FetchTimeout() time.Duration {
	if c.CRLTimeout <= 0 {
		return DefaultCRLTimeout
	}
	return time.Duration(c.CRLTimeout)
}

// FetchRetries returns the CRL fetch retry count, defaulted.
func (c Console) FetchRetries() int {
	if c.CRLRetries == nil {
		return DefaultCRLRetries
	}
	return *c.CRLRetries
}

// Duration is a time.Duration written as a Go duration string ("3s").
type Duration time.Duration

// MarshalJSON writes "3s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "3s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"3s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %v", s, err)
	}
	*d = Duration(v)
	return nil
}

// Parse reads settings.json strictly (unknown fields are refused).
func Parse(data []byte) (*Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("netconf: settings: %v", err)
	}
	return &s, nil
}

// Marshal writes settings.json.
func (s *Settings) Marshal() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// Prefix returns the address with its prefix length. Call Validate first.
func (n Network) Prefix() (netip.Prefix, error) {
	a, err := netip.ParseAddr(n.Address)
	if err != nil {
		return netip.Prefix{}, err
	}
	bits, err := maskBits(n.Mask, a)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, bits), nil
}

// AddressChanged reports whether the addressing (interface, address, mask,
// gateway) differs: the change that arms a rollback deadline.
func (n Network) AddressChanged(o Network) bool {
	p1, e1 := n.Prefix()
	p2, e2 := o.Prefix()
	if e1 != nil || e2 != nil {
		return n.Address != o.Address || n.Mask != o.Mask || n.Interface != o.Interface || n.Gateway != o.Gateway
	}
	return n.Interface != o.Interface || p1 != p2 || n.Gateway != o.Gateway
}
