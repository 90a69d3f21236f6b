package provision_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
)

// writeSSHConfig makes a home folder whose ~/.ssh/config is text and
// points HOME (USERPROFILE on Windows) at it.
func writeSSHConfig(t *testing.T, text string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// A push to the real sshd where only ~/.ssh/config says how to reach the
// sensor: the inventory names it "plant-sensor" and leaves ssh_user,
// ssh_port and key_file empty; the config gives HostName, Port, User,
// IdentityFile (with ~ and %n) and UserKnownHostsFile (with %d). The
// session's own known_hosts is empty and it accepts no new host, so the
// push only trusts the sensor through the config's known_hosts file.
func TestPushWithSSHConfig(t *testing.T) {
	bin := needSensorcore(t)
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}})
	kit := fleettest.New(t, time.Now().UTC())
	root := t.TempDir()
	console := sshdtest.FreePort(t)
	fleettest.StartAppliance(t, bin, fleettest.ApplianceOptions{Root: root, TrustRoot: kit.RootPub,
		ConsoleListen: fmt.Sprintf("127.0.0.1:%d", console), Hostname: "sensor-01.plant.example"})
	// The sshd account runs the appliance's wrapper, as on a sensor.
	s.Stop()
	s = sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"}, HostKeyDir: s.HostKeyDir,
		Extra: fmt.Sprintf("Match User %s\n  ForceCommand %s serve --ssh-command --root %s --trust-root %s\n", s.User, bin, root, kit.RootPub)})

	home := writeSSHConfig(t, fmt.Sprintf(`Host plant-*
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile ~/.ssh/id_%%n
  UserKnownHostsFile %%d/.ssh/known_hosts_plant
Host *
  User nobody-at-all
  Port 1
`, s.Port, s.User))
	key, err := os.ReadFile(s.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, ".ssh", "id_plant-sensor"), key, 0o600)
	os.WriteFile(filepath.Join(home, ".ssh", "known_hosts_plant"), []byte(s.KnownHostsLine()), 0o600)

	f := kit.Sensor(t, "sensor-01", "sensor-01.plant.example", "198.18.0.10")
	dir := t.TempDir()
	inv := filepath.Join(dir, "site.csv")
	os.WriteFile(inv, []byte("sensor,address,auth,new_ip,new_address,new_mask,new_hostname,activation,cert,key,chain,console_port\n"+
		fmt.Sprintf("sensor-01,plant-sensor,key,198.18.0.10,127.0.0.1,24,sensor-01.plant.example,%s,%s,%s,%s,%d\n",
			f.Activation, f.Cert, f.Key, kit.ChainPEM, console)), 0o600)
	in, err := provision.ReadInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	row := in.Rows[0]
	if row.User != s.User || row.SSHPort != s.Port || row.KeyFile != filepath.Join(home, ".ssh", "id_plant-sensor") || row.SSHAddr() != s.Addr {
		t.Fatalf("row from ~/.ssh/config: %+v", row)
	}
	sess := &provision.Session{KnownHosts: filepath.Join(t.TempDir(), "empty_known_hosts"),
		Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)}}
	res, err := sess.Push(context.Background(), row, nil)
	if err != nil || res.Outcome != provision.OutcomeDone || !res.Activated {
		t.Fatalf("push with ~/.ssh/config: %v %+v\n%s", err, res, s.Logs())
	}
}

// What ~/.ssh/config asks and Tapline does not do is refused at reading
// the inventory, naming the file, its line and the directive; the
// inventory's own columns win over the configuration.
func TestInventorySSHConfigPrecedenceAndRefusals(t *testing.T) {
	head := "sensor,address,ssh_user,ssh_port,auth,key_file,cert,key\n"
	home := writeSSHConfig(t, `Host direct
  User cfguser
  Port 2200
  HostName 192.0.2.5
Host hop
  ProxyJump gw.example
Host lax
  StrictHostKeyChecking no
`)
	cfg := filepath.Join(home, ".ssh", "config")
	key := filepath.Join(home, "k")
	os.WriteFile(key, []byte("x"), 0o600)
	inv, err := provision.ParseInventory(strings.NewReader(head+"s1,direct,,,key,"+key+",a,b\ns2,direct,admin,22,key,"+key+",a,b\n"), "/site", "site.csv")
	if err != nil {
		t.Fatal(err)
	}
	if r := inv.Rows[0]; r.User != "cfguser" || r.SSHPort != 2200 || r.SSHAddr() != "192.0.2.5:2200" {
		t.Errorf("config fills the empty columns: %+v", r)
	}
	if r := inv.Rows[1]; r.User != "admin" || r.SSHPort != 22 {
		t.Errorf("the inventory wins over the config: %+v", r)
	}
	for host, want := range map[string]string{
		"hop": cfg + " line 6: ProxyJump",
		"lax": cfg + " line 8: StrictHostKeyChecking no",
	} {
		_, err := provision.ParseInventory(strings.NewReader(head+"s1,"+host+",admin,,key,"+key+",a,b\n"), "/site", "site.csv")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: want one error naming %q, got %v", host, want, err)
		}
	}
	// A jump host from the inventory overrides the config's ProxyJump.
	if _, err := provision.ParseInventory(strings.NewReader("sensor,address,ssh_user,auth,key_file,jump,cert,key\ns1,hop,admin,key,"+key+",admin@192.0.2.1,a,b\n"), "/site", "site.csv"); err != nil {
		t.Errorf("jump column given: %v", err)
	}
}
