//go:build linux

package monitor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"golang.org/x/sys/unix"
)

// netnsPair creates two network namespaces joined by a veth pair, vethA
// (198.18.0.1/30) in the first and vethB (198.18.0.2/30) in the second,
// and deletes both namespaces when the test ends.
func netnsPair(t *testing.T) (nsA, nsB string) {
	if os.Geteuid() != 0 {
		needs.Missing(t, "needs root to create network namespaces and a veth pair (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		needs.Missing(t, "needs ip(8) from iproute2")
	}
	suffix := fmt.Sprintf("%d", os.Getpid())
	nsA, nsB = "tapl-a-"+suffix, "tapl-b-"+suffix
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", nsA)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	run("netns", "add", nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	run("link", "add", "vethA", "netns", nsA, "type", "veth", "peer", "name", "vethB", "netns", nsB)
	run("-n", nsA, "addr", "add", "198.18.0.1/30", "dev", "vethA")
	run("-n", nsB, "addr", "add", "198.18.0.2/30", "dev", "vethB")
	run("-n", nsA, "link", "set", "vethA", "up")
	run("-n", nsB, "link", "set", "vethB", "up")
	return nsA, nsB
}

// inNetns runs fn on an OS thread moved into namespace ns. The thread is
// never returned to the runtime (it exits with the goroutine), so no other
// goroutine ever runs in the namespace.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// onlyIPv4 is `ip` as `tcpdump -ddd` prints it for Ethernet (the kernel
// runs it on frames whose VLAN tag it has already taken off).
const onlyIPv4 = "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n"

// TestLiveVeth captures on a veth inside a namespace while a real Modbus
// exchange runs on port 5020, a non-standard port: the pipeline must find
// Modbus by content, the BPF filter must keep ARP out, and Health must
// report the interface and packets.
func TestLiveVeth(t *testing.T) {
	t.Run("TPACKET_V3 ring", func(t *testing.T) { liveVeth(t, false) })
	t.Run("recvmsg", func(t *testing.T) { liveVeth(t, true) })
}

func liveVeth(t *testing.T, noRing bool) {
	nsA, nsB := netnsPair(t)
	m, err := New(Options{Learning: -1, Filter: onlyIPv4, NoRing: noRing})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	liveErr := make(chan error, 1)
	go func() {
		liveErr <- inNetns(nsA, func() error { return m.RunLive(ctx, "vethA") })
	}()
	var ln net.Listener
	if err := inNetns(nsA, func() (err error) { ln, err = net.Listen("tcp", "198.18.0.1:5020"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 260)
		for {
			n, err := c.Read(buf)
			if err != nil || n < 12 {
				return
			}
			// Read Holding Registers response: 2 registers.
			c.Write([]byte{buf[0], buf[1], 0, 0, 0, 7, buf[6], 3, 4, 0, 1, 0, 2})
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for m.Stats().Interfaces == 0 {
		if time.Now().After(deadline) {
			t.Fatal("capture did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var conn net.Conn
	if err := inNetns(nsB, func() (err error) {
		conn, err = net.DialTimeout("tcp", "198.18.0.1:5020", 5*time.Second)
		return
	}); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 13)
	for i := 0; i < 3; i++ {
		conn.Write([]byte{0, byte(i), 0, 0, 0, 6, 1, 3, 0, 0, 0, 2})
		if _, err := conn.Read(reply); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	// A BACnet Who-Is in an 802.1Q frame (VLAN 100) sent raw on vethB: the
	// receiving kernel moves the tag out of band, PACKET_AUXDATA must
	// bring it back, and BACnet must be found inside.
	if err := inNetns(nsB, func() error { return sendRaw("vethB", whoIsVLAN100()) }); err != nil {
		t.Fatal(err)
	}
	for {
		st := m.Stats()
		if st.Protocols["modbus"].PDUs >= 6 && st.Protocols["bacnet"].PDUs >= 1 {
			if st.Decode.VLAN == 0 {
				t.Fatal("no 802.1Q tag seen on VLAN 100 traffic")
			}
			if st.Protocols["modbus"].Functions["3"] != 6 || st.Protocols["modbus"].Malformed != 0 {
				t.Fatalf("modbus counters %+v", st.Protocols["modbus"])
			}
			if st.Decode.ARP != 0 {
				t.Fatalf("BPF filter let %d ARP packets through", st.Decode.ARP)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw modbus %+v bacnet %+v, %d VLAN tags after 10 s", st.Protocols["modbus"], st.Protocols["bacnet"], st.Decode.VLAN)
		}
		time.Sleep(20 * time.Millisecond)
	}
	line, err := m.Health()
	if err != nil || !strings.HasPrefix(line, "capture: 1 interfaces, ") || !strings.HasSuffix(line, " drops") {
		t.Fatalf("health %q, %v", line, err)
	}
	var server bool
	for _, a := range m.Assets() {
		if a.ID == "ip:198.18.0.1" {
			server = strings.Contains(strings.Join(a.Roles, ","), "Modbus server")
		}
	}
	if !server {
		t.Fatalf("198.18.0.1 not listed as Modbus server: %+v", m.Assets())
	}
	cancel()
	if err := <-liveErr; err != nil {
		t.Fatalf("RunLive: %v", err)
	}
}

func TestLiveBadInterface(t *testing.T) {
	m, _ := New(Options{Learning: -1})
	defer m.Close()
	err := m.RunLive(context.Background(), "no-such-if0")
	if err == nil || !strings.Contains(err.Error(), "no-such-if0") {
		t.Fatalf("err = %v", err)
	}
	if _, herr := m.Health(); herr == nil {
		t.Fatal("Health hides the capture error")
	}
}

// whoIsVLAN100 is an Ethernet broadcast, 802.1Q VLAN 100, IPv4 UDP
// 198.18.1.2 → 198.18.1.255:47808 frame carrying a BACnet Who-Is.
func whoIsVLAN100() []byte {
	bvlc := []byte{0x81, 0x0b, 0, 8, 1, 0x20, 0x10, 0x08}
	bvlc[5] = 0 // NPDU control: no addresses
	udp := []byte{0xba, 0xc0, 0xba, 0xc0, 0, byte(8 + len(bvlc)), 0, 0}
	ip := []byte{0x45, 0, 0, byte(20 + len(udp) + len(bvlc)), 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 1, 2, 198, 18, 1, 255}
	f := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00, 100, 0x08, 0x00}
	return append(append(append(f, ip...), udp...), bvlc...)
}

// sendRaw transmits frame on iface through an AF_PACKET socket.
func sendRaw(iface string, frame []byte) error {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6})
}
