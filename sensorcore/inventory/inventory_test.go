package inventory

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func addr(s string) decode.Addr { return toAddr(netip.MustParseAddr(s)) }

func pkt(srcMAC byte, src, dst string) *decode.Packet {
	return &decode.Packet{HasEth: true, SrcMAC: [6]byte{0, 0x1b, 0x1b, 0, 0, srcMAC}, DstMAC: [6]byte{0, 0, 0x0c, 0, 0, 1},
		IPVersion: 4, Src: addr(src), Dst: addr(dst)}
}

func TestInventory(t *testing.T) {
	inv := New(nil)
	p := pkt(1, "192.0.2.10", "192.0.2.20")
	inv.Observe(t0, p)
	r := dissect.Result{Proto: dissect.S7comm, SrcRole: dissect.RoleS7Client, DstRole: dissect.RoleS7PLC, Function: 4}
	if inv.ObservePDU(t0, p, &r); len(inv.Assets()) != 1 {
		t.Fatal("a response created its destination")
	}
	r.Request = true
	inv.ObservePDU(t0, p, &r)
	back := pkt(2, "192.0.2.20", "192.0.2.10")
	inv.Observe(t0.Add(time.Second), back)
	r = dissect.Result{Proto: dissect.S7comm, SrcRole: dissect.RoleS7PLC, DstRole: dissect.RoleS7Client, HasIdent: true,
		Ident: dissect.Identity{Vendor: "Siemens", Model: "CPU 315-2 PN/DP", Firmware: "V3.2.6", Instance: -1}}
	inv.ObservePDU(t0.Add(time.Second), back, &r)
	// broadcast and multicast are not devices
	inv.Observe(t0, pkt(3, "0.0.0.0", "255.255.255.255"))
	inv.Observe(t0, pkt(3, "224.0.0.5", "192.0.2.10"))
	as := inv.Assets()
	if len(as) != 2 {
		t.Fatalf("assets %+v", as)
	}
	plc := as[1]
	if plc.ID != "ip:192.0.2.20" || plc.MAC != "00:1b:1b:00:00:02" || plc.Identity.Model != "CPU 315-2 PN/DP" ||
		!reflect.DeepEqual(plc.Roles, []string{"S7 PLC"}) || !reflect.DeepEqual(plc.Protocols, []string{"s7comm"}) ||
		!reflect.DeepEqual(plc.Peers, []string{"192.0.2.10"}) {
		t.Fatalf("plc %+v", plc)
	}
	if cl := as[0]; !reflect.DeepEqual(cl.Roles, []string{"S7 client"}) || !cl.FirstSeen.Equal(t0) {
		t.Fatalf("client %+v", cl)
	}
}

// TestRouter: one MAC behind many source IPs is a router; the remote hosts
// keep their IP identity without the router's MAC.
func TestRouter(t *testing.T) {
	inv := New(nil)
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"} {
		inv.Observe(t0.Add(time.Duration(i)), pkt(0x99, ip, "192.0.2.10"))
	}
	inv.Observe(t0, pkt(1, "192.0.2.10", "198.51.100.1"))
	var router *Asset
	as := inv.Assets()
	for i := range as {
		if as[i].Router {
			router = &as[i]
		} else if as[i].ID != "ip:192.0.2.10" && as[i].MAC != "" {
			t.Fatalf("remote host kept the router's MAC: %+v", as[i])
		}
	}
	if router == nil || router.MAC != "00:1b:1b:00:00:99" || len(router.IPs) != RouterThreshold {
		t.Fatalf("router %+v in %+v", router, as)
	}
	if len(as) != 7 {
		t.Fatalf("%d assets", len(as))
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	inv := New(nil)
	p := pkt(1, "192.0.2.10", "192.0.2.20")
	inv.Observe(t0, p)
	r := dissect.Result{Proto: dissect.Modbus, SrcRole: dissect.RoleModbusClient, Name: []byte("hmi-1")}
	inv.ObservePDU(t0, p, &r)
	inv.Observe(t0, &decode.Packet{HasEth: true, SrcMAC: [6]byte{0, 0x0e, 0x8c, 1, 2, 3}}) // L2-only device
	before := inv.Assets()
	inv2 := New(nil)
	if err := inv2.Restore(before); err != nil {
		t.Fatal(err)
	}
	if after := inv2.Assets(); !reflect.DeepEqual(before, after) {
		t.Fatalf("round trip\n%+v\n%+v", before, after)
	}
	if err := inv2.Restore([]Asset{{ID: "ip:x", MAC: "zz"}}); err == nil {
		t.Fatal("bad MAC restored")
	}
}

func TestObserveNoAlloc(t *testing.T) {
	inv := New(nil)
	p := pkt(1, "192.0.2.10", "192.0.2.20")
	inv.Observe(t0, pkt(2, "192.0.2.20", "192.0.2.10"))
	r := dissect.Result{Proto: dissect.Modbus, SrcRole: dissect.RoleModbusClient, DstRole: dissect.RoleModbusServer}
	inv.Observe(t0, p)
	inv.ObservePDU(t0, p, &r)
	if n := testing.AllocsPerRun(100, func() { inv.Observe(t0, p); inv.ObservePDU(t0, p, &r) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func TestNames(t *testing.T) {
	inv := New(nil)
	// DHCP request from 0.0.0.0 naming its requested address
	dh := pkt(5, "0.0.0.0", "255.255.255.255")
	r := dissect.Result{Proto: dissect.DHCP, Request: true, Name: []byte("hmi-01"), HasSubject: true, Subject: addr("192.0.2.50"),
		HasIdent: true, Ident: dissect.Identity{VendorClass: "MSFT 5.0", Instance: -1}}
	inv.ObservePDU(t0, dh, &r)
	// TLS ClientHello naming its server
	c := pkt(6, "192.0.2.50", "192.0.2.60")
	inv.Observe(t0, pkt(7, "192.0.2.60", "192.0.2.50"))
	inv.Observe(t0, c)
	r = dissect.Result{Proto: dissect.TLS, Request: true, Name: []byte("historian.example"), DstRole: dissect.RoleTLSServer}
	inv.ObservePDU(t0, c, &r)
	got := map[string]Asset{}
	for _, a := range inv.Assets() {
		got[a.ID] = a
	}
	if a := got["ip:192.0.2.50"]; a.Hostname != "hmi-01" || a.Identity.VendorClass != "MSFT 5.0" {
		t.Fatalf("dhcp client %+v", a)
	}
	if a := got["ip:192.0.2.60"]; a.Hostname != "historian.example" || !reflect.DeepEqual(a.Roles, []string{"TLS server"}) {
		t.Fatalf("tls server %+v", a)
	}
}

// TestFlowSameAsObserve: a sequence of packets and PDUs through
// ObserveFlow/ObservePDUFlow leaves the same assets as through Observe and
// ObservePDU, across a MAC change, a MAC becoming a router's, new roles
// and identities.
func TestFlowSameAsObserve(t *testing.T) {
	type step struct {
		p *decode.Packet
		r *dissect.Result
	}
	read := dissect.Result{Proto: dissect.Modbus, SrcRole: dissect.RoleModbusClient, DstRole: dissect.RoleModbusServer, Request: true, Function: 3}
	ident := dissect.Result{Proto: dissect.Modbus, SrcRole: dissect.RoleModbusServer, DstRole: dissect.RoleModbusClient,
		HasIdent: true, Ident: dissect.Identity{Vendor: "Schneider", Model: "M340"}}
	s7 := dissect.Result{Proto: dissect.S7comm, SrcRole: dissect.RoleS7Client, DstRole: dissect.RoleS7PLC, Request: true}
	var steps []step
	for i := 0; i < 3; i++ {
		steps = append(steps, step{pkt(1, "192.0.2.10", "192.0.2.20"), &read})
	}
	steps = append(steps, step{pkt(2, "192.0.2.20", "192.0.2.10"), &ident})
	steps = append(steps, step{pkt(1, "192.0.2.10", "192.0.2.20"), &s7})   // new protocol and roles
	steps = append(steps, step{pkt(9, "192.0.2.10", "192.0.2.20"), &read}) // new MAC
	// MAC 9 carries more sources: it becomes a router's
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		steps = append(steps, step{pkt(9, ip, "192.0.2.20"), nil})
		steps = append(steps, step{pkt(9, "192.0.2.10", "192.0.2.20"), &read})
	}
	steps = append(steps, step{pkt(9, "192.0.2.10", "192.0.2.20"), &read}, step{pkt(9, "192.0.2.10", "192.0.2.20"), nil})
	plain, flowed := New(nil), New(nil)
	flows := map[[2]decode.Addr]*Flow{}
	for i, s := range steps {
		now := t0.Add(time.Duration(i) * time.Second)
		plain.Observe(now, s.p)
		k := [2]decode.Addr{s.p.Src, s.p.Dst}
		if flows[k] == nil {
			flows[k] = &Flow{}
		}
		flowed.ObserveFlow(now.UnixNano(), s.p, flows[k])
		if s.r != nil {
			plain.ObservePDU(now, s.p, s.r)
			flowed.ObservePDUFlow(now.UnixNano(), s.p, s.r, flows[k])
		}
	}
	a, b := plain.Assets(), flowed.Assets()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("with Flow:\n%+v\nwithout:\n%+v", b, a)
	}
	var router bool
	for _, x := range a {
		if x.Router {
			router = true
			if !x.LastSeen.Equal(t0.Add(time.Duration(len(steps)-1) * time.Second)) {
				t.Fatalf("router last seen %v", x.LastSeen)
			}
		}
	}
	if !router {
		t.Fatalf("no router in %+v", a)
	}
}
