package netconf

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// TestIPRouteInNamespace applies settings to a veth interface inside a
// network namespace the test creates, running this test binary under
// "unshare --uts ip netns exec" as the fleet tests run sensorcore: the host
// name it sets is its own UTS namespace's.
func TestIPRouteInNamespace(t *testing.T) {
	if os.Getenv("NETCONF_IN_NETNS") == "1" {
		ipRouteChild(t)
		return
	}
	needs.Root(t, "creates a network namespace")
	needs.Tool(t, "ip", "iproute2")
	ns := fmt.Sprintf("tlnetconf%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run("-n", ns, "link", "add", "mgmt0", "type", "veth", "peer", "name", "mgmt0p")
	run("-n", ns, "link", "set", "mgmt0p", "up")
	cmd := exec.Command("unshare", "--uts", "--", "ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestIPRouteInNamespace$", "-test.v")
	cmd.Env = append(os.Environ(), "NETCONF_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func ipRouteChild(t *testing.T) {
	self, _ := os.Readlink("/proc/self/ns/uts")
	host, _ := os.Readlink("/proc/1/ns/uts")
	if self == "" || self == host {
		t.Fatalf("not in a UTS namespace of its own (%q): refusing to set the host name", self)
	}
	n := Network{Interface: "mgmt0", Address: "198.18.5.10", Mask: "255.255.255.0", Gateway: "198.18.5.1", Hostname: "sensor-01.plant.example"}
	ctx := context.Background()
	if err := (IPRoute{}).Apply(ctx, "/", n); err != nil {
		t.Fatal(err)
	}
	live, err := ReadLive(ctx, "mgmt0", false)
	if err != nil {
		t.Fatal(err)
	}
	if m := live.Mismatches(n); len(m) != 0 {
		t.Fatalf("after apply: %v", m)
	}
	if h, err := LiveHostname(); err != nil || !HostnameMatches(h, n.Hostname) {
		t.Fatalf("host name after apply: %q %v", h, err)
	}
	if err := (IPRoute{}).SetHostname(ctx, "/", "factory-name"); err != nil {
		t.Fatal(err)
	}
	if h, _ := LiveHostname(); h != "factory-name" {
		t.Fatalf("host name after SetHostname: %q", h)
	}
	n2 := n
	n2.Address, n2.Gateway = "198.18.6.10", "198.18.6.1"
	if m := live.Mismatches(n2); len(m) == 0 {
		t.Fatal("mismatch not seen")
	}
	if err := (IPRoute{}).Apply(ctx, "/", n2); err != nil {
		t.Fatal(err)
	}
	live, _ = ReadLive(ctx, "mgmt0", false)
	if m := live.Mismatches(n2); len(m) != 0 {
		t.Fatalf("after second apply: %v (old address must be gone: %v)", m, live.Addresses)
	}
	v4 := 0
	for _, a := range live.Addresses {
		if !strings.Contains(a, ":") {
			v4++
		}
	}
	if v4 != 1 {
		t.Fatalf("addresses %v, want only the new one", live.Addresses)
	}
}
