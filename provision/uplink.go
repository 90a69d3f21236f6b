package provision

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// uplinkPaths are the files a row's uplink takes: from its columns, or
// those site init made for the sensor beside site.json.
type uplinkPaths struct {
	conf                *siteconf.SiteConfig
	ca, cert, key, cred string
	proxy               bool // the proxy client certificate serves
}

// uplinkPaths reads the row's site.json and names the uplink's files.
func (r Row) uplinkPaths() (*uplinkPaths, error) {
	sc, err := siteconf.ReadSiteConfig(r.Uplink)
	if err != nil {
		return nil, &netconf.FieldError{Field: "uplink", Msg: fmt.Sprintf("%v (give the site.json tapline site init wrote)", err)}
	}
	dir := filepath.Join(filepath.Dir(r.Uplink), siteconf.CredsDir)
	tok := site.Token(r.Sensor)
	p := &uplinkPaths{conf: sc, ca: sc.CA, cert: r.UplinkCert, key: r.UplinkKey, cred: r.UplinkCredential}
	switch {
	case p.cert == netconf.UplinkCertProxy:
		p.proxy, p.cert, p.key = true, "", ""
	case p.cert == "" && p.key == "":
		p.cert, p.key = filepath.Join(dir, tok+"-client.crt"), filepath.Join(dir, tok+"-client.key")
	case p.cert == "" || p.key == "":
		return nil, &netconf.FieldError{Field: "uplink_cert", Msg: "give both uplink_cert and uplink_key, or neither (site init's), or uplink_cert=proxy"}
	}
	if p.cred == "" {
		p.cred = filepath.Join(dir, tok+".nk")
	}
	return p, nil
}

// uplinkSettings is settings.json's uplink for the row.
func (p *uplinkPaths) settings() *netconf.Uplink {
	u := &netconf.Uplink{Site: p.conf.Site, Servers: p.conf.Servers}
	if p.proxy {
		u.ClientCert = netconf.UplinkCertProxy
	}
	return u
}

// CheckUplink is the offline check of the row's uplink files (the
// TL-SITE findings of batch check), for the setup wizard.
func CheckUplink(row Row, o CheckOptions) []certs.Finding { return checkUplink(row, o) }

// checkUplink checks the row's uplink files as the sensor will use them
// (site.CheckClient: the CA, the credential, the client certificate's
// key, validity, clientAuth usage and chain to the CA).
func checkUplink(row Row, o CheckOptions) []certs.Finding {
	p, err := row.uplinkPaths()
	if err != nil {
		return nil // Settings reports it (TL-INV-002)
	}
	f := site.ClientFiles{CAName: filepath.Base(p.ca), CertName: filepath.Base(p.cert), KeyName: filepath.Base(p.key),
		CredName: filepath.Base(p.cred), Passphrase: o.CertPassphrase}
	if p.proxy {
		p.cert, p.key = row.ProxyCert, row.ProxyKey
		f.CertName, f.KeyName = filepath.Base(p.cert), filepath.Base(p.key)
	}
	var out []certs.Finding
	for _, x := range []struct {
		col, path string
		dst       *[]byte
	}{{"uplink (its ca.pem)", p.ca, &f.CA}, {"uplink_cert", p.cert, &f.Cert}, {"uplink_key", p.key, &f.Key}, {"uplink_credential", p.cred, &f.Credential}} {
		if x.path == "" {
			continue // the proxy's, which Settings requires
		}
		b, err := os.ReadFile(x.path)
		if err != nil {
			out = append(out, errFinding(CodeUnreadable, "uplink: "+err.Error(), "check the "+x.col+" column (tapline site init writes these files for each sensor it names)"))
			continue
		}
		*x.dst = b
	}
	if len(out) > 0 {
		return out
	}
	return site.CheckClient(f, o.Now)
}

// uplinkFiles are the bundle's uplink files for row: the CA, the
// credential and, unless the proxy's serves, the client certificate
// (clean PEM) and its key (unencrypted PKCS#8: the passphrase does not
// travel).
func (s *Session) uplinkFiles(row Row, files map[bundle.Role][]byte) error {
	p, err := row.uplinkPaths()
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(p.ca)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	cred, err := os.ReadFile(p.cred)
	if err != nil {
		return fmt.Errorf("uplink_credential: %w", err)
	}
	files[bundle.RoleUplinkCA], files[bundle.RoleUplinkCredential] = ca, cred
	if p.proxy {
		return nil
	}
	c, k, err := s.clientPair(p.cert, p.key, "uplink_cert", "uplink_key")
	if err != nil {
		return err
	}
	files[bundle.RoleUplinkClientCert], files[bundle.RoleUplinkClientKey] = c, k
	return nil
}

// clientPair reads a client certificate and its key as a bundle carries
// them: the certificates as clean PEM, the key unencrypted PKCS#8 PEM
// (docs/formats.md).
func (s *Session) clientPair(certPath, keyPath, certCol, keyCol string) (cert, key []byte, err error) {
	raw, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certCol, err)
	}
	cs, err := certs.ParseCertificates(raw)
	if err != nil || len(cs) == 0 {
		return nil, nil, fmt.Errorf("%s %s: %v", certCol, filepath.Base(certPath), err)
	}
	for _, c := range cs {
		cert = append(cert, pemCert(c.Raw)...)
	}
	raw, err = os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyCol, err)
	}
	k, err := certs.ParsePrivateKey(raw, s.Secrets.CertPassphrase)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", keyCol, filepath.Base(keyPath), err)
	}
	if key, err = certs.MarshalPrivateKeyPEM(rand.Reader, k, nil); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}
