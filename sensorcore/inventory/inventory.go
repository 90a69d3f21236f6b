package inventory

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// Identity is what traffic revealed about a device.
type Identity struct {
	Vendor   string `json:"vendor,omitempty"`
	VendorID int    `json:"vendor_id,omitempty"`
	Model    string `json:"model,omitempty"`
	Firmware string `json:"firmware,omitempty"`
	Serial   string `json:"serial,omitempty"`
	Name     string `json:"name,omitempty"`
	Instance int    `json:"bacnet_instance,omitempty"`
	// VendorClass is the DHCP vendor class identifier.
	VendorClass string `json:"dhcp_vendor_class,omitempty"`
	// DeviceType and ProductCode come from CIP ListIdentity.
	DeviceType  int `json:"cip_device_type,omitempty"`
	ProductCode int `json:"cip_product_code,omitempty"`
	// DeviceID is the PROFINET device id (DCP Identify).
	DeviceID int `json:"profinet_device_id,omitempty"`
}

// Asset is one device as reported by `sensorcore inventory --json` and the
// console's Devices page.
type Asset struct {
	ID        string    `json:"id"`
	MAC       string    `json:"mac,omitempty"`
	IPs       []string  `json:"ips,omitempty"`
	Vendor    string    `json:"vendor,omitempty"` // from the MAC's OUI
	Router    bool      `json:"router,omitempty"` // one MAC seen with many IPs
	Hostname  string    `json:"hostname,omitempty"`
	Protocols []string  `json:"protocols,omitempty"`
	Roles     []string  `json:"roles,omitempty"`
	Identity  Identity  `json:"identity"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Peers     []string  `json:"peers,omitempty"`
}

// RouterThreshold is the number of distinct IP addresses one MAC must carry
// as source before it is taken for a router (or L3 switch) and kept apart
// from the hosts behind it.
const RouterThreshold = 4

// MaxPeers bounds the peers kept per host.
const MaxPeers = 256

// MaxHosts bounds the IP hosts kept, against spoofed-source floods; hosts
// beyond it are counted in Inventory.Overflow and not recorded.
const MaxHosts = 200000

type host struct {
	ip     decode.Addr
	mac    [6]byte
	hasMAC bool
	protos uint32
	roles  dissect.Role
	ident  Identity
	name   string
	first  int64
	last   int64
	peers  map[decode.Addr]struct{}
	// lastPeer short-cuts the peers map for runs to one destination.
	lastPeer decode.Addr
}

type macInfo struct {
	mac    [6]byte
	ips    [RouterThreshold]decode.Addr
	n      int
	router bool
	first  int64
	last   int64
	// What a device that speaks only link-layer protocols (PROFINET DCP)
	// shows of itself, for its mac: asset.
	protos uint32
	roles  dissect.Role
	ident  Identity
}

// Inventory is the asset table. It is not safe for concurrent use.
type Inventory struct {
	hosts map[decode.Addr]*host
	macs  map[[6]byte]*macInfo
	oui   *OUI
	// last and prev are a two-entry cache in front of hosts: packets come
	// in runs between the same two hosts.
	last, prev *host
	// Overflow counts hosts not recorded because MaxHosts was reached.
	Overflow uint64
	spare    host // stands in for hosts beyond MaxHosts
	// gen changes whenever a Flow's cached state may have gone stale (a
	// MAC became a router's, or assets were restored).
	gen uint64
}

// New makes an empty inventory; oui may be nil (no vendor names).
func New(oui *OUI) *Inventory {
	return &Inventory{hosts: make(map[decode.Addr]*host, 256), macs: make(map[[6]byte]*macInfo, 256), oui: oui}
}

// SetOUI replaces the vendor registry (it is only read by Assets, so it
// may be loaded while packets are already being observed).
func (inv *Inventory) SetOUI(o *OUI) { inv.oui = o }

// Len is the number of IP hosts known.
func (inv *Inventory) Len() int { return len(inv.hosts) }

func unicastMAC(m [6]byte) bool { return m[0]&0x01 == 0 && m != [6]byte{} }

// unicastIP reports whether a is a usable host address: not unspecified,
// broadcast, multicast or the IPv4 limited broadcast.
func unicastIP(a decode.Addr) bool {
	switch a.Len {
	case 4:
		return a.B[0] != 0 && a.B[0] < 224 && (a.B[3] != 255 || a.B[0] == 127)
	case 16:
		return a.B[0] != 0xff && a.B != [16]byte{}
	}
	return false
}

func (inv *Inventory) getHost(a decode.Addr, ts int64) *host {
	var h *host
	switch {
	case inv.last != nil && inv.last.ip == a:
		h = inv.last
	case inv.prev != nil && inv.prev.ip == a:
		h = inv.prev
		inv.last, inv.prev = inv.prev, inv.last
	default:
		var ok bool
		h, ok = inv.hosts[a]
		if !ok {
			if len(inv.hosts) >= MaxHosts {
				inv.Overflow++
				inv.spare = host{ip: a, first: ts}
				return &inv.spare
			}
			h = &host{ip: a, first: ts}
			inv.hosts[a] = h
		}
		inv.last, inv.prev = h, inv.last
	}
	if ts > h.last {
		h.last = ts
	}
	if ts < h.first {
		h.first = ts
	}
	return h
}

func (inv *Inventory) getMAC(m [6]byte, ts int64) *macInfo {
	mi, ok := inv.macs[m]
	if !ok {
		mi = &macInfo{mac: m, first: ts}
		inv.macs[m] = mi
	}
	if ts > mi.last {
		mi.last = ts
	}
	return mi
}

// bind records that IP a was sent from MAC m.
func (inv *Inventory) bind(h *host, m [6]byte, ts int64) {
	mi := inv.getMAC(m, ts)
	known := false
	for i := 0; i < mi.n; i++ {
		if mi.ips[i] == h.ip {
			known = true
			break
		}
	}
	if !known && !mi.router {
		if mi.n < len(mi.ips) {
			mi.ips[mi.n] = h.ip
			mi.n++
		}
		if mi.n >= RouterThreshold {
			mi.router = true
			inv.gen++
			for _, o := range inv.hosts {
				if o.hasMAC && o.mac == m {
					o.hasMAC = false
				}
			}
		}
	}
	if !mi.router {
		h.mac, h.hasMAC = m, true
	}
}

// Observe records the hosts of one decoded packet: its source (and, for
// ARP, the sender binding) and the source's peer.
func (inv *Inventory) Observe(now time.Time, p *decode.Packet) { inv.observe(now.UnixNano(), p) }

// observe is Observe at ts, in Unix nanoseconds.
func (inv *Inventory) observe(ts int64, p *decode.Packet) {
	if p.IsARP {
		if unicastIP(p.ARPSenderIP) && unicastMAC(p.ARPSenderMAC) {
			h := inv.getHost(p.ARPSenderIP, ts)
			inv.bind(h, p.ARPSenderMAC, ts)
		}
		return
	}
	if p.IPVersion == 0 {
		if p.HasEth && unicastMAC(p.SrcMAC) {
			inv.getMAC(p.SrcMAC, ts)
		}
		return
	}
	if !unicastIP(p.Src) {
		return
	}
	h := inv.getHost(p.Src, ts)
	if p.HasEth && unicastMAC(p.SrcMAC) && !(h.hasMAC && h.mac == p.SrcMAC) {
		inv.bind(h, p.SrcMAC, ts)
	}
	if h.lastPeer == p.Dst {
		return
	}
	if unicastIP(p.Dst) {
		h.lastPeer = p.Dst
		if _, ok := h.peers[p.Dst]; !ok && len(h.peers) < MaxPeers {
			if h.peers == nil {
				h.peers = make(map[decode.Addr]struct{}, 4)
			}
			h.peers[p.Dst] = struct{}{}
		}
	}
}

// ObservePDU records a PDU's protocol, the roles it shows for source and
// destination (a request's destination becomes an asset even before it
// answers), and any identity it reveals about the source.
func (inv *Inventory) ObservePDU(now time.Time, p *decode.Packet, r *dissect.Result) {
	inv.observePDU(now.UnixNano(), p, r)
}

// observePDU is ObservePDU at ts, in Unix nanoseconds.
func (inv *Inventory) observePDU(ts int64, p *decode.Packet, r *dissect.Result) {
	if r.Proto == dissect.None {
		return
	}
	if p.Src.Len == 6 {
		inv.observeL2(ts, p, r)
		return
	}
	if !unicastIP(p.Src) {
		if len(r.Name) > 0 && r.HasSubject {
			inv.name(nil, p, r, ts) // a DHCP client before it has an address
		}
		return
	}
	h := inv.getHost(p.Src, ts)
	h.protos |= 1 << r.Proto
	h.roles |= r.SrcRole
	if r.HasIdent {
		mergeIdent(&h.ident, &r.Ident)
	}
	if len(r.Name) > 0 {
		inv.name(h, p, r, ts)
	}
	if !unicastIP(p.Dst) {
		return
	}
	d, ok := inv.hosts[p.Dst]
	if !ok && r.Request && r.DstRole != 0 {
		// A request names its server even before the server answers.
		d = inv.getHost(p.Dst, ts)
		if p.HasEth && unicastMAC(p.DstMAC) {
			inv.bind(d, p.DstMAC, ts)
		}
		ok = true
	}
	if ok {
		d.protos |= 1 << r.Proto
		d.roles |= r.DstRole
	}
}

// observeL2 records a PDU of a protocol carried directly over Ethernet
// (its ends are MAC addresses): the sender's and a unicast destination's
// protocol and roles; a device that announces its IP address (a PROFINET
// DCP Identify response) becomes, or joins, that address's asset, with
// its identity.
func (inv *Inventory) observeL2(ts int64, p *decode.Packet, r *dissect.Result) {
	if !p.HasEth || !unicastMAC(p.SrcMAC) {
		return
	}
	var ip decode.Addr
	if r.HasStationIP && r.Notification {
		copy(ip.B[:4], r.StationIP[:4])
		ip.Len = 4
	}
	if unicastIP(ip) {
		h := inv.getHost(ip, ts)
		inv.bind(h, p.SrcMAC, ts)
		h.protos |= 1 << r.Proto
		h.roles |= r.SrcRole
		if r.HasIdent {
			mergeIdent(&h.ident, &r.Ident)
		}
	} else {
		mi := inv.getMAC(p.SrcMAC, ts)
		mi.protos |= 1 << r.Proto
		mi.roles |= r.SrcRole
		if r.HasIdent {
			mergeIdent(&mi.ident, &r.Ident)
		}
	}
	if unicastMAC(p.DstMAC) && r.DstRole != 0 {
		d := inv.getMAC(p.DstMAC, ts)
		d.protos |= 1 << r.Proto
		d.roles |= r.DstRole
	}
}

// Firmware is the firmware version traffic last revealed for the host at
// a, or "".
func (inv *Inventory) Firmware(a decode.Addr) string {
	if h := inv.hosts[a]; h != nil {
		return h.ident.Firmware
	}
	return ""
}

// Flow remembers, for the packets of one direction of one flow (a fixed
// source and destination address), what Observe and ObservePDU already
// recorded, so that a packet that adds nothing costs a few compares
// instead of map lookups. The zero Flow is empty; Reset empties it for
// another flow.
type Flow struct {
	gen      uint64
	src      *host    // the source host, nil until cached
	mi       *macInfo // the source MAC's entry when it is a router's
	mac      [6]byte
	hasEth   bool
	dst      *host  // the destination host once it exists
	protos   uint32 // protocols recorded on src and dst
	srcRoles dissect.Role
	dstRoles dissect.Role
}

// Reset empties f.
func (f *Flow) Reset() { *f = Flow{} }

// ObserveFlow is Observe for a packet of f's flow, at ts in Unix
// nanoseconds (as the pipeline keeps the packet clock, so no time.Time
// passes per packet). Once Observe has recorded the flow's source, MAC
// binding and peer, a later packet from the same MAC only moves the
// timestamps Observe would move.
func (inv *Inventory) ObserveFlow(ts int64, p *decode.Packet, f *Flow) {
	if f.src != nil && f.gen == inv.gen && f.mac == p.SrcMAC && f.hasEth == p.HasEth {
		h := f.src
		if ts > h.last {
			h.last = ts
		}
		if ts < h.first {
			h.first = ts
		}
		if f.mi != nil && ts > f.mi.last {
			f.mi.last = ts
		}
		return
	}
	inv.observe(ts, p)
	f.src, f.mi, f.dst, f.protos, f.srcRoles, f.dstRoles = nil, nil, nil, 0, 0, 0
	if p.IsARP || p.IPVersion == 0 || !unicastIP(p.Src) {
		return
	}
	h := inv.hosts[p.Src]
	if h == nil {
		return // beyond MaxHosts
	}
	if p.HasEth && unicastMAC(p.SrcMAC) && !(h.hasMAC && h.mac == p.SrcMAC) {
		// Observe bound the MAC and did not keep it: a router's MAC,
		// whose last-seen time every packet moves.
		if f.mi = inv.macs[p.SrcMAC]; f.mi == nil || !f.mi.router {
			return
		}
	}
	f.src, f.gen, f.mac, f.hasEth = h, inv.gen, p.SrcMAC, p.HasEth
}

// ObservePDUFlow is ObservePDU for a PDU of f's flow, after ObserveFlow
// saw its packet. A PDU whose protocol and roles are already recorded on
// both hosts, and that reveals no identity or name, changes nothing.
func (inv *Inventory) ObservePDUFlow(ts int64, p *decode.Packet, r *dissect.Result, f *Flow) {
	// Protocol ids are below dissect.MaxProtocols (32, the registry's
	// bound): the modulo spares the shift its overflow test.
	bit := uint32(1) << (r.Proto % dissect.MaxProtocols)
	if f.dst != nil && f.gen == inv.gen && f.protos&bit != 0 && r.SrcRole&^f.srcRoles == 0 &&
		r.DstRole&^f.dstRoles == 0 && !r.HasIdent && len(r.Name) == 0 {
		return
	}
	inv.observePDU(ts, p, r)
	if f.src == nil || f.gen != inv.gen || r.Proto == dissect.None || !unicastIP(p.Dst) {
		return
	}
	d := f.dst
	if d == nil {
		if d = inv.hosts[p.Dst]; d == nil {
			return
		}
		f.dst, f.protos, f.srcRoles, f.dstRoles = d, 0, 0, 0
	}
	f.protos |= bit
	f.srcRoles |= r.SrcRole
	f.dstRoles |= r.DstRole
}

// name records a host name an IT protocol revealed: for the subject
// address when the protocol gives one (DHCP creates that host, DNS only
// names a host already seen), for the server a TLS or HTTP client names,
// else for the sender.
func (inv *Inventory) name(src *host, p *decode.Packet, r *dissect.Result, ts int64) {
	h := src
	switch {
	case r.HasSubject:
		if !unicastIP(r.Subject) {
			return
		}
		if r.Proto == dissect.DHCP {
			h = inv.getHost(r.Subject, ts)
			if r.HasIdent {
				mergeIdent(&h.ident, &r.Ident)
			}
		} else if h = inv.hosts[r.Subject]; h == nil {
			return
		}
	case r.Request && (r.Proto == dissect.TLS || r.Proto == dissect.HTTP):
		if h = inv.hosts[p.Dst]; h == nil {
			return
		}
	}
	if h != nil && string(r.Name) != h.name {
		h.name = string(r.Name)
	}
}

func mergeIdent(dst *Identity, src *dissect.Identity) {
	set := func(d *string, s string) {
		if s != "" && *d != s {
			*d = s
		}
	}
	set(&dst.Vendor, src.Vendor)
	set(&dst.Model, src.Model)
	set(&dst.Firmware, src.Firmware)
	set(&dst.Serial, src.Serial)
	set(&dst.Name, src.Name)
	set(&dst.VendorClass, src.VendorClass)
	if src.VendorID != 0 {
		dst.VendorID = src.VendorID
	}
	if src.DeviceType != 0 {
		dst.DeviceType = src.DeviceType
	}
	if src.ProductCode != 0 {
		dst.ProductCode = src.ProductCode
	}
	if src.DeviceID != 0 {
		dst.DeviceID = src.DeviceID
	}
	if src.Instance >= 0 {
		dst.Instance = src.Instance
	}
}

func macString(m [6]byte) string { return net.HardwareAddr(m[:]).String() }

func addrString(a decode.Addr) string {
	if a.Len == 4 {
		return netip.AddrFrom4([4]byte(a.B[:4])).String()
	}
	return netip.AddrFrom16(a.B).String()
}

func protoNames(mask uint32) []string {
	var out []string
	for id := uint8(1); id < dissect.MaxProtocols; id++ {
		if mask&(1<<id) != 0 {
			out = append(out, dissect.Name(id))
		}
	}
	return out
}

// Assets returns every asset, sorted by id: IP hosts ("ip:ADDR"), routers
// and layer-2-only devices ("mac:ADDR").
func (inv *Inventory) Assets() []Asset {
	if inv.oui != nil {
		macs := make([][6]byte, 0, len(inv.macs))
		for m := range inv.macs {
			macs = append(macs, m)
		}
		inv.oui.Resolve(macs)
	}
	out := make([]Asset, 0, len(inv.hosts)+8)
	for _, h := range inv.hosts {
		a := Asset{
			ID:        "ip:" + addrString(h.ip),
			IPs:       []string{addrString(h.ip)},
			Hostname:  h.name,
			Protocols: protoNames(h.protos),
			Roles:     dissect.RoleNames(h.roles),
			Identity:  h.ident,
			FirstSeen: time.Unix(0, h.first).UTC(),
			LastSeen:  time.Unix(0, h.last).UTC(),
		}
		if h.hasMAC {
			a.MAC = macString(h.mac)
			a.Vendor = inv.oui.Lookup(h.mac)
		}
		for p := range h.peers {
			a.Peers = append(a.Peers, addrString(p))
		}
		sort.Strings(a.Peers)
		out = append(out, a)
	}
	for _, mi := range inv.macs {
		if !mi.router && mi.n > 0 {
			continue // shown through its IP host
		}
		a := Asset{
			ID:        "mac:" + macString(mi.mac),
			MAC:       macString(mi.mac),
			Vendor:    inv.oui.Lookup(mi.mac),
			Router:    mi.router,
			Protocols: protoNames(mi.protos),
			Roles:     dissect.RoleNames(mi.roles),
			Identity:  mi.ident,
			FirstSeen: time.Unix(0, mi.first).UTC(),
			LastSeen:  time.Unix(0, mi.last).UTC(),
		}
		for i := 0; i < mi.n; i++ {
			a.IPs = append(a.IPs, addrString(mi.ips[i]))
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Restore loads assets saved by a previous run (see Assets), so the
// inventory survives restarts. Unknown protocol or role names are ignored.
func (inv *Inventory) Restore(assets []Asset) error {
	inv.gen++
	for _, a := range assets {
		var mac [6]byte
		hasMAC := false
		if a.MAC != "" {
			hw, err := net.ParseMAC(a.MAC)
			if err != nil || len(hw) != 6 {
				return fmt.Errorf("inventory: asset %s: bad mac %q", a.ID, a.MAC)
			}
			copy(mac[:], hw)
			hasMAC = true
		}
		first, last := a.FirstSeen.UnixNano(), a.LastSeen.UnixNano()
		if len(a.ID) > 4 && a.ID[:4] == "mac:" {
			mi := inv.getMAC(mac, last)
			mi.first, mi.router, mi.ident = first, a.Router, a.Identity
			mi.roles = dissect.RoleFromNames(a.Roles)
			for _, n := range a.Protocols {
				if id := dissect.ID(n); id != dissect.None {
					mi.protos |= 1 << id
				}
			}
			for _, s := range a.IPs {
				if ip, err := netip.ParseAddr(s); err == nil && mi.n < len(mi.ips) {
					mi.ips[mi.n] = toAddr(ip)
					mi.n++
				}
			}
			continue
		}
		if len(a.IPs) == 0 {
			return fmt.Errorf("inventory: asset %s has no IP address", a.ID)
		}
		ip, err := netip.ParseAddr(a.IPs[0])
		if err != nil {
			return fmt.Errorf("inventory: asset %s: %w", a.ID, err)
		}
		h := inv.getHost(toAddr(ip), last)
		h.first = first
		h.ident, h.name = a.Identity, a.Hostname
		if hasMAC {
			h.mac, h.hasMAC = mac, true
			mi := inv.getMAC(mac, last)
			if mi.n < len(mi.ips) {
				mi.ips[mi.n] = h.ip
				mi.n++
			}
		}
		for _, n := range a.Protocols {
			if id := dissect.ID(n); id != dissect.None {
				h.protos |= 1 << id
			}
		}
		h.roles = dissect.RoleFromNames(a.Roles)
		for _, s := range a.Peers {
			if p, err := netip.ParseAddr(s); err == nil {
				if h.peers == nil {
					h.peers = make(map[decode.Addr]struct{}, len(a.Peers))
				}
				h.peers[toAddr(p)] = struct{}{}
			}
		}
	}
	return nil
}

func toAddr(ip netip.Addr) decode.Addr {
	var a decode.Addr
	if ip.Is4() || ip.Is4In6() {
		b := ip.Unmap().As4()
		copy(a.B[:4], b[:])
		a.Len = 4
		return a
	}
	a.B = ip.As16()
	a.Len = 16
	return a
}
