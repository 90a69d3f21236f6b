package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/plugin"
)

// Prepare implements BatchOptions.Prepare for the session: it checks the
// row, builds its bundle archive in memory and fills the target. Nothing is
// written to disk.
func (s *Session) Prepare(_ context.Context, row Row) (Prepared, error) {
	s.init()
	var out Prepared
	t, err := s.target(row)
	if err != nil {
		return out, err
	}
	out.Target = t
	if row.ProxyPassword == "" && row.Proxy != "" {
		row.ProxyPassword = s.Secrets.ProxyPassword
	}
	b, err := s.bundle(row, s.now())
	if err != nil {
		return out, fmt.Errorf("line %d: %s: %w", row.Line, row.Sensor, err)
	}
	if len(row.Plugins) > 0 {
		var key []byte
		if row.PluginKey != "" {
			if key, err = os.ReadFile(row.PluginKey); err != nil {
				return out, fmt.Errorf("line %d: %s: plugin_key: %w", row.Line, row.Sensor, err)
			}
		}
		if b.Plugins, err = LoadPlugins(row.Plugins, key); err != nil {
			b.Wipe()
			return out, fmt.Errorf("line %d: %s: %w", row.Line, row.Sensor, err)
		}
	}
	out.Bundle = b
	return out, nil
}

// target is how the session reaches row's sensor: address, user, the
// authentication the row names with the session's secrets, a jump host.
// Target is where and how the session reaches row's sensor (its address
// now, the reach address after a push, user, sign-in from the session's
// secrets, jump host), for work beside a push: Validate, a console reset.
func (s *Session) Target(row Row) (Target, error) { return s.target(row) }

func (s *Session) target(row Row) (Target, error) {
	t := Target{Sensor: row.Sensor, Addr: row.SSHAddr(), User: row.User, ConsolePort: row.ConsolePort}
	reach := row.NewAddress
	if reach == "" {
		reach = row.NewIP
	}
	if reach != "" && reach != row.Address && reach != t.Addr {
		t.NewAddr = reach
	}
	if len(row.KnownHostsFiles) > 0 {
		t.Trust = s.knownHostsTrust(row.KnownHostsFiles)
	}
	sec := s.Secrets
	switch row.Auth {
	case AuthKey:
		t.Auth = sshconn.Auth{KeyFile: row.KeyFile, MoreKeyFiles: row.MoreKeyFiles, Passphrase: sec.KeyPassphrase}
	case AuthAgent:
		if sec.AgentSocket == "" {
			return t, fmt.Errorf("line %d: auth agent but %w", row.Line, sshconn.ErrNoAgent)
		}
		t.Auth = sshconn.Auth{AgentSocket: sec.AgentSocket, AgentKeys: row.AgentKeys}
	case AuthPassword:
		if sec.SSHPassword == "" {
			return t, fmt.Errorf("line %d: auth password but no SSH password is given (TAPLINE_SSH_PASSWORD)", row.Line)
		}
		t.Auth = sshconn.Auth{Password: sec.SSHPassword}
	}
	if row.Jump != "" {
		j, err := ParseJump(row.Jump, row.User)
		if err != nil {
			return t, fmt.Errorf("line %d: jump: %w", row.Line, err)
		}
		j.Auth = t.Auth
		if sec.JumpAuth != nil {
			j.Auth = *sec.JumpAuth
		}
		t.Jump = &j
	}
	return t, nil
}

// ParseJump reads [user@]host[:port] (port 22 by default).
func ParseJump(s, defUser string) (sshconn.Endpoint, error) {
	ep := sshconn.Endpoint{User: defUser}
	if i := lastIndexByte(s, '@'); i >= 0 {
		ep.User, s = s[:i], s[i+1:]
	}
	if _, _, err := splitHostPort(s); err != nil {
		s += ":22"
	}
	if _, _, err := splitHostPort(s); err != nil || ep.User == "" {
		return ep, fmt.Errorf("%q is not [user@]host[:port]", s)
	}
	ep.Addr = s
	return ep, nil
}

func (s *Session) bundle(row Row, now time.Time) (Bundle, error) {
	if row.Bundle != "" {
		return openPrebuilt(row)
	}
	files := map[bundle.Role][]byte{}
	act, err := os.ReadFile(row.Activation)
	if err != nil {
		return Bundle{}, fmt.Errorf("activation: %w", err)
	}
	af, err := activation.Parse(act)
	if err != nil {
		return Bundle{}, err
	}
	if af.Payload.SensorName != row.Sensor {
		return Bundle{}, fmt.Errorf("activation file is for %q", af.Payload.SensorName)
	}
	files[bundle.RoleActivation] = act
	var leafDER []byte
	var issued *LocalIssued
	switch row.CertSource {
	case "", CertFiles:
		cert, err := os.ReadFile(row.Cert)
		if err != nil {
			return Bundle{}, fmt.Errorf("cert: %w", err)
		}
		keyRaw, err := os.ReadFile(row.Key)
		if err != nil {
			return Bundle{}, fmt.Errorf("key: %w", err)
		}
		key, err := certs.ParsePrivateKey(keyRaw, s.Secrets.CertPassphrase)
		if err != nil {
			return Bundle{}, fmt.Errorf("key %s: %w", filepath.Base(row.Key), err)
		}
		if files[bundle.RoleKey], err = certs.MarshalPrivateKeyPEM(rand.Reader, key, nil); err != nil {
			return Bundle{}, err
		}
		chain := certsOf(row.Chain)
		cs, err := certs.ParseCertificates(cert)
		if err != nil || len(cs) == 0 {
			return Bundle{}, fmt.Errorf("cert %s: %v", filepath.Base(row.Cert), err)
		}
		leafDER = cs[0].Raw
		files[bundle.RoleCert] = pemCert(cs[0].Raw)
		if chain != nil {
			files[bundle.RoleChain] = chain
		}
	case CertPKCS12:
		raw, err := os.ReadFile(row.PFX)
		if err != nil {
			return Bundle{}, fmt.Errorf("pfx: %w", err)
		}
		p12, err := certs.ParsePKCS12(raw, s.Secrets.CertPassphrase)
		if err != nil {
			return Bundle{}, fmt.Errorf("pfx %s: %w", filepath.Base(row.PFX), err)
		}
		leafDER = p12.Leaf.Raw
		files[bundle.RoleCert] = pemCert(leafDER)
		if files[bundle.RoleKey], err = certs.MarshalPrivateKeyPEM(rand.Reader, p12.Key, nil); err != nil {
			return Bundle{}, err
		}
		var chain []byte
		for _, c := range p12.Chain {
			chain = append(chain, pemCert(c.Raw)...)
		}
		if chain != nil {
			files[bundle.RoleChain] = chain
		}
	case CertSelfSigned:
		// No certificate travels: the sensor keeps the one it serves.
	case CertLocalCA:
		if s.IssueLocal == nil {
			return Bundle{}, errors.New(ErrNoLocalCA)
		}
		if issued, err = s.IssueLocal(row, now); err != nil {
			return Bundle{}, fmt.Errorf("local CA: %w", err)
		}
		defer clear(issued.Key)
		cs, err := certs.ParseCertificates(issued.Cert)
		if err != nil || len(cs) == 0 {
			return Bundle{}, fmt.Errorf("local CA certificate: %v", err)
		}
		leafDER = cs[0].Raw
		files[bundle.RoleCert], files[bundle.RoleKey] = pemCert(leafDER), bytes.Clone(issued.Key)
		if issued.Chain != nil {
			files[bundle.RoleChain] = issued.Chain
		}
	}
	if paths := row.CRLFiles(); len(paths) > 0 || issued != nil && len(issued.CRLs) > 0 {
		// Every CRL given travels: one as crl.crl, several (every CA
		// level's) as crls.pem.
		var crls [][]byte
		if issued != nil {
			crls = append(crls, issued.CRLs...)
		}
		for _, p := range paths {
			crl, err := os.ReadFile(p)
			if err != nil {
				return Bundle{}, fmt.Errorf("crl: %w", err)
			}
			if _, err := certs.ParseCRLs(crl); err != nil {
				return Bundle{}, fmt.Errorf("crl %s: %w", filepath.Base(p), err)
			}
			crls = append(crls, crl)
		}
		r, data, err := bundle.CRLFile(crls)
		if err != nil {
			return Bundle{}, fmt.Errorf("crl: %w", err)
		}
		files[r] = data
	}
	if row.PluginKey != "" {
		k, err := os.ReadFile(row.PluginKey)
		if err != nil {
			return Bundle{}, fmt.Errorf("plugin_key: %w", err)
		}
		if _, err := plugin.ParseKeys(k); err != nil {
			return Bundle{}, fmt.Errorf("plugin_key %s: %w", filepath.Base(row.PluginKey), err)
		}
		files[bundle.RolePluginKey] = k
	}
	if row.ProxyCert != "" && row.ProxyKey != "" {
		c, k, err := s.clientPair(row.ProxyCert, row.ProxyKey, "proxy_cert", "proxy_key")
		if err != nil {
			return Bundle{}, err
		}
		files[bundle.RoleProxyClientCert], files[bundle.RoleProxyClientKey] = c, k
	}
	if row.Uplink != "" {
		if err := s.uplinkFiles(row, files); err != nil {
			return Bundle{}, err
		}
	}
	settings, err := row.Settings()
	if err != nil {
		return Bundle{}, err
	}
	files[bundle.RoleSettings] = settings.Marshal()
	accepted, err := s.gate(row, now, issued)
	if err != nil {
		return Bundle{}, err
	}
	keep := row.CertSource == CertSelfSigned
	archive, _, err := bundle.Archive(bundle.Meta{Sensor: bundle.Sensor{Name: row.Sensor, ID: af.Payload.SensorID}, CreatedAt: now, Creator: s.Creator,
		AcceptedWarnings: accepted, CertName: row.CertName, KeepCertificate: keep}, files)
	for _, r := range []bundle.Role{bundle.RoleKey, bundle.RoleProxyClientKey, bundle.RoleUplinkClientKey, bundle.RoleUplinkCredential} {
		clear(files[r])
	}
	if err != nil {
		return Bundle{}, err
	}
	uplink := files[bundle.RoleUplinkCA] != nil
	if keep {
		return Bundle{Archive: archive, Sensor: row.Sensor, KeepCertificate: true, Uplink: uplink}, nil
	}
	sum := sha256.Sum256(leafDER)
	b := Bundle{Archive: archive, Sensor: row.Sensor, CertFingerprint: hex.EncodeToString(sum[:]), Uplink: uplink}
	if issued != nil {
		b.CertIssued = issued.Note()
	}
	return b, nil
}

// gate runs the row's offline check and bundle.Gate: a bundle is written
// only when every check passes or the engineer accepted the warnings.
func (s *Session) gate(row Row, now time.Time, issued *LocalIssued) ([]string, error) {
	o := s.Check
	if o.Now.IsZero() {
		o.Now = now
	}
	if len(o.CertPassphrase) == 0 {
		o.CertPassphrase = s.Secrets.CertPassphrase
	}
	if len(o.ActivationRoots) == 0 {
		roots, err := activation.ProductionRoots()
		if err != nil {
			return nil, err
		}
		o.ActivationRoots = roots
	}
	rc := checkRowIssued(row, o, issued)
	accepted, err := bundle.Gate(rc.Findings, s.AcceptWarnings)
	var ge *bundle.GateError
	if errors.As(err, &ge) && len(ge.Errors) == 0 {
		codes := make([]string, 0, len(ge.Warnings))
		for _, f := range ge.Warnings {
			codes = append(codes, f.Code)
		}
		return nil, fmt.Errorf("%w; accept them with --accept-warnings after reading them (tapline batch check): %s", err, strings.Join(codes, ", "))
	}
	return accepted, err
}

// openPrebuilt uses a bundle the engineer built earlier (directory or
// archive), after verifying it; a directory is packed in memory.
func openPrebuilt(row Row) (Bundle, error) {
	b, err := bundle.Open(row.Bundle)
	if err != nil {
		return Bundle{}, err
	}
	if b.Manifest.Sensor.Name != row.Sensor {
		return Bundle{}, fmt.Errorf("bundle %s is for %q", filepath.Base(row.Bundle), b.Manifest.Sensor.Name)
	}
	var fp string
	if !b.Manifest.KeepCertificate {
		cs, err := certs.ParseCertificates(b.File(bundle.RoleCert))
		if err != nil || len(cs) == 0 {
			return Bundle{}, fmt.Errorf("bundle certificate: %v", err)
		}
		sum := sha256.Sum256(cs[0].Raw)
		fp = hex.EncodeToString(sum[:])
	}
	var buf bytes.Buffer
	if err := b.WriteArchive(&buf); err != nil {
		return Bundle{}, err
	}
	return Bundle{Archive: buf.Bytes(), Sensor: row.Sensor, CertFingerprint: fp, KeepCertificate: b.Manifest.KeepCertificate,
		Uplink: b.File(bundle.RoleUplinkCA) != nil}, nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// certsOf re-encodes a chain file's certificates as clean PEM (dropping
// "Bag Attributes" lines and DER), nil when the path is empty or unreadable
// (the offline check reports that).
func certsOf(path string) []byte {
	if path == "" {
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	cs, err := certs.ParseCertificates(raw)
	if err != nil {
		return nil
	}
	var out []byte
	for _, c := range cs {
		out = append(out, pemCert(c.Raw)...)
	}
	return out
}

func lastIndexByte(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func splitHostPort(s string) (string, string, error) { return net.SplitHostPort(s) }
