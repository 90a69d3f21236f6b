package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/activation"
)

// exampleMarker marks a folder batch example made, so that only such a
// folder is ever replaced.
const exampleMarker = ".tapline-example"

// exampleSensors are the example site's sensors: their install address now
// and their plant address after the push (192.0.2.0/24, documentation
// addresses only).
var exampleSensors = []struct{ name, address, newIP, mask, dns, proxy, auth, keyFile string }{
	{"sensor-01", "192.0.2.11", "192.0.2.111", "255.255.255.0", "192.0.2.53;192.0.2.54", "", "agent", ""},
	{"sensor-02", "192.0.2.12", "192.0.2.112", "24", "192.0.2.53", "http://proxy.plant.example:3128", "key", "~/.ssh/id_ed25519"},
	{"sensor-03", "192.0.2.13:2222", "192.0.2.113", "24", "192.0.2.53", "", "password", ""},
}

// batchExample writes the example site: DIR/site-a.csv and, under
// DIR/site-a/, a LAB/DEMO activation authority's public files, each
// sensor's activation file issued now, a lab plant CA's root and each
// sensor's certificate, key and chain issued now. Activation files must be
// uploaded within 14 days of issue, so the example is remade rather than
// kept: run it again on any later day. The authority's and the CA's
// private keys are never written.
func batchExample(env *Env, args []string) int {
	fs := newFlags(env, "batch example")
	out := fs.String("out", "examples", "folder for site-a.csv and site-a/ (site-a/ is replaced only when an earlier run made it)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		env.Errorf("batch example: unexpected argument %q; the folder is --out", fs.Arg(0))
		return ExitUsage
	}
	site := filepath.Join(*out, "site-a")
	if err := checkExampleFolder(site); err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	tmp, err := os.MkdirTemp(*out, ".site-a.new-")
	if err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	now := env.Now().UTC()
	if err := writeExampleSite(tmp, now); err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	// Swap the new folder in; the old one (an earlier example) goes.
	old := ""
	if _, err := os.Stat(site); err == nil {
		old = tmp + ".old"
		if err := os.Rename(site, old); err != nil {
			env.Errorf("batch example: %v", err)
			return ExitUsage
		}
	}
	if err := os.Rename(tmp, site); err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	if old != "" {
		os.RemoveAll(old)
	}
	csvPath := filepath.Join(*out, "site-a.csv")
	if err := safefile.WriteFile(csvPath, exampleCSV(), 0o644); err != nil {
		env.Errorf("batch example: %v", err)
		return ExitUsage
	}
	root := filepath.Join(site, "demo-authority", "demo-root.pub")
	fmt.Fprintf(env.Stdout, "example site written: %s and %s/ (activation files and certificates issued %s; upload window ends %s)\n",
		csvPath, site, now.Format("2006-01-02 15:04Z"), now.Add(activation.UploadWindow).Format("2006-01-02"))
	fmt.Fprintf(env.Stdout, "check it offline with:\n  tapline batch check %s --trust-root %s\n", csvPath, root)
	return ExitOK
}

// checkExampleFolder refuses to replace a folder batch example did not make.
func checkExampleFolder(site string) error {
	ents, err := os.ReadDir(site)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(ents) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(site, exampleMarker)); err != nil {
		return fmt.Errorf("%s exists and was not made by 'tapline batch example' (no %s in it): choose another --out", site, exampleMarker)
	}
	return nil
}

// writeExampleSite makes the example's material in dir, issued at now.
func writeExampleSite(dir string, now time.Time) error {
	for _, d := range []string{"demo-authority", "activation", "ca", "certs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	write := func(name string, data []byte, mode os.FileMode) error {
		return safefile.WriteFile(filepath.Join(dir, name), data, mode)
	}
	if err := write(exampleMarker, []byte("made by 'tapline batch example' "+now.Format(time.RFC3339)+"; it replaces this folder when run again\n"), 0o644); err != nil {
		return err
	}
	// A LAB/DEMO activation authority: a root and a certified signer, kept
	// in memory; only the root's public key and the signer's certificate
	// are written.
	rpub, rpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	spub, spriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	sc, err := activation.CertifySigner(rpriv, spub, now.Add(-time.Hour), now.AddDate(2, 0, 0))
	if err != nil {
		return err
	}
	if err := write("demo-authority/demo-root.pub", activation.MarshalPublicKey(rpub), 0o644); err != nil {
		return err
	}
	if err := write("demo-authority/demo-signer.cert", activation.MarshalSignerCert(sc), 0o644); err != nil {
		return err
	}
	// A lab plant CA: RSA 2048, SHA-256, C/O/OU as sensors expect.
	c, err := ca.Init(ca.InitOptions{Name: "Example Plant Root CA", Country: "DE", Organization: "Example Plant", OrgUnit: "OT", Now: now.Add(-time.Hour)})
	if err != nil {
		return err
	}
	var chain []byte
	for i, s := range exampleSensors {
		act, err := activation.Issue(activation.Request{SensorID: fmt.Sprintf("SN-A-%04d", i+1), SensorName: s.name, Site: "site-a", Zone: "ot-1",
			PlanID: "lab", DeviceCount: 500, Mode: activation.ModeLocal, Expires: now.AddDate(1, 0, 0)}, spriv, sc, now)
		if err != nil {
			return err
		}
		if err := write("activation/"+s.name+".tapact", act, 0o644); err != nil {
			return err
		}
		is, err := c.Issue(ca.IssueRequest{Hostname: s.name + ".plant.example", IP: netip.MustParseAddr(s.newIP), Validity: 825 * 24 * time.Hour, Now: now.Add(-time.Hour)})
		if err != nil {
			return err
		}
		if err := write("certs/"+s.name+".crt", is.CertPEM, 0o644); err != nil {
			return err
		}
		if err := write("certs/"+s.name+".key", is.KeyPEM, 0o600); err != nil {
			return err
		}
		chain = is.ChainPEM
	}
	if err := write("certs/chain.pem", chain, 0o644); err != nil {
		return err
	}
	return write("ca/root.crt", chain, 0o644)
}

// exampleCSV is the example site's inventory (docs/inventory.md).
func exampleCSV() []byte {
	var b strings.Builder
	b.WriteString("# Site A: three sensors moved from their install addresses to the plant plan.\n")
	b.WriteString("# Columns: docs/inventory.md. Passwords never go here (TAPLINE_SSH_PASSWORD). Made by 'tapline batch example'.\n")
	b.WriteString("sensor,address,ssh_user,auth,key_file,interface,new_ip,new_mask,new_gateway,new_dns,new_hostname,proxy,activation,cert_source,cert,key,chain\n")
	for _, s := range exampleSensors {
		fmt.Fprintf(&b, "%s,%s,admin,%s,%s,eth0,%s,%s,192.0.2.1,%s,%s.plant.example,%s,site-a/activation/%s.tapact,files,site-a/certs/%s.crt,site-a/certs/%s.key,site-a/certs/chain.pem\n",
			s.name, s.address, s.auth, s.keyFile, s.newIP, s.mask, s.dns, s.name, s.proxy, s.name, s.name, s.name)
	}
	return []byte(b.String())
}
