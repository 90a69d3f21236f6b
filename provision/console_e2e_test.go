package provision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tapline/tapline/internal/consoletest"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// post sends a console form and returns the status and where it leads.
func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// TestConsoleReset recovers the console's admin account end to end, through
// sensorcore's embedded SSH listener (provision.Session.ResetConsoleUser)
// and through Debian's OpenSSH with the ForceCommand wrapper (the tapline
// binary: `tapline console reset`), against a real `sensorcore serve`:
// admin is signed in at one address and locked out at another; the reset
// gives a one-time password that must be changed at once, ends the
// session, clears the lock, and the sensor's account log records it with
// the SSH account and address. Over the same channel nothing else about the
// accounts can be done: unlock, a reset of another account and a reset with
// another --root are refused and change nothing.
func TestConsoleReset(t *testing.T) {
	t.Parallel()
	bin := needSensorcore(t)
	kit := fleettest.New(t, time.Now().UTC())
	for _, mode := range []string{"embedded", "openssh"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			if mode == "openssh" {
				sshdtest.Require(t)
			}
			root := t.TempDir()
			consoleAddr := fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t))
			o := fleettest.ApplianceOptions{Root: root, TrustRoot: kit.RootPub, ConsoleListen: consoleAddr, Hostname: "sensor-01.plant.example"}
			keyFile, pub := clientKey(t)
			kh := filepath.Join(t.TempDir(), "known_hosts")
			var app *fleettest.Appliance
			var sshAddr, user string
			if mode == "embedded" {
				o.SSHListen, o.AuthorizedKey = fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t)), pub
				app = fleettest.StartAppliance(t, bin, o)
				sshAddr, user = o.SSHListen, "provision"
				os.WriteFile(kh, []byte(app.KnownHostsLine(sshAddr)), 0o600)
			} else {
				app = fleettest.StartAppliance(t, bin, o)
				s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519"},
					Extra: fmt.Sprintf("Match User %s\n  ForceCommand %s serve --ssh-command --root %s --trust-root %s\n  AllowTcpForwarding no\n  X11Forwarding no\n  PermitTTY no\n",
						"root", bin, root, kit.RootPub)})
				sshAddr, user, keyFile = s.Addr, s.User, s.ClientKey
				os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
				t.Cleanup(func() {
					if t.Failed() {
						t.Log(s.Logs())
					}
				})
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(app.Log.String())
				}
			})
			base := "https://" + consoleAddr
			initial := consoletest.InitialPasswords(t, root)
			// admin signs in at 127.0.0.3 and sets a password ...
			const pw = "Adm1n-Secret!"
			signedIn := consoletest.From("127.0.0.3")
			post(t, signedIn, base+"/login", url.Values{"user": {"admin"}, "password": {initial["admin"]}})
			if code, _ := post(t, signedIn, base+"/password", url.Values{"current": {initial["admin"]}, "new": {pw}, "confirm": {pw}}); code != http.StatusSeeOther {
				t.Fatalf("password change: %d", code)
			}
			// ... and is locked out at 127.0.0.2 by five failures there.
			locked := consoletest.From("127.0.0.2")
			for failures := 0; failures < 5; {
				code, _ := post(t, locked, base+"/login", url.Values{"user": {"admin"}, "password": {"wrong"}})
				switch code {
				case http.StatusUnauthorized:
					failures++
				case http.StatusTooManyRequests:
					if failures == 4 {
						failures++ // the fifth locked it
						continue
					}
					time.Sleep(300 * time.Millisecond) // the delay after a failure
				default:
					t.Fatalf("failure %d: %d", failures, code)
				}
			}
			if code, _ := post(t, locked, base+"/login", url.Values{"user": {"admin"}, "password": {pw}}); code != http.StatusTooManyRequests {
				t.Fatalf("admin is not locked at 127.0.0.2: %d", code)
			}

			host, port, _ := net.SplitHostPort(sshAddr)
			var res provision.ConsoleReset
			var err error
			if mode == "embedded" {
				sess := &provision.Session{KnownHosts: kh}
				res, err = sess.ResetConsoleUser(context.Background(), provision.Row{Sensor: "sensor-01", Address: host, SSHPort: atoi(port),
					User: user, Auth: provision.AuthKey, KeyFile: keyFile}, "admin")
				if err != nil {
					t.Fatalf("ResetConsoleUser: %v", err)
				}
			} else {
				cli, err := fleettest.BuildTaplineCLI(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(cli, "console", "reset", "--user", "admin", "--address", sshAddr, "--ssh-user", user,
					"--auth", "key", "--key-file", keyFile, "--known-hosts", kh, "--json")
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					t.Fatalf("tapline console reset: %v %s %s", err, out.String(), errb.String())
				}
				if err := json.Unmarshal(out.Bytes(), &res); err != nil {
					t.Fatalf("tapline console reset --json: %v: %s", err, out.String())
				}
			}
			if !res.OK || res.User != "admin" || !res.MustChange || len(res.Password) != 19 {
				t.Fatalf("reset: %+v", res)
			}
			// The session at 127.0.0.3 has ended; the old password is gone.
			resp, err := signedIn.Get(base + "/")
			if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Fatalf("admin's session after the reset: %v %v", err, resp)
			}
			if code, _ := post(t, consoletest.From("127.0.0.4"), base+"/login", url.Values{"user": {"admin"}, "password": {pw}}); code != http.StatusUnauthorized {
				t.Fatalf("the old password after the reset: %d", code)
			}
			// At the formerly locked address the one-time password signs in
			// and must be changed at once.
			if code, at := post(t, locked, base+"/login", url.Values{"user": {"admin"}, "password": {res.Password}}); code != http.StatusSeeOther || at != "/password" {
				t.Fatalf("one-time password from the formerly locked address: %d %s", code, at)
			}
			if resp, _ := locked.Get(base + "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
				t.Fatalf("the console before the one-time password is changed: %d", resp.StatusCode)
			}
			if code, at := post(t, locked, base+"/password", url.Values{"current": {res.Password}, "new": {"N3w-Adm1n-Pass"}, "confirm": {"N3w-Adm1n-Pass"}}); code != http.StatusSeeOther || at != "/" {
				t.Fatalf("changing the one-time password: %d %s", code, at)
			}
			logb, _ := os.ReadFile(filepath.Join(root, "var/lib/sensorcore/accounts.log"))
			if want := "reset: admin given a one-time password over SSH by " + user + " from 127.0.0.1"; !strings.Contains(string(logb), want) ||
				strings.Contains(string(logb), res.Password) {
				t.Fatalf("the account log lacks %q (or holds the password):\n%s", want, logb)
			}

			// Nothing else about the accounts goes over SSH.
			users := filepath.Join(root, "etc/sensorcore/console-users.json")
			before, _ := os.ReadFile(users)
			c, err := sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: sshAddr, User: user, Auth: sshconn.Auth{KeyFile: keyFile}},
				&sshconn.KnownHosts{File: kh}, sshconn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, cmd := range []string{"sensorcore console unlock admin", "sensorcore console reset --user root --json",
				"sensorcore console reset --user admin --root " + t.TempDir(), "sensorcore console log", "console reset --user admin; id"} {
				if code := exitOf(t, c.Client, cmd); code == 0 {
					t.Errorf("%q ran over SSH", cmd)
				}
			}
			if after, _ := os.ReadFile(users); !bytes.Equal(before, after) {
				t.Error("a refused command changed the console's accounts")
			}
		})
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// exitOf runs cmd over SSH and returns its exit status.
func exitOf(t *testing.T, c *ssh.Client, cmd string) int {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Run(cmd)
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return 0
}
