//go:build linux

package provision_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/dnstest"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/capture"
)

// A sensor in a network namespace (addresses in 198.19.0.0/16 only) with
// two monitoring ports: the switch's SPAN session is right on mon0, which
// carries Modbus/TCP from the shared captures, and wrong on mon1, which
// carries only other traffic. After the push, validation reads the
// monitoring engine's health record: mon0 sees Modbus, mon1 is the
// commonest site mistake (traffic, no OT protocol) and says so; the
// gateway (the host's end of the management link) answers ping, the DNS
// server the test runs there knows the sensor. Frames are written only
// into the test's own veth pairs; everything is deleted at the end.
func TestValidateCaptureInNamespace(t *testing.T) {
	needs.Root(t, "builds a network namespace and veth pairs and captures on them")
	needs.Tool(t, "ip", "iproute2")
	pcaps, _ := filepath.Glob("../../shared/pcaps/modbus/modbusSmall.pcap")
	if len(pcaps) == 0 {
		needs.Missing(t, "this test replays ../shared/pcaps/modbus/modbusSmall.pcap, the shared captures beside the repository")
	}
	bin := needSensorcore(t)
	t.Parallel()
	var rb [2]byte
	rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	net3 := fleettest.HostSubnets(t, 1)[0]
	ns, mgmt := "tlv"+tag, "tlvm"+tag
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", ns).Run()
		for _, l := range []string{mgmt, "tlv0" + tag, "tlv1" + tag} {
			exec.Command("ip", "link", "del", l).Run()
		}
	})
	ipCmd(t, "netns", "add", ns)
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	ipCmd(t, "link", "add", mgmt, "type", "veth", "peer", "name", mgmt+"p")
	ipCmd(t, "link", "set", mgmt+"p", "netns", ns)
	ipCmd(t, "-n", ns, "link", "set", mgmt+"p", "name", "eth0")
	ipCmd(t, "-n", ns, "addr", "add", net3+".10/24", "dev", "eth0")
	ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
	ipCmd(t, "-n", ns, "route", "add", "default", "via", net3+".1")
	ipCmd(t, "addr", "add", net3+".1/24", "dev", mgmt)
	ipCmd(t, "addr", "add", net3+".53/24", "dev", mgmt)
	ipCmd(t, "link", "set", mgmt, "up")
	// The monitoring ports: mon0 and mon1 inside, their peers here.
	var peers [2]string
	for i := range peers {
		peers[i] = fmt.Sprintf("tlv%d%s", i, tag)
		ipCmd(t, "link", "add", peers[i], "type", "veth", "peer", "name", peers[i]+"p")
		ipCmd(t, "link", "set", peers[i]+"p", "netns", ns)
		ipCmd(t, "-n", ns, "link", "set", peers[i]+"p", "name", fmt.Sprintf("mon%d", i))
		ipCmd(t, "-n", ns, "link", "set", fmt.Sprintf("mon%d", i), "up")
		ipCmd(t, "link", "set", peers[i], "up")
	}
	dnsConn, err := net.ListenPacket("udp", net3+".53:53")
	if err != nil {
		t.Fatal(err)
	}
	defer dnsConn.Close()
	go dnstest.Serve(dnsConn, map[string]netip.Addr{"val-sensor.plant.example.": netip.MustParseAddr(net3 + ".10")})

	kit := fleettest.New(t, time.Now().UTC())
	keyFile, pub := clientKey(t)
	app := fleettest.StartAppliance(t, bin, fleettest.ApplianceOptions{Netns: ns, TrustRoot: kit.RootPub, SSHListen: ":2222",
		ConsoleListen: ":8443", DialAddr: net3 + ".10:2222", Backend: "iproute", Hostname: "val-sensor.plant.example",
		AuthorizedKey: pub, Monitor: []string{"mon0", "mon1"}})
	f := kit.Sensor(t, "val-sensor", "val-sensor.plant.example", net3+".10")

	// The SPAN traffic: Modbus/TCP on mon0, other traffic on mon1.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go replay(ctx, t, peers[0], pcaps[0])
	go otherTraffic(ctx, t, peers[1], net3)

	sess := &provision.Session{KnownHosts: filepath.Join(t.TempDir(), "known_hosts"), AcceptNew: func(*sshconn.UnknownHostError) bool { return true },
		Check:       provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)},
		PushOptions: provision.Options{Validate: true, VerifyTimeout: 15 * time.Second}}
	row := provision.Row{Line: 2, Sensor: "val-sensor", Address: net3 + ".10", SSHPort: 2222, User: "provision", Auth: provision.AuthKey, KeyFile: keyFile,
		Interface: "eth0", NewIP: net3 + ".10", NewMask: "24", NewGateway: net3 + ".1", NewDNS: []string{net3 + ".53"},
		NewHostname: "val-sensor.plant.example", Activation: f.Activation, Cert: f.Cert, Key: f.Key, Chain: kit.ChainPEM, ConsolePort: 8443}
	res, err := sess.Push(context.Background(), row, nil)
	if err != nil || res.Outcome != provision.OutcomeDone || res.Validation == nil {
		t.Fatalf("push: %v %+v\n%s", err, res, app.Log.String())
	}
	// The engine reports every few seconds: ask until both ports have
	// reported traffic.
	target := provision.Target{Addr: net3 + ".10:2222", User: "provision", Auth: sshconn.Auth{KeyFile: keyFile}, PinnedKey: res.PinnedKey}
	var st map[string]provision.ValidationCheck
	v := res.Validation
	for deadline := time.Now().Add(30 * time.Second); ; {
		st = map[string]provision.ValidationCheck{}
		for _, c := range v.Checks {
			st[c.Check+" "+c.Target] = c
		}
		m0, m1 := st["capture mon0"], st["capture mon1"]
		if m0.Capture != nil && m1.Capture != nil && m0.Capture.PacketsPerSecond > 0 && m1.Capture.PacketsPerSecond > 0 && m0.Status == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitoring ports never reported their traffic: %s %+v\n%s", v.Verdict, st, app.Log.String())
		}
		time.Sleep(time.Second)
		if v, err = sess.Validate(context.Background(), target); err != nil {
			t.Fatal(err)
		}
	}
	m0, m1 := st["capture mon0"], st["capture mon1"]
	for _, c := range v.Checks {
		t.Logf("%s %s %s: %s", c.Check, c.Target, c.Status, c.Detail)
	}
	if strings.Join(m0.Capture.OTProtocols, ",") != "modbus" || !strings.Contains(m0.Detail, "OT protocols: modbus") {
		t.Errorf("mon0, the right SPAN port: %+v %+v", m0, m0.Capture)
	}
	if m1.Status != "warning" || len(m1.Capture.OTProtocols) != 0 || !strings.Contains(m1.Detail, "no OT protocol in the last minute") {
		t.Errorf("mon1, the wrong SPAN port: %+v %+v", m1, m1.Capture)
	}
	if g := st["gateway "+net3+".1"]; g.Status != "ok" {
		t.Errorf("gateway: %+v", g)
	}
	if d := st["dns "+net3+".53"]; d.Status != "ok" || !strings.Contains(d.Detail, "val-sensor.plant.example is "+net3+".10") {
		t.Errorf("dns: %+v", d)
	}
	if !v.OK || !strings.HasPrefix(v.Verdict, "validated with") {
		t.Errorf("verdict %q", v.Verdict)
	}
}

// sendFrames opens a raw AF_PACKET socket on iface for writing frames.
func sendFrames(t *testing.T, iface string) int {
	t.Helper()
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		t.Error(err)
		return -1
	}
	proto := binary.BigEndian.Uint16([]byte{0x00, 0x03}) // ETH_P_ALL, network order
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(proto))
	if err != nil {
		t.Error(err)
		return -1
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		syscall.Close(fd)
		t.Error(err)
		return -1
	}
	return fd
}

// replay writes the capture's Ethernet frames to iface, again and again,
// until ctx ends.
func replay(ctx context.Context, t *testing.T, iface, pcap string) {
	fd := sendFrames(t, iface)
	if fd < 0 {
		return
	}
	defer syscall.Close(fd)
	for ctx.Err() == nil {
		f, err := capture.Open(pcap)
		if err != nil {
			t.Error(err)
			return
		}
		for ctx.Err() == nil {
			data, ci, err := f.Next()
			if err == io.EOF {
				break
			}
			if err != nil || ci.LinkType != 1 {
				continue
			}
			syscall.Write(fd, data)
			time.Sleep(2 * time.Millisecond)
		}
		f.Close()
	}
}

// otherTraffic writes UDP frames that are no industrial protocol to
// iface until ctx ends.
func otherTraffic(ctx context.Context, t *testing.T, iface, net3 string) {
	fd := sendFrames(t, iface)
	if fd < 0 {
		return
	}
	defer syscall.Close(fd)
	src, dst := netip.MustParseAddr(net3+".100").As4(), netip.MustParseAddr(net3+".101").As4()
	payload := []byte("not an industrial protocol")
	for ctx.Err() == nil {
		frame := make([]byte, 0, 64)
		frame = append(frame, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00) // Ethernet, IPv4
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
		copy(ip[12:], src[:])
		copy(ip[16:], dst[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		udp := make([]byte, 8)
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 9999)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
		frame = append(append(append(frame, ip...), udp...), payload...)
		syscall.Write(fd, frame)
		time.Sleep(5 * time.Millisecond)
	}
}
