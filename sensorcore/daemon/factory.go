package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/generation"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// FactoryNetwork is factory-network.json in the state directory: the live
// addressing of the appliance's interfaces before its first apply (its
// factory state, generation 0). The daemon records it at its first start;
// a first apply records it when no daemon did. The first apply compares the
// bundle's addressing with it: a change arms the rollback deadline, and an
// unconfirmed first apply goes back to this network.
type FactoryNetwork struct {
	RecordedAt time.Time      `json:"recorded_at"`
	Interfaces []netconf.Live `json:"interfaces"`
	// Hostname is the host name the appliance had; a rollback to the
	// factory state, or a generation with no host name, puts it back.
	Hostname string `json:"hostname,omitempty"`
}

const factoryName = "factory-network.json"

func (l Layout) factoryPath() string { return filepath.Join(l.State(), factoryName) }

// changesLive reports whether applying settings changes this machine's live
// network: the iproute backend always does, netplan and networkd only on a
// real appliance (root "/"; elsewhere they only write files under root).
func (e *Engine) changesLive() bool {
	switch e.Backend.Name() {
	case "iproute":
		return true
	case "netplan", "networkd":
		return filepath.Clean(e.Layout.Root) == "/"
	}
	return false
}

// ReadFactoryNetwork returns the recorded factory network; ok is false when
// none was recorded.
func (l Layout) ReadFactoryNetwork() (FactoryNetwork, bool, error) {
	var f FactoryNetwork
	b, err := safefile.ReadFile(l.factoryPath(), MaxStateFile)
	if errors.Is(err, os.ErrNotExist) {
		return f, false, nil
	}
	if err != nil {
		return f, false, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, false, fmt.Errorf("%s: %v", l.factoryPath(), err)
	}
	return f, true, nil
}

// recordFactory writes factory-network.json from the live interfaces, once:
// only while no generation was ever applied and no record exists, and only
// when this engine's backend changes the live network.
func (e *Engine) recordFactory(ctx context.Context, ifaces ...string) error {
	if !e.changesLive() {
		return nil
	}
	if _, ok, err := e.Layout.ReadFactoryNetwork(); ok || err != nil {
		return err
	}
	if l, _ := e.Layout.Store().List(); len(l) > 0 {
		return nil // not the factory state any more
	}
	if len(ifaces) == 0 {
		all, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range all {
			if i.Flags&net.FlagLoopback == 0 {
				ifaces = append(ifaces, i.Name)
			}
		}
	}
	f := FactoryNetwork{RecordedAt: e.Now().UTC()}
	f.Hostname, _ = netconf.LiveHostname()
	for _, name := range ifaces {
		if l, err := netconf.ReadLive(ctx, name, false); err == nil {
			f.Interfaces = append(f.Interfaces, l)
		}
	}
	b, _ := jsonIndent(f)
	if err := os.MkdirAll(e.Layout.State(), 0o700); err != nil {
		return err
	}
	return safefile.WriteFile(e.Layout.factoryPath(), b, 0o600)
}

// factoryNetwork returns the factory addressing of interface iface: its
// first global address of the family of like, with the gateway. ok is
// false when nothing is known (no record, or no such address).
func (e *Engine) factoryNetwork(ctx context.Context, iface string, like netip.Addr) (netconf.Network, bool) {
	if err := e.recordFactory(ctx, iface); err != nil {
		e.Log("factory network: %v", err)
	}
	f, ok, err := e.Layout.ReadFactoryNetwork()
	if !ok || err != nil {
		return netconf.Network{}, false
	}
	for _, l := range f.Interfaces {
		if l.Interface != iface {
			continue
		}
		for _, a := range l.Addresses {
			p, err := netip.ParsePrefix(a)
			if err != nil || !p.Addr().IsGlobalUnicast() || p.Addr().Is4() != like.Is4() {
				continue
			}
			return netconf.Network{Interface: iface, Address: p.Addr().String(), Mask: strconv.Itoa(p.Bits()), Gateway: l.Gateway}, true
		}
	}
	return netconf.Network{}, false
}

// restoreFactory puts the management interface of generation from's
// settings back on its factory network, and the factory host name back.
func (e *Engine) restoreFactory(ctx context.Context, from int) error {
	netErr := e.restoreNetworkFactory(ctx, from)
	return errors.Join(netErr, e.restoreFactoryHostname(ctx))
}

// restoreFactoryHostname sets the recorded factory host name again. Under a
// root other than "/" the file backends only wrote R/etc/hostname, and
// removing it is their factory state.
func (e *Engine) restoreFactoryHostname(ctx context.Context) error {
	if _, ok := e.Backend.(netconf.ConfigRemover); ok && filepath.Clean(e.Layout.Root) != "/" {
		p := filepath.Join(e.Layout.Root, netconf.HostnameFile)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	f, ok, err := e.Layout.ReadFactoryNetwork()
	if err != nil || !ok || f.Hostname == "" {
		return err
	}
	return e.Backend.SetHostname(ctx, e.Layout.Root, f.Hostname)
}

func (e *Engine) restoreNetworkFactory(ctx context.Context, from int) error {
	if r, ok := e.Backend.(netconf.ConfigRemover); ok {
		return r.RemoveConfig(ctx, e.Layout.Root)
	}
	if e.Backend.Name() == "none" {
		return nil
	}
	s, err := e.settingsOf(from)
	if err != nil {
		return err
	}
	a, _ := netip.ParseAddr(s.Network.Address)
	fac, ok := e.factoryNetwork(ctx, s.Network.Interface, a)
	if !ok {
		return fmt.Errorf("no factory network recorded for %s in %s", s.Network.Interface, e.Layout.factoryPath())
	}
	return e.Backend.Apply(ctx, e.Layout.Root, fac)
}

// rollbackToFactory returns from generation from to the factory state
// (generation 0): network first, then "current" removed, then the pending
// record cleared, so a crash halfway is finished by the next tick.
func (e *Engine) rollbackToFactory(ctx context.Context, from int, reason string) error {
	st := e.Layout.Store()
	if err := st.WriteRollback(generation.Rollback{From: from, To: 0, At: e.Now().UTC(), Reason: reason}); err != nil {
		return err
	}
	netErr := e.restoreFactory(ctx, from)
	st.MarkNetwork(from, false)
	if err := st.ClearCurrent(); err != nil {
		return err
	}
	if err := st.ClearPending(); err != nil {
		return err
	}
	e.signalReload()
	e.Log("rolled back from generation %d to the factory network (generation 0): %s", from, reason)
	if netErr != nil {
		return fmt.Errorf("rolled back to the factory state (generation 0) but its network could not be restored: %v", netErr)
	}
	return nil
}
