package netconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/internal/safefile"
)

// Backend applies network settings. Root is the directory the sensor's
// files live under ("/" on an appliance). Apply sets the host name too when
// the settings carry one; SetHostname sets it alone (a rollback to the
// factory network restores the factory host name with it).
type Backend interface {
	Name() string
	Apply(ctx context.Context, root string, n Network) error
	SetHostname(ctx context.Context, root, name string) error
}

// Backends by name, as --network-backend takes them.
func BackendByName(name string) (Backend, error) {
	switch name {
	case "netplan":
		return fileBackend{name: "netplan", path: "etc/netplan/60-sensorcore.yaml", render: RenderNetplan, activate: []string{"netplan", "apply"}}, nil
	case "networkd":
		return fileBackend{name: "networkd", path: "etc/systemd/network/10-sensorcore.network", render: RenderNetworkd, activate: []string{"networkctl", "reload"}}, nil
	case "iproute":
		return IPRoute{}, nil
	case "none", "":
		return None{}, nil
	}
	return nil, fmt.Errorf("netconf: unknown network backend %q; use netplan, networkd, iproute or none", name)
}

// None records settings only; the generation holds them.
type None struct{}

// Name is "none".
func (None) Name() string { return "none" }

// Apply does nothing.
func (None) Apply(context.Context, string, Network) error { return nil }

// SetHostname does nothing.
func (None) SetHostname(context.Context, string, string) error { return nil }

type fileBackend struct {
	name, path string
	render     func(Network) ([]byte, error)
	activate   []string
}

func (f fileBackend) Name() string { return f.name }

// Apply writes the rendered file atomically under root; on a real
// appliance (root "/") it then runs the activation command.
func (f fileBackend) Apply(ctx context.Context, root string, n Network) error {
	data, err := f.render(n)
	if err != nil {
		return err
	}
	p := filepath.Join(root, f.path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := safefile.WriteFile(p, data, 0o600); err != nil {
		return err
	}
	if err := f.activateAt(ctx, root); err != nil {
		return err
	}
	if n.Hostname != "" {
		return setSystemHostname(ctx, root, n.Hostname)
	}
	return nil
}

// activateAt runs the activation command on a real appliance (root "/");
// under any other root the written files are all there is.
func (f fileBackend) activateAt(ctx context.Context, root string) error {
	if filepath.Clean(root) != "/" {
		return nil
	}
	out, err := exec.CommandContext(ctx, f.activate[0], f.activate[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netconf: %s: %v: %s", strings.Join(f.activate, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ConfigRemover is a backend that keeps sensorcore's settings in a file of
// the system's network configuration (netplan, networkd). RemoveConfig
// takes that file away and activates the rest, so the appliance's own
// configuration rules again.
type ConfigRemover interface {
	RemoveConfig(ctx context.Context, root string) error
}

// RemoveConfig removes the backend's file (and the directory entry durably)
// and, on an appliance, runs the activation command.
func (f fileBackend) RemoveConfig(ctx context.Context, root string) error {
	p := filepath.Join(root, f.path)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	safefile.SyncDir(filepath.Dir(p))
	return f.activateAt(ctx, root)
}

// SetHostname sets the host name through systemd-hostnamed (root "/") or
// writes R/etc/hostname.
func (f fileBackend) SetHostname(ctx context.Context, root, name string) error {
	return setSystemHostname(ctx, root, name)
}

// IPRoute changes the live interface with iproute2's ip: it works inside
// "ip netns exec NS" since ip acts on the calling process's namespace.
type IPRoute struct{}

// Name is "iproute".
func (IPRoute) Name() string { return "iproute" }

// SetHostname sets the host name of the process's UTS namespace.
func (IPRoute) SetHostname(_ context.Context, _, name string) error { return setKernelHostname(name) }

// Apply replaces the interface's global addresses and default route, then
// sets the host name of the process's UTS namespace when the settings
// carry one.
func (IPRoute) Apply(ctx context.Context, _ string, n Network) error {
	p, err := n.Prefix()
	if err != nil {
		return err
	}
	fam := "-4"
	if p.Addr().Is6() {
		fam = "-6"
	}
	cmds := [][]string{
		{"ip", "link", "set", "dev", n.Interface, "up"},
		{"ip", fam, "addr", "flush", "dev", n.Interface, "scope", "global"},
		{"ip", fam, "addr", "add", p.String(), "dev", n.Interface},
	}
	if n.Gateway != "" {
		cmds = append(cmds, []string{"ip", fam, "route", "replace", "default", "via", n.Gateway, "dev", n.Interface})
	}
	for _, c := range cmds {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := exec.CommandContext(ctx, c[0], c[1:]...).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("netconf: %s: %v: %s", strings.Join(c, " "), err, bytes.TrimSpace(out))
		}
	}
	if n.Hostname != "" {
		return setKernelHostname(n.Hostname)
	}
	return nil
}

// Live is what the kernel reports for an interface.
type Live struct {
	Interface string   `json:"interface"`
	Up        bool     `json:"up"`
	Addresses []string `json:"addresses"`
	Gateway   string   `json:"gateway"`
}

// ReadLive reads an interface's state from the kernel (net package for
// addresses, "ip route show default" for the gateway).
func ReadLive(ctx context.Context, iface string, v6 bool) (Live, error) {
	l := Live{Interface: iface}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return l, fmt.Errorf("netconf: interface %s: %v", iface, err)
	}
	l.Up = ifi.Flags&net.FlagUp != 0
	addrs, err := ifi.Addrs()
	if err != nil {
		return l, err
	}
	for _, a := range addrs {
		l.Addresses = append(l.Addresses, a.String())
	}
	fam := "-4"
	if v6 {
		fam = "-6"
	}
	out, err := exec.CommandContext(ctx, "ip", fam, "route", "show", "default", "dev", iface).Output()
	if err == nil {
		f := strings.Fields(string(out))
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "via" {
				l.Gateway = f[i+1]
				break
			}
		}
	}
	return l, nil
}

// Mismatches compares live state with settings and lists differences.
func (l Live) Mismatches(n Network) []string {
	var out []string
	p, err := n.Prefix()
	if err != nil {
		return []string{err.Error()}
	}
	if !l.Up {
		out = append(out, fmt.Sprintf("interface %s is down", l.Interface))
	}
	found := false
	for _, a := range l.Addresses {
		if lp, err := netip.ParsePrefix(a); err == nil && lp == p {
			found = true
		}
	}
	if !found {
		out = append(out, fmt.Sprintf("address %s is not on %s (it has %s)", p, l.Interface, strings.Join(l.Addresses, ", ")))
	}
	if n.Gateway != "" && l.Gateway != n.Gateway {
		out = append(out, fmt.Sprintf("default gateway is %q, configured %s", l.Gateway, n.Gateway))
	}
	return out
}
