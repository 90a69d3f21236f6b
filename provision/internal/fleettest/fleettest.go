package fleettest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"crypto"
	"crypto/x509"
	"encoding/pem"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/internal/sensorcorebin"
	"github.com/tapline/tapline/internal/syncbuf"
	"github.com/tapline/tapline/sensorcore/activation"
	"math/big"
)

// BuildSensorcore builds ./sensorcore/cmd/sensorcore of this module into dir.
func BuildSensorcore(dir string) (string, error) { return BuildSensorcoreVersion(dir, "") }

// BuildSensorcoreVersion builds sensorcore reporting version v (the
// linker's main.version; "" keeps the source's) into dir.
func BuildSensorcoreVersion(dir, v string) (string, error) { return sensorcorebin.Build(dir, v) }

// BuildTaplineCLI builds the headless tapline binary (-tags nogui,
// CGO_ENABLED=0, as `make build-cli` does) of this module into dir.
func BuildTaplineCLI(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	bin := filepath.Join(dir, "tapline-cli")
	cmd := exec.Command("go", "build", "-tags", "nogui", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build tapline-cli: %v: %s", err, out)
	}
	return bin, nil
}

// Kit is a lab activation authority and an openssl plant CA.
type Kit struct {
	Dir      string
	RootPub  string // path of the activation root public key (--trust-root)
	ChainPEM string // the CA certificate (chain column)
	// CRLDP, when set before Sensor, is the http:// CRL distribution point
	// its certificates carry (for certificate validation).
	CRLDP  string
	signer ed25519.PrivateKey
	cert   activation.SignedSignerCert
	now    time.Time
	mu     sync.Mutex
	serial int
}

// New makes the authority and CA in a temporary directory.
func New(t testing.TB, now time.Time) *Kit {
	t.Helper()
	needs.Tool(t, "openssl", "openssl (it makes the test's certificates)")
	dir := t.TempDir()
	rpub, rpriv, _ := ed25519.GenerateKey(rand.Reader)
	spub, spriv, _ := ed25519.GenerateKey(rand.Reader)
	sc, err := activation.CertifySigner(rpriv, spub, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	k := &Kit{Dir: dir, RootPub: filepath.Join(dir, "root.pub"), ChainPEM: filepath.Join(dir, "ca.crt"), signer: spriv, cert: sc, now: now}
	if err := os.WriteFile(k.RootPub, activation.MarshalPublicKey(rpub), 0o644); err != nil {
		t.Fatal(err)
	}
	openssl(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-days", "3650",
		"-subj", "/C=DE/O=Example Plant/OU=OT/CN=Example Plant Test CA",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
		"-keyout", "ca.key", "-out", "ca.crt")
	return k
}

func openssl(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Files are one sensor's activation file and certificate material.
type Files struct {
	Activation, Cert, Key string
}

// Sensor issues an activation file for name and an RSA-2048 certificate for
// hostname with IP SANs ips, signed by the kit's CA.
func (k *Kit) Sensor(t testing.TB, name, hostname string, ips ...string) Files {
	t.Helper()
	act, n := k.activation(t, name)
	f := Files{Activation: act, Cert: filepath.Join(k.Dir, name+".crt"), Key: filepath.Join(k.Dir, name+".key")}
	san := "DNS:" + hostname
	for _, ip := range ips {
		san += ",IP:" + ip
	}
	ext := filepath.Join(k.Dir, name+".ext")
	exts := "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=" + san + "\n"
	if k.CRLDP != "" {
		exts += "crlDistributionPoints=URI:" + k.CRLDP + "\n"
	}
	os.WriteFile(ext, []byte(exts), 0o644)
	openssl(t, k.Dir, "req", "-newkey", "rsa:2048", "-sha256", "-nodes", "-subj", "/C=DE/O=Example Plant/OU=OT/CN="+hostname,
		"-keyout", name+".key", "-out", name+".csr")
	openssl(t, k.Dir, "x509", "-req", "-in", name+".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", fmt.Sprint(1000+n),
		"-days", "365", "-sha256", "-extfile", name+".ext", "-out", name+".crt")
	return f
}

// Activation writes only an activation file for name (a sensor whose
// certificate comes from elsewhere) and returns its path.
func (k *Kit) Activation(t testing.TB, name string) string {
	t.Helper()
	p, _ := k.activation(t, name)
	return p
}

func (k *Kit) activation(t testing.TB, name string) (string, int) {
	k.mu.Lock()
	k.serial++
	n := k.serial
	k.mu.Unlock()
	act, err := activation.Issue(activation.Request{SensorID: fmt.Sprintf("SN-T-%04d", n), SensorName: name, Site: "test", Zone: "ot",
		PlanID: "lab", DeviceCount: 100, Mode: activation.ModeLocal, Expires: k.now.AddDate(1, 0, 0)}, k.signer, k.cert, k.now)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(k.Dir, name+".tapact")
	if err := os.WriteFile(p, act, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, n
}

// ApplianceOptions shape one `sensorcore serve`.
type ApplianceOptions struct {
	Root          string // the sensor's root (default: a temp dir)
	TrustRoot     string
	ReleaseRoot   string // --release-root (install-core's lab release root)
	SSHListen     string // --ssh-listen
	ConsoleListen string // --console-listen
	DialAddr      string // where the test reaches the SSH listener (default SSHListen)
	Backend       string // network backend (default none)
	Netns         string // run inside `ip netns exec NETNS`
	Hostname      string
	AuthorizedKey ssh.PublicKey
	// Monitor lists monitoring ports (serve --monitor IFACE).
	Monitor []string
}

// Appliance is a running sensorcore serve.
type Appliance struct {
	Root    string
	HostKey ssh.PublicKey
	Log     *syncbuf.Buffer
	cmd     *exec.Cmd
	done    chan struct{}
}

// Hostname is the host name the appliance's process sees (its UTS
// namespace when it runs in a network namespace).
func (a *Appliance) Hostname(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("nsenter", "--target", strconv.Itoa(a.cmd.Process.Pid), "--uts", "hostname").Output()
	if err != nil {
		t.Fatalf("host name of pid %d: %v", a.cmd.Process.Pid, err)
	}
	return strings.TrimSpace(string(out))
}

// StartAppliance starts sensorcore serve and waits until its SSH listener
// answers. It is killed when the test ends.
func StartAppliance(t testing.TB, bin string, o ApplianceOptions) *Appliance {
	t.Helper()
	if o.Root == "" {
		o.Root = t.TempDir()
	}
	if o.Backend == "" {
		o.Backend = "none"
	}
	if o.DialAddr == "" {
		o.DialAddr = o.SSHListen
	}
	etc := filepath.Join(o.Root, "etc", "sensorcore")
	if err := os.MkdirAll(etc, 0o700); err != nil {
		t.Fatal(err)
	}
	if o.AuthorizedKey != nil {
		if err := os.WriteFile(filepath.Join(etc, "authorized_keys"), ssh.MarshalAuthorizedKey(o.AuthorizedKey), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{bin, "serve", "--root", o.Root, "--console-listen", o.ConsoleListen,
		"--trust-root", o.TrustRoot, "--tick", "100ms", "--network-backend", o.Backend}
	if o.SSHListen != "" {
		args = append(args, "--ssh-listen", o.SSHListen)
	} else if o.DialAddr == "" {
		o.DialAddr = o.ConsoleListen
	}
	if o.Hostname != "" {
		args = append(args, "--hostname", o.Hostname)
	}
	for _, m := range o.Monitor {
		args = append(args, "--monitor", m)
	}
	if o.ReleaseRoot != "" {
		args = append(args, "--release-root", o.ReleaseRoot)
	}
	if o.Netns != "" {
		// Its own UTS namespace too: the iproute backend sets the host
		// name of the namespace sensorcore runs in, never the host's.
		args = append([]string{"unshare", "--uts", "--", "ip", "netns", "exec", o.Netns}, args...)
	}
	a := &Appliance{Root: o.Root, Log: &syncbuf.Buffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(args[0], args[1:]...)
	a.cmd.Stdout, a.cmd.Stderr = a.Log, a.Log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); close(a.done) }()
	t.Cleanup(a.Kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-a.done:
			t.Fatalf("sensorcore serve exited: %s", a.Log.String())
		default:
		}
		raw, err := os.ReadFile(filepath.Join(etc, "ssh_host_ed25519_key.pub"))
		if err == nil || o.SSHListen == "" {
			if c, err := net.DialTimeout("tcp", o.DialAddr, time.Second); err == nil {
				c.Close()
				if o.SSHListen != "" {
					if a.HostKey, _, _, _, err = ssh.ParseAuthorizedKey(raw); err != nil {
						t.Fatal(err)
					}
				}
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sensorcore serve did not answer on %s: %s", o.DialAddr, a.Log.String())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// Kill ends the appliance at once.
func (a *Appliance) Kill() {
	select {
	case <-a.done:
		return
	default:
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
}

// KnownHostsLine is a known_hosts line for the appliance at addr.
func (a *Appliance) KnownHostsLine(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	h := host
	if port != "22" {
		h = "[" + host + "]:" + port
	}
	return h + " " + string(ssh.MarshalAuthorizedKey(a.HostKey))
}

// CRL writes a CRL (PEM) signed by the kit's CA, valid from an hour before
// the kit's time for a week, revoking the given serials, and returns its path.
func (k *Kit) CRL(t testing.TB, name string, revoked ...int64) string {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(k.Dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(k.Dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode(caPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("fleettest: the CA's PEM files are unreadable")
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: k.now.Add(-time.Hour)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: k.now.Add(-time.Hour),
		NextUpdate: k.now.AddDate(0, 0, 7), RevokedCertificateEntries: entries}, ca, key.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(k.Dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
