package provision_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapline/tapline/provision/internal/fleettest"
	"github.com/tapline/tapline/provision/internal/sshdtest"
	"github.com/tapline/tapline/provision/sshconn"
)

// Password sign-in against sensorcore's embedded listener (its
// ssh_passwords file holds a bcrypt hash), and keepalives on the session.
func TestPasswordAuthEmbedded(t *testing.T) {
	t.Parallel()
	bin := needSensorcore(t)
	kit := fleettest.New(t, time.Now().UTC())
	root := t.TempDir()
	etc := filepath.Join(root, "etc", "sensorcore")
	os.MkdirAll(etc, 0o700)
	hash, _ := bcrypt.GenerateFromPassword([]byte("Secret-1!"), bcrypt.MinCost)
	os.WriteFile(filepath.Join(etc, "ssh_passwords"), []byte("provision:"+string(hash)+"\n"), 0o600)
	addr := fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t))
	app := fleettest.StartAppliance(t, bin, fleettest.ApplianceOptions{Root: root, TrustRoot: kit.RootPub, SSHListen: addr,
		ConsoleListen: fmt.Sprintf("127.0.0.1:%d", sshdtest.FreePort(t))})
	trust := sshconn.Pinned{Key: app.HostKey}
	c, err := sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: addr, User: "provision", Auth: sshconn.Auth{Password: "Secret-1!"}},
		trust, sshconn.Options{KeepAlive: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("password sign-in: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // several keepalives answered
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("session after keepalives: %v", err)
	}
	if out, err := sess.Output("sensorcore version"); err != nil || len(out) == 0 {
		t.Fatalf("version: %v %q", err, out)
	}
	sess.Close()
	c.Close()
	_, err = sshconn.Dial(context.Background(), sshconn.Endpoint{Addr: addr, User: "provision", Auth: sshconn.Auth{Password: "wrong"}}, trust, sshconn.Options{})
	var ae *sshconn.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("wrong password: %v", err)
	}
}
