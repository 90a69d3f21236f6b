package provision_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/dnstest"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/sshconn"
)

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestFleetInNamespaces: six appliances, each `sensorcore serve` with the
// embedded listener and the iproute backend inside its own network
// namespace, wired by veth to a bridge in the root namespace. Addresses
// come only from 198.19.0.0/16 (inside 198.18.0.0/15). A first batch sets
// them up: one's first setup cuts it off, and it rolls back by itself to
// its factory network (generation 0). A second moves them all to a new
// subnet: four (the rolled-back one among them) are confirmed from their
// new addresses and verified over TLS, one gets a gateway/subnet that cuts
// it off and rolls back to generation 1, one has a changed host key and is
// refused while the others go on. Everything the test creates is deleted,
// also on failure.
func TestFleetInNamespaces(t *testing.T) {
	needs.Root(t, "creates network namespaces, veths and a bridge")
	needs.Tool(t, "ip", "iproute2")
	bin := needSensorcore(t)
	t.Parallel()
	var rb [2]byte
	rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	// The subnet now, the one after, and the unreachable one.
	nets := fleettest.HostSubnets(t, 3)
	oldNet, newNet, badNet := nets[0], nets[1], nets[2]
	br := "tlpbr" + tag
	const n = 6
	ns := func(i int) string { return fmt.Sprintf("tlp%s-%d", tag, i) }
	t.Cleanup(func() {
		for i := 0; i < n; i++ {
			exec.Command("ip", "netns", "del", ns(i)).Run() // takes the veth peer with it
			exec.Command("ip", "link", "del", fmt.Sprintf("tlpv%s%d", tag, i)).Run()
		}
		exec.Command("ip", "link", "del", br).Run()
		exec.Command("ip", "route", "del", "unreachable", badNet+".0/24").Run()
	})
	ipCmd(t, "link", "add", br, "type", "bridge")
	ipCmd(t, "addr", "add", oldNet+".1/24", "dev", br)
	ipCmd(t, "addr", "add", newNet+".1/24", "dev", br)
	ipCmd(t, "link", "set", br, "up")
	// The cut-off subnet must never leave this host through a default route.
	ipCmd(t, "route", "add", "unreachable", badNet+".0/24")

	kit := fleettest.New(t, time.Now().UTC())
	keyFile, pub := clientKey(t)
	factoryName, _ := os.Hostname() // each appliance's UTS namespace starts with it
	apps := make([]*fleettest.Appliance, n)
	for i := 0; i < n; i++ {
		veth, peer := fmt.Sprintf("tlpv%s%d", tag, i), fmt.Sprintf("tlpp%s%d", tag, i)
		ipCmd(t, "netns", "add", ns(i))
		ipCmd(t, "link", "add", veth, "type", "veth", "peer", "name", peer)
		ipCmd(t, "link", "set", peer, "netns", ns(i))
		ipCmd(t, "-n", ns(i), "link", "set", peer, "name", "eth0")
		ipCmd(t, "-n", ns(i), "link", "set", "lo", "up")
		ipCmd(t, "-n", ns(i), "addr", "add", fmt.Sprintf("%s.%d/24", oldNet, 10+i), "dev", "eth0")
		ipCmd(t, "-n", ns(i), "link", "set", "eth0", "up")
		ipCmd(t, "-n", ns(i), "route", "add", "default", "via", oldNet+".1")
		ipCmd(t, "link", "set", veth, "master", br)
		ipCmd(t, "link", "set", veth, "up")
	}
	for i := 0; i < n; i++ {
		apps[i] = fleettest.StartAppliance(t, bin, fleettest.ApplianceOptions{Netns: ns(i), TrustRoot: kit.RootPub, SSHListen: ":2222",
			ConsoleListen: ":8443", DialAddr: fmt.Sprintf("%s.%d:2222", oldNet, 10+i), Backend: "iproute",
			Hostname: fmt.Sprintf("ns-sensor-%d.plant.example", i), AuthorizedKey: pub})
	}
	dir := t.TempDir()
	files := make([]fleettest.Files, n)
	for i := 0; i < n; i++ {
		files[i] = kit.Sensor(t, fmt.Sprintf("ns-sensor-%d", i), fmt.Sprintf("ns-sensor-%d.plant.example", i),
			fmt.Sprintf("%s.%d", oldNet, 10+i), fmt.Sprintf("%s.%d", newNet, 10+i), fmt.Sprintf("%s.%d", badNet, 10+i))
	}
	inventory := func(name string, move bool) *provision.Inventory {
		var b strings.Builder
		b.WriteString("sensor,address,ssh_port,ssh_user,auth,key_file,new_ip,new_mask,new_gateway,new_dns,new_hostname,activation,cert,key,chain,console_port\n")
		for i := 0; i < n; i++ {
			ip, gw := fmt.Sprintf("%s.%d", oldNet, 10+i), oldNet+".1"
			cut := (!move && i == 4) || (move && i == 3)
			if move {
				ip, gw = fmt.Sprintf("%s.%d", newNet, 10+i), newNet+".1"
			}
			if cut {
				ip, gw = fmt.Sprintf("%s.%d", badNet, 10+i), badNet+".1"
			}
			fmt.Fprintf(&b, "ns-sensor-%d,%s.%d,2222,provision,key,%s,%s,255.255.255.0,%s,%s.53,ns-sensor-%d.plant.example,%s,%s,%s,%s,8443\n",
				i, oldNet, 10+i, keyFile, ip, gw, oldNet, i, files[i].Activation, files[i].Cert, files[i].Key, kit.ChainPEM)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(b.String()), 0o600)
		inv, err := provision.ReadInventory(p)
		if err != nil {
			t.Fatal(err)
		}
		if rep := provision.Check(inv, provision.CheckOptions{Now: time.Now(), ActivationRoots: mustRoots(t, kit.RootPub)}); rep.HasErrors() {
			t.Fatalf("offline check of %s: %+v", name, rep)
		}
		return inv
	}
	kh := filepath.Join(dir, "known_hosts")
	opts := func(accept bool) provision.BatchOptions {
		trust := &sshconn.KnownHosts{File: kh}
		if accept {
			trust.Accept = func(*sshconn.UnknownHostError) bool { return true }
		}
		return provision.BatchOptions{Parallel: n, Retries: 1, Backoff: 200 * time.Millisecond,
			Prepare: (&provision.Session{Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}}).Prepare,
			Push: provision.Options{Trust: trust, ConfirmTimeout: 4 * time.Second, RollbackGrace: 500 * time.Millisecond,
				RetryEvery: 200 * time.Millisecond, VerifyTimeout: 10 * time.Second, SSH: sshconn.Options{Timeout: 2 * time.Second}}}
	}
	ctx := context.Background()
	rep, err := provision.RunBatch(ctx, inventory("setup.csv", false), opts(true))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Results {
		if i == 4 {
			// Its first setup cuts it off: the first apply armed the deadline
			// and the sensor went back to its factory network, generation 0.
			res := r.Result
			if res.Outcome != provision.OutcomeRolledBack || res.Generation != 0 || res.FinalAddr != fmt.Sprintf("%s.14:2222", oldNet) ||
				!strings.Contains(res.RollbackReason, "not confirmed before its rollback deadline") {
				t.Fatalf("first setup of the cut-off sensor: %+v\n%s", res, apps[i].Log.String())
			}
			continue
		}
		if r.Result.Outcome != provision.OutcomeDone {
			t.Fatalf("setup of sensor %d: %+v\n%s", i, r.Result, apps[i].Log.String())
		}
	}
	if out, _ := exec.Command("ip", "-n", ns(4), "-4", "-br", "addr", "show", "dev", "eth0").Output(); !strings.Contains(string(out), fmt.Sprintf("%s.14/24", oldNet)) {
		t.Fatalf("sensor 4 after its first setup rolled back: eth0 is %q, want its factory %s.14/24", strings.TrimSpace(string(out)), oldNet)
	}
	// Each sensor took its host name; the cut-off one is back on its factory
	// name with its factory address. The host's own name is untouched.
	for i := 0; i < n; i++ {
		want := fmt.Sprintf("ns-sensor-%d.plant.example", i)
		if i == 4 {
			want = factoryName
		}
		if h := apps[i].Hostname(t); h != want {
			t.Errorf("sensor %d after setup: host name %q, want %q", i, h, want)
		}
	}
	if h, _ := os.Hostname(); h != factoryName {
		t.Fatalf("the host's name changed from %q to %q", factoryName, h)
	}
	// Sensor 5's key in known_hosts is replaced: a changed host key.
	raw, _ := os.ReadFile(kh)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	p5, _, _ := ed25519.GenerateKey(rand.Reader)
	k5, _ := ssh.NewPublicKey(p5)
	for j, l := range lines {
		if strings.HasPrefix(l, fmt.Sprintf("[%s.15]:2222 ", oldNet)) {
			lines[j] = fmt.Sprintf("[%s.15]:2222 %s", oldNet, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k5))))
		}
	}
	os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	// A DNS server for the site, on the bridge (the sensors' DNS setting,
	// oldNet.53): it knows sensors 0 to 2 at their new addresses, not 4.
	ipCmd(t, "addr", "add", oldNet+".53/24", "dev", br)
	dnsConn, err := net.ListenPacket("udp", oldNet+".53:53")
	if err != nil {
		t.Fatal(err)
	}
	defer dnsConn.Close()
	known := map[string]netip.Addr{}
	for i := 0; i < 3; i++ {
		known[fmt.Sprintf("ns-sensor-%d.plant.example.", i)] = netip.MustParseAddr(fmt.Sprintf("%s.%d", newNet, 10+i))
	}
	go dnstest.Serve(dnsConn, known)

	start := time.Now()
	mo := opts(false)
	mo.Push.Validate = true
	rep, err = provision.RunBatch(ctx, inventory("move.csv", true), mo)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Results {
		res := r.Result
		switch i {
		case 3:
			if res.Validation != nil {
				t.Errorf("a rolled-back sensor was validated: %+v", res.Validation)
			}
			if res.Outcome != provision.OutcomeRolledBack || res.Generation != 1 || res.FinalAddr != fmt.Sprintf("%s.13:2222", oldNet) || r.Attempts != 1 {
				t.Errorf("cut-off sensor: attempts %d %+v\n%s", r.Attempts, res, apps[i].Log.String())
			}
		case 5:
			if res.Outcome != provision.OutcomeRefused || res.Step != provision.StepTrust || r.Attempts != 1 || !strings.Contains(res.Error, "CHANGED") {
				t.Errorf("changed host key: attempts %d %+v", r.Attempts, res)
			}
		default:
			want := fmt.Sprintf("%s.%d:2222", newNet, 10+i)
			// Sensor 4 moves from its factory state (its first setup rolled
			// back; generation 1 stays on disk, so this is generation 2).
			if res.Outcome != provision.OutcomeDone || res.FinalAddr != want || res.Generation != 2 || !res.Activated || len(res.ServedFingerprint) != 64 {
				t.Errorf("sensor %d: %+v\n%s", i, res, apps[i].Log.String())
			}
			// Validated where it lives: its gateway (the bridge) answers
			// ping, the site's DNS server answers and knows sensors 0-2 at
			// their new addresses (sensor 4 it does not: a warning).
			v := res.Validation
			if v == nil {
				t.Errorf("sensor %d not validated: %s", i, res.ValidationError)
				continue
			}
			st := map[string]string{}
			for _, c := range v.Checks {
				st[c.Check+" "+c.Target] = c.Status + ": " + c.Detail
			}
			wantDNS := "ok: answers: ns-sensor-"
			if i == 4 {
				wantDNS = "warning: answers, but does not know"
			}
			if !strings.HasPrefix(st["gateway "+newNet+".1"], "ok: answers ping") || !strings.HasPrefix(st["dns "+oldNet+".53"], wantDNS) ||
				!strings.HasPrefix(st["sanity console"], "ok") || v.Backend != "iproute" {
				t.Errorf("sensor %d validation: %s %v", i, v.Verdict, st)
			}
		}
	}
	t.Logf("move batch of %d sensors: %v (one waited out its rollback deadline)", n, time.Since(start).Round(time.Millisecond))
	// The moved sensors really live at their new address, the others at the old.
	for i := 0; i < n; i++ {
		out, _ := exec.Command("ip", "-n", ns(i), "-4", "-br", "addr", "show", "dev", "eth0").Output()
		want := fmt.Sprintf("%s.%d/24", newNet, 10+i)
		if i == 3 || i == 5 {
			want = fmt.Sprintf("%s.%d/24", oldNet, 10+i)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("sensor %d: eth0 is %q, want %s", i, strings.TrimSpace(string(out)), want)
		}
	}
}

func mustRoots(t testing.TB, path string) []ed25519.PublicKey {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := activationParsePublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return []ed25519.PublicKey{k}
}
