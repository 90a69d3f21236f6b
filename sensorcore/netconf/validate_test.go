package netconf

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func good() Settings {
	return Settings{Network: Network{Interface: "eth0", Address: "192.0.2.10", Mask: "255.255.255.0",
		Gateway: "192.0.2.1", DNS: []string{"192.0.2.53"}, Hostname: "sensor-01.plant.example"}}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Settings)
		field string // "" means valid
	}{
		{"ok", func(*Settings) {}, ""},
		{"prefix length", func(s *Settings) { s.Network.Mask = "24" }, ""},
		{"ipv6", func(s *Settings) {
			s.Network.Address, s.Network.Mask, s.Network.Gateway = "2001:db8::10", "/64", "2001:db8::1"
		}, ""},
		{"ipv6 link-local gateway", func(s *Settings) {
			s.Network.Address, s.Network.Mask, s.Network.Gateway = "2001:db8::10", "64", "fe80::1"
		}, ""},
		{"bad address", func(s *Settings) { s.Network.Address = "192.0.2.300" }, "network.address"},
		{"network address", func(s *Settings) { s.Network.Address = "192.0.2.0" }, "network.address"},
		{"broadcast address", func(s *Settings) { s.Network.Address = "192.0.2.255" }, "network.address"},
		{"mask holes", func(s *Settings) { s.Network.Mask = "255.0.255.0" }, "network.mask"},
		{"mask too long", func(s *Settings) { s.Network.Mask = "33" }, "network.mask"},
		{"gateway outside", func(s *Settings) { s.Network.Gateway = "198.51.100.1" }, "network.gateway"},
		{"gateway is network", func(s *Settings) { s.Network.Gateway = "192.0.2.0" }, "network.gateway"},
		{"gateway is broadcast", func(s *Settings) { s.Network.Gateway = "192.0.2.255" }, "network.gateway"},
		{"gateway family", func(s *Settings) { s.Network.Gateway = "2001:db8::1" }, "network.gateway"},
		{"dns", func(s *Settings) { s.Network.DNS = []string{"dns.example"} }, "network.dns[0]"},
		{"hostname underscore", func(s *Settings) { s.Network.Hostname = "sensor_01" }, "network.hostname"},
		{"hostname hyphen", func(s *Settings) { s.Network.Hostname = "-sensor" }, "network.hostname"},
		{"hostname numeric", func(s *Settings) { s.Network.Hostname = "10.0.0.1" }, "network.hostname"},
		{"hostname too long for the kernel", func(s *Settings) { s.Network.Hostname = strings.Repeat("a", 60) + ".plant.example" }, "network.hostname"},
		{"interface", func(s *Settings) { s.Network.Interface = "eth/0" }, "network.interface"},
		{"proxy port", func(s *Settings) { s.Proxy = Proxy{Enabled: true, Host: "proxy.example", Port: 70000} }, "proxy.port"},
		{"proxy host", func(s *Settings) { s.Proxy = Proxy{Enabled: true, Host: "bad host", Port: 3128} }, "proxy.host"},
		{"proxy ok", func(s *Settings) { s.Proxy = Proxy{Enabled: true, Host: "192.0.2.8", Port: 3128} }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good()
			c.edit(&s)
			err := s.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("got %v, want field %s", err, c.field)
			}
			if !strings.HasPrefix(err.Error(), "netconf: "+c.field) {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestAddressChanged(t *testing.T) {
	a := good().Network
	b := a
	b.Mask = "24"
	if a.AddressChanged(b) {
		t.Error("same prefix written two ways counts as a change")
	}
	b.DNS = []string{"192.0.2.54"}
	if a.AddressChanged(b) {
		t.Error("DNS change counts as an address change")
	}
	b.Address = "192.0.2.11"
	if !a.AddressChanged(b) {
		t.Error("address change missed")
	}
}

func TestParseStrict(t *testing.T) {
	if _, err := Parse([]byte(`{"network":{"adress":"x"}}`)); err == nil {
		t.Fatal("unknown field accepted")
	}
	s := good()
	back, err := Parse(s.Marshal())
	if err != nil || back.Network.Address != s.Network.Address {
		t.Fatalf("round trip: %v", err)
	}
}

// TestInterfaceNames: only names a kernel interface can have (1-15 bytes,
// no /, :, whitespace) and that no renderer reads as anything but a name:
// networkd's Name= and netplan's match take globs and a leading "!"
// negation, so "*" or "e*" would configure every link, the SPAN port
// included; a leading "-" reads as an option to ip; YAML and INI
// punctuation would change the file's meaning.
func TestInterfaceNames(t *testing.T) {
	for _, name := range []string{"eth0", "enp0s31f6", "br-lan", "vlan.100", "bond0", "wlan0_x", "a", "eth1@", strings.Repeat("e", 15)} {
		s := good()
		s.Network.Interface = name
		if err := s.Validate(); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "*", "e*", "eth?", "eth[0-9]", "!eth0", "-eth0", "eth0:1", "a/b", "a b", "a\tb",
		"#eth0", "&a", "eth0\"", "eth0'", `eth0\`, "a,b", "a{b}", "a=b", "é0", "eth\x00", strings.Repeat("e", 16)} {
		s := good()
		s.Network.Interface = name
		var fe *FieldError
		if err := s.Validate(); !errors.As(err, &fe) || fe.Field != "network.interface" {
			t.Errorf("%q accepted: %v", name, err)
		}
	}
}

// TestCRLFetchBounds: the CRL fetch is bounded: at most 30 s a try, at
// most 5 retries, at most a minute in all (apply holds the provisioning
// session while it waits).
func TestCRLFetchBounds(t *testing.T) {
	n := func(i int) *int { return &i }
	for _, c := range []struct {
		timeout time.Duration
		retries *int
		ok      bool
		field   string
	}{
		{3 * time.Second, n(1), true, ""},
		{30 * time.Second, n(1), true, ""},
		{10 * time.Second, n(5), true, ""},
		{0, nil, true, ""},
		{-time.Second, nil, false, "console.crl_timeout"},
		{31 * time.Second, n(0), false, "console.crl_timeout"},
		{time.Hour, nil, false, "console.crl_timeout"},
		{time.Second, n(6), false, "console.crl_retries"},
		{time.Second, n(-1), false, "console.crl_retries"},
		{20 * time.Second, n(2), true, ""},                     // 60 s in all
		{20 * time.Second, n(3), false, "console.crl_timeout"}, // 80 s in all
	} {
		s := good()
		s.Console = Console{CRLTimeout: Duration(c.timeout), CRLRetries: c.retries}
		err := s.Validate()
		var fe *FieldError
		switch {
		case c.ok && err != nil:
			t.Errorf("%v x %v refused: %v", c.timeout, c.retries, err)
		case !c.ok && (!errors.As(err, &fe) || fe.Field != c.field):
			t.Errorf("%v x %v: %v, want %s", c.timeout, c.retries, err, c.field)
		}
	}
}
