package provision_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
)

// A local-ca row pushed through Debian's real OpenSSH to sensorcore: the
// certificate is issued when the bundle is built, the appliance applies
// it, and its console serves exactly that certificate (the serial the CA
// recorded) over TLS.
func TestLocalCAPushThroughOpenSSH(t *testing.T) {
	t.Parallel()
	bin := needSensorcore(t)
	sshdtest.Require(t)
	kit := fleettest.New(t, time.Now().UTC())
	s, _, console, kh := openSSHSensor(t, bin, kit, "ed25519")

	dir, l := localCA(t, true)
	sess := &provision.Session{KnownHosts: kh, Check: provision.CheckOptions{ActivationRoots: mustRoots(t, kit.RootPub)},
		IssueLocal: provision.IssueFromLocalCA(l), PushOptions: provision.Options{VerifyTimeout: 10 * time.Second}}
	row := provision.Row{Line: 2, Sensor: "sensor-01", Address: "127.0.0.1", SSHPort: s.Port, User: s.User,
		Auth: provision.AuthKey, KeyFile: s.ClientKey, Interface: "eth0", NewIP: "198.18.0.10", NewAddress: "127.0.0.1", NewMask: "24",
		NewHostname: "sensor-01.plant.example", Activation: kit.Activation(t, "sensor-01"), CertSource: provision.CertLocalCA, ConsolePort: console}
	res, err := sess.Push(context.Background(), row, nil)
	if err != nil || res.Outcome != provision.OutcomeDone || !res.Activated {
		t.Fatalf("push: %v %+v\n%s", err, res, s.Logs())
	}
	st := caState(t, dir)
	if len(st.Issued) != 1 || !strings.Contains(res.CertIssued, st.Issued[0].Serial) {
		t.Fatalf("result %q, issued %+v", res.CertIssued, st.Issued)
	}
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", console), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	served := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	sum := sha256.Sum256(served.Raw)
	if hex.EncodeToString(served.SerialNumber.Bytes()) != st.Issued[0].Serial || hex.EncodeToString(sum[:]) != res.ServedFingerprint ||
		served.Subject.CommonName != "sensor-01.plant.example" {
		t.Fatalf("the console serves serial %x (CN %s), the CA issued %s", served.SerialNumber, served.Subject.CommonName, st.Issued[0].Serial)
	}
}
