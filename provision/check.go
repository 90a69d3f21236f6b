package provision

import (
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// Stable codes of the offline inventory check (docs/inventory.md). Two rows
// with the same certificate CN or the very same certificate are certs'
// fleet findings (certs.CheckFleet: TL-CERT-027, TL-CERT-028), on each row;
// TL-INV-004 and TL-INV-009 are retired.
const (
	CodeInventoryField   = "TL-INV-001" // a cell is malformed
	CodeNetwork          = "TL-INV-002" // new network settings invalid (mask, gateway outside subnet...)
	CodeDuplicateName    = "TL-INV-003" // two rows name the same sensor
	CodeDuplicateIP      = "TL-INV-005" // two rows end on the same address
	CodeNoActivation     = "TL-INV-006" // no activation file and no prebuilt bundle
	CodeUnreadable       = "TL-INV-007" // a file the row names cannot be read
	CodeDuplicateAddress = "TL-INV-008" // two rows start from the same address
	CodeProxyClient      = "TL-INV-010" // the proxy client certificate cannot be used
	CodeLocalCAAtBuild   = "TL-INV-011" // local-ca with no CA given: checked when the bundle is built (info)
)

// CheckOptions feed the offline check.
type CheckOptions struct {
	Now             time.Time
	ActivationRoots []ed25519.PublicKey
	CertPassphrase  []byte // key or PKCS#12 passphrase (TAPLINE_CERT_PASSPHRASE)
	// IssueLocal, when set, issues a trial certificate for each
	// cert_source local-ca row (IssueFromLocalCA of a ca.Local's Trial:
	// nothing recorded), checked as the bundle's will be. Nil: such rows
	// are checked when their bundle is built (an info finding says so).
	IssueLocal func(row Row, now time.Time) (*LocalIssued, error)
}

// RowCheck is what the offline check found for one row.
type RowCheck struct {
	Row      Row             `json:"row"`
	Findings []certs.Finding `json:"findings"`
	Diff     []string        `json:"diff"` // "- before" / "+ after" lines
	// DiffBefore says where Diff's "before" comes from: always
	// "inventory" (the check is offline; the push's preflight diffs
	// against the sensor's live network, Result.NetworkDiff).
	DiffBefore      string `json:"diff_before"`
	CertFingerprint string `json:"cert_fingerprint_sha256,omitempty"`
	CN              string `json:"cn,omitempty"`
	FinalIP         string `json:"final_ip"`

	cert *certs.Report // for certs.CheckFleet
}

// CheckReport is the whole inventory's offline check.
type CheckReport struct {
	Rows  []RowCheck      `json:"rows"`
	Fleet []certs.Finding `json:"fleet"`
}

// HasErrors reports whether any row or fleet finding is an error.
func (r *CheckReport) HasErrors() bool {
	for _, f := range r.Fleet {
		if f.Severity == certs.SeverityError {
			return true
		}
	}
	for _, rc := range r.Rows {
		for _, f := range rc.Findings {
			if f.Severity == certs.SeverityError {
				return true
			}
		}
	}
	return false
}

// Warnings counts the warnings of every row and of the fleet.
func (r *CheckReport) Warnings() int {
	n := 0
	for _, f := range r.Fleet {
		if f.Severity == certs.SeverityWarning {
			n++
		}
	}
	for _, rc := range r.Rows {
		for _, f := range rc.Findings {
			if f.Severity == certs.SeverityWarning {
				n++
			}
		}
	}
	return n
}

func errFinding(code, msg, hint string) certs.Finding {
	return certs.Finding{Code: code, Severity: certs.SeverityError, Message: msg, Hint: hint}
}

// Settings returns the network and proxy settings the row's bundle carries
// (every bundle carries them; new_ip empty keeps the current address).
func (r Row) Settings() (*netconf.Settings, error) {
	s := &netconf.Settings{Network: netconf.Network{Interface: r.Interface, Address: r.NewIP, Mask: r.NewMask,
		Gateway: r.NewGateway, DNS: r.NewDNS, Hostname: r.NewHostname}}
	if s.Network.Address == "" {
		s.Network.Address = r.Address
	}
	if r.Proxy != "" {
		u, err := url.Parse(r.Proxy)
		if err != nil || u.Hostname() == "" {
			return s, &netconf.FieldError{Field: "proxy", Msg: fmt.Sprintf("%q is not a proxy URL (example http://proxy.plant.example:3128)", r.Proxy)}
		}
		port, _ := strconv.Atoi(u.Port())
		if port == 0 {
			port = 3128
		}
		s.Proxy = netconf.Proxy{Enabled: true, Host: u.Hostname(), Port: port, Username: u.User.Username(), Password: r.ProxyPassword}
		if _, set := u.User.Password(); set {
			return s, &netconf.FieldError{Field: "proxy", Msg: "the proxy URL holds a password: remove it from the CSV and set TAPLINE_PROXY_PASSWORD"}
		}
	} else if r.ProxyPassword != "" {
		return s, &netconf.FieldError{Field: "proxy", Msg: "a proxy password is given but no proxy"}
	}
	switch {
	case r.ProxyCert == "" && r.ProxyKey == "":
	case r.Proxy == "":
		return s, &netconf.FieldError{Field: "proxy.client_cert", Msg: "a proxy client certificate is given but no proxy"}
	case r.ProxyCert == "" || r.ProxyKey == "":
		return s, &netconf.FieldError{Field: "proxy.client_cert", Msg: "give both the proxy client certificate and its key"}
	default:
		s.Proxy.ClientCert = true
	}
	s.Console.CertValidation = r.CRLValidation
	switch {
	case r.Uplink != "":
		p, err := r.uplinkPaths()
		if err != nil {
			return s, err
		}
		s.Uplink = p.settings()
	case r.UplinkCert != "" || r.UplinkKey != "" || r.UplinkCredential != "":
		return s, &netconf.FieldError{Field: "uplink", Msg: "uplink_cert, uplink_key or uplink_credential is given but no uplink (the site's site.json)"}
	}
	return s, s.Validate()
}

// FinalIP is where the sensor answers after the push.
func (r Row) FinalIP() string {
	if r.NewIP != "" {
		return r.NewIP
	}
	return r.Address
}

// Check runs every offline check of inv: per row the network settings,
// activation file and certificate; across the fleet duplicate names, CNs,
// certificates and final addresses. Nothing connects anywhere.
func Check(inv *Inventory, o CheckOptions) *CheckReport {
	rep := &CheckReport{}
	for _, row := range inv.Rows {
		rep.Rows = append(rep.Rows, checkRow(row, o))
	}
	dup := func(code, what string, key func(RowCheck) string) {
		first := map[string]int{}
		for _, rc := range rep.Rows {
			k := key(rc)
			if k == "" {
				continue
			}
			if l, ok := first[k]; ok {
				rep.Fleet = append(rep.Fleet, errFinding(code,
					fmt.Sprintf("%s: line %d repeats the %s %q of line %d", filepath.Base(inv.Path), rc.Row.Line, what, k, l),
					"every sensor needs its own "+what))
				continue
			}
			first[k] = rc.Row.Line
		}
	}
	dup(CodeDuplicateName, "sensor name", func(rc RowCheck) string { return strings.ToLower(rc.Row.Sensor) })
	// Certificates shared across the fleet (same CN, same certificate) are
	// certs' own rule; its findings land on every row involved.
	members := make([]certs.FleetMember, len(rep.Rows))
	seen := make([]int, len(rep.Rows))
	for i, rc := range rep.Rows {
		members[i] = certs.FleetMember{Name: fmt.Sprintf("line %d (%s)", rc.Row.Line, rc.Row.Sensor), Report: rc.cert}
		if rc.cert != nil {
			seen[i] = len(rc.cert.Findings)
		}
	}
	certs.CheckFleet(members)
	for i := range rep.Rows {
		if c := rep.Rows[i].cert; c != nil {
			rep.Rows[i].Findings = append(rep.Rows[i].Findings, c.Findings[seen[i]:]...)
		}
	}
	dup(CodeDuplicateIP, "final address", func(rc RowCheck) string { return rc.FinalIP })
	dup(CodeDuplicateAddress, "current address", func(rc RowCheck) string {
		if rc.Row.Jump != "" {
			return rc.Row.Jump + ">" + rc.Row.SSHAddr()
		}
		return rc.Row.SSHAddr()
	})
	return rep
}

func checkRow(row Row, o CheckOptions) RowCheck { return checkRowIssued(row, o, nil) }

// checkRowIssued is checkRow with, for cert_source local-ca, what the local
// CA issued for the row: it is checked exactly as a certificate given in
// files (certs.CheckSensor against new_hostname and the final address).
func checkRowIssued(row Row, o CheckOptions, issued *LocalIssued) RowCheck {
	rc := RowCheck{Row: row, FinalIP: row.FinalIP(), Findings: []certs.Finding{}}
	add := func(f certs.Finding) { rc.Findings = append(rc.Findings, f) }
	s, err := row.Settings()
	if err != nil {
		for _, e := range flatten(err) {
			add(errFinding(CodeNetwork, e.Error(), "fix the new_* columns of line "+strconv.Itoa(row.Line)))
		}
	}
	rc.Diff, rc.DiffBefore = networkDiff(row, s), "inventory"
	if row.ProxyCert != "" && row.ProxyKey != "" {
		rc.Findings = append(rc.Findings, CheckProxyClient(row.ProxyCert, row.ProxyKey, o.CertPassphrase, o.Now)...)
	}
	if row.Uplink != "" {
		rc.Findings = append(rc.Findings, checkUplink(row, o)...)
	}
	if row.Activation != "" {
		data, err := os.ReadFile(row.Activation)
		if err != nil {
			add(errFinding(CodeUnreadable, "activation: "+err.Error(), "check the activation column"))
		} else {
			_, fs, _ := activation.Check(data, activation.VerifyOptions{Roots: o.ActivationRoots, SensorName: row.Sensor, Now: o.Now})
			rc.Findings = append(rc.Findings, fs...)
		}
	} else if row.Bundle == "" {
		add(errFinding(CodeNoActivation, "no activation file for "+row.Sensor, "put the sensor's .tapact file in the activation column"))
	}
	switch row.CertSource {
	case "", CertFiles, CertPKCS12:
		src := certs.Source{Passphrase: o.CertPassphrase, Names: map[string]string{}}
		type input struct {
			field, path string
			dst         *[]byte
		}
		inputs := []input{{"cert", row.Cert, &src.Cert}, {"key", row.Key, &src.Key}, {"chain", row.Chain, &src.Chain}, {"pfx", row.PFX, &src.PFX}}
		crlPaths := row.CRLFiles()
		crls := make([][]byte, len(crlPaths))
		for i, p := range crlPaths {
			inputs = append(inputs, input{"crl" + strconv.Itoa(i+1), p, &crls[i]})
		}
		for _, f := range inputs {
			if f.path == "" {
				continue
			}
			column := strings.TrimRight(f.field, "0123456789")
			data, err := os.ReadFile(f.path)
			if err != nil {
				add(errFinding(CodeUnreadable, column+": "+err.Error(), "check the "+column+" column"))
				continue
			}
			*f.dst = data
			src.Names[f.field] = filepath.Base(f.path)
		}
		// Every CRL travels in the bundle (bundle.CRLFile): the sensor
		// checks the path with all of them, and so does this check.
		for i := range crls {
			delete(src.Names, "crl"+strconv.Itoa(i+1))
		}
		for i, c := range crls {
			if c != nil {
				src.CRLs = append(src.CRLs, c)
				src.Names["crl"+strconv.Itoa(len(src.CRLs))] = filepath.Base(crlPaths[i])
			}
		}
		if src.Cert == nil && src.PFX == nil {
			break
		}
		rc.checkCert(src, o.Now)
	case CertLocalCA:
		if issued == nil && row.Bundle == "" {
			if o.IssueLocal == nil {
				add(certs.Finding{Code: CodeLocalCAAtBuild, Severity: certs.SeverityInfo,
					Message: "the local CA issues this sensor's certificate when its bundle is built; it is checked then",
					Hint:    "give the local CA (--ca DIR) to check now what it will issue"})
				break
			}
			var err error
			if issued, err = o.IssueLocal(row, o.Now); err != nil {
				add(errFinding(CodeInventoryField, "local CA: "+strings.TrimPrefix(err.Error(), "ca: "),
					"fix new_hostname and the address columns, or the local CA (docs/certs.md)"))
				break
			}
		}
		if issued == nil {
			break
		}
		src := certs.Source{Cert: issued.Cert, Key: issued.Key, Chain: issued.Chain, CRLs: issued.CRLs,
			Names: map[string]string{"cert": "the local CA's certificate " + issued.Serial, "key": "its key", "chain": "the local CA's chain"}}
		for i := range issued.CRLs {
			src.Names["crl"+strconv.Itoa(i+1)] = "the local CA's CRL " + strconv.Itoa(i+1)
		}
		rc.checkCert(src, o.Now)
	}
	return rc
}

// checkCert runs the sensor's certificate check on src for the row's
// new_hostname and final address. A certificate of the path no CRL given
// is from gets TL-CERT-036 (info): the appliance fetches its CRL at apply;
// a CA certificate with nothing to fetch from is undetermined
// (TL-CERT-038), as the appliance says.
func (rc *RowCheck) checkCert(src certs.Source, now time.Time) {
	t := certs.Target{Hostname: rc.Row.NewHostname, CRLValidation: rc.Row.CRLValidation}
	if a, err := netip.ParseAddr(rc.FinalIP); err == nil {
		t.IP = a
	}
	rep := certs.CheckSensor(src, t, now)
	rc.Findings = append(rc.Findings, rep.Findings...)
	rc.CertFingerprint, rc.cert = rep.FingerprintSHA256, rep
	if rep.Leaf != nil {
		rc.CN = rep.Leaf.Subject.CommonName
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// networkDiff renders the change as ansible --check --diff would: what the
// inventory knows of the sensor now, and what the bundle sets.
func networkDiff(row Row, s *netconf.Settings) []string {
	if s == nil {
		return []string{"  address " + row.Address + " (unchanged)"}
	}
	n := s.Network
	after := n.Address
	if p, err := n.Prefix(); err == nil {
		after = p.String()
	} else if n.Mask != "" {
		after += "/" + n.Mask
	}
	var d []string
	if n.Address != row.Address {
		d = append(d, "- address "+row.Address, "+ address "+after+" on "+n.Interface)
	} else {
		d = append(d, "  address "+after+" on "+n.Interface+" (unchanged)")
	}
	if n.Gateway != "" {
		d = append(d, "+ gateway "+n.Gateway)
	}
	if len(n.DNS) > 0 {
		d = append(d, "+ dns "+strings.Join(n.DNS, ", "))
	}
	if n.Hostname != "" {
		d = append(d, "+ hostname "+n.Hostname)
	}
	if s.Proxy.Enabled {
		d = append(d, fmt.Sprintf("+ proxy %s:%d", s.Proxy.Host, s.Proxy.Port))
	}
	if u := s.Uplink; u != nil {
		d = append(d, fmt.Sprintf("+ uplink site %s via %s", u.Site, strings.Join(u.Servers, ", ")))
	}
	return d
}

// CheckProxyClient checks the client certificate a sensor shows a proxy
// that inspects TLS: both files readable (TL-INV-007), the certificate
// parsed, valid at now, and the key its own (TL-INV-010). The key may be
// encrypted with passphrase (the certificate's).
func CheckProxyClient(certPath, keyPath string, passphrase []byte, now time.Time) []certs.Finding {
	var out []certs.Finding
	certRaw, err := os.ReadFile(certPath)
	if err != nil {
		out = append(out, errFinding(CodeUnreadable, "proxy client certificate: "+err.Error(), "check the proxy_cert column (the file the proxy's client certificate is in)"))
	}
	keyRaw, kerr := os.ReadFile(keyPath)
	if kerr != nil {
		out = append(out, errFinding(CodeUnreadable, "proxy client key: "+kerr.Error(), "check the proxy_key column (the client certificate's private key)"))
	}
	if err != nil || kerr != nil {
		return out
	}
	cs, err := certs.ParseCertificates(certRaw)
	if err != nil || len(cs) == 0 {
		return append(out, errFinding(CodeProxyClient, filepath.Base(certPath)+": not a certificate (PEM or DER)", "give the client certificate the proxy expects"))
	}
	key, err := certs.ParsePrivateKey(keyRaw, passphrase)
	if err != nil {
		return append(out, errFinding(CodeProxyClient, filepath.Base(keyPath)+": the key cannot be read: "+err.Error(),
			"give the client certificate's private key as PEM, unencrypted or encrypted with the certificate passphrase"))
	}
	c := cs[0]
	if !certs.KeyMatches(key, c) {
		out = append(out, errFinding(CodeProxyClient, filepath.Base(keyPath)+" is not the key of "+filepath.Base(certPath), "give the key the proxy client certificate was issued for"))
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		out = append(out, errFinding(CodeProxyClient, fmt.Sprintf("%s is valid from %s to %s, not now", filepath.Base(certPath),
			c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02")), "ask the proxy's administrator for a current client certificate"))
	}
	return out
}
