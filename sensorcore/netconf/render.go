package netconf

import (
	"fmt"
	"strings"
)

// RenderNetplan returns netplan YAML (netplan.io reference, "Properties for
// device type ethernets") for the management interface.
func RenderNetplan(n Network) ([]byte, error) {
	p, err := n.Prefix()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# Written by sensorcore apply; the next apply overwrites it.\n")
	b.WriteString("network:\n  version: 2\n  renderer: networkd\n  ethernets:\n")
	fmt.Fprintf(&b, "    %s:\n", n.Interface)
	b.WriteString("      dhcp4: false\n      dhcp6: false\n")
	fmt.Fprintf(&b, "      addresses:\n        - %s\n", p)
	if n.Gateway != "" {
		fmt.Fprintf(&b, "      routes:\n        - to: default\n          via: %s\n", n.Gateway)
	}
	if len(n.DNS) > 0 {
		fmt.Fprintf(&b, "      nameservers:\n        addresses: [%s]\n", strings.Join(n.DNS, ", "))
	}
	return []byte(b.String()), nil
}

// RenderNetworkd returns a systemd.network(5) file for the management
// interface.
func RenderNetworkd(n Network) ([]byte, error) {
	p, err := n.Prefix()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# Written by sensorcore apply; the next apply overwrites it.\n")
	fmt.Fprintf(&b, "[Match]\nName=%s\n\n[Network]\n", n.Interface)
	fmt.Fprintf(&b, "Address=%s\n", p)
	if n.Gateway != "" {
		fmt.Fprintf(&b, "Gateway=%s\n", n.Gateway)
	}
	for _, d := range n.DNS {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	return []byte(b.String()), nil
}
