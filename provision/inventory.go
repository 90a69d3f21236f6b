package provision

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tapline/tapline/internal/sheetcsv"
	"github.com/tapline/tapline/internal/userpath"
	"github.com/tapline/tapline/provision/sshconn"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// Inventory columns (docs/inventory.md). Names are matched case-insensitively;
// "-" and " " count as "_".
var inventoryColumns = []string{
	"sensor", "address", "ssh_port", "ssh_user", "auth", "key_file", "jump",
	"interface", "new_ip", "new_mask", "new_gateway", "new_dns", "new_hostname", "new_address", "proxy",
	"proxy_cert", "proxy_key", "activation", "cert_source", "cert", "key", "chain", "pfx", "bundle", "console_port",
	"crl_validation", "crl", "cert_name", "uplink", "uplink_cert", "uplink_key", "uplink_credential",
	"plugin_key", "plugins",
}

var requiredColumns = []string{"sensor", "address", "auth"}

// Auth methods an inventory row may name. Secrets never live in the CSV:
// passwords and passphrases come from the environment or a prompt.
const (
	AuthKey      = "key"
	AuthAgent    = "agent"
	AuthPassword = "password"
)

// Certificate sources a row may name.
const (
	CertFiles   = "files"    // cert + key (+ chain) files
	CertPKCS12  = "pkcs12"   // one .p12/.pfx file
	CertLocalCA = "local-ca" // issued by Tapline's offline CA when the bundle is built
	// CertSelfSigned keeps the certificate the sensor serves (its
	// self-signed one from install): the bundle carries none, and verify
	// pins what the sensor serves after apply. For test setups.
	CertSelfSigned = "self-signed"
)

// Row is one sensor of an inventory. Paths are already resolved against
// the inventory's folder.
type Row struct {
	Line    int    `json:"line"`
	Sensor  string `json:"sensor"`
	Address string `json:"address"` // current IP or host name
	SSHPort int    `json:"ssh_port"`
	User    string `json:"ssh_user"`
	Auth    string `json:"auth"`
	KeyFile string `json:"key_file,omitempty"`
	// MoreKeyFiles are offered after KeyFile when the row names no key
	// file: the further IdentityFile of ~/.ssh/config, or the further
	// default keys, that exist, as ssh offers them all.
	MoreKeyFiles []string `json:"more_key_files,omitempty"`
	// HostName, KnownHostsFiles and AgentKeys come from the user's
	// ~/.ssh/config (sshconn.SSHConfig) for what the row leaves empty:
	// the address to connect to when it is not Address, the known_hosts
	// files (UserKnownHostsFile) and, with IdentitiesOnly, the only keys
	// of the agent to offer (their IdentityFile paths).
	HostName        string   `json:"host_name,omitempty"`
	KnownHostsFiles []string `json:"known_hosts_files,omitempty"`
	AgentKeys       []string `json:"agent_keys,omitempty"`
	Jump            string   `json:"jump,omitempty"` // [user@]host[:port]
	Interface       string   `json:"interface,omitempty"`
	NewIP           string   `json:"new_ip,omitempty"`
	NewMask         string   `json:"new_mask,omitempty"`
	NewGateway      string   `json:"new_gateway,omitempty"`
	NewDNS          []string `json:"new_dns,omitempty"`
	NewHostname     string   `json:"new_hostname,omitempty"`
	// NewAddress is where the laptop reaches the sensor after the push when
	// that is not NewIP (NAT, a port forward): default NewIP.
	NewAddress string `json:"new_address,omitempty"`
	Proxy      string `json:"proxy,omitempty"`
	// ProxyCert and ProxyKey are the client certificate (PEM or DER) and
	// its key (PEM) the sensor shows a proxy that inspects TLS (columns
	// proxy_cert and proxy_key, given together, with a proxy); they travel
	// as the bundle's proxy-client.crt and proxy-client.key.
	ProxyCert   string `json:"proxy_cert,omitempty"`
	ProxyKey    string `json:"proxy_key,omitempty"`
	Activation  string `json:"activation,omitempty"`
	CertSource  string `json:"cert_source,omitempty"`
	Cert        string `json:"cert,omitempty"`
	Key         string `json:"key,omitempty"`
	Chain       string `json:"chain,omitempty"`
	PFX         string `json:"pfx,omitempty"`
	Bundle      string `json:"bundle,omitempty"`
	ConsolePort int    `json:"console_port"`
	// CRLValidation is "Enable certificate validation" (column
	// crl_validation): the bundle's console settings say cert_validation,
	// and the check runs with CRL revocation.
	CRLValidation bool `json:"crl_validation,omitempty"`
	// CRL is the CRL files (PEM or DER, a PEM file may hold several)
	// carried in the bundle, separated by ";" (column crl): the issuing
	// CA's and, for a check of every certificate of the path, the root's
	// (and any other CA level's). CRLFiles splits them.
	CRL string `json:"crl,omitempty"`
	// CertName is the certificate's name, carried in the manifest and
	// shown by the sensor's status.
	CertName string `json:"cert_name,omitempty"`
	// Uplink is the site's site.json (tapline site init): the sensor
	// streams to that site's servers, with the credential and client
	// certificate site init made for it unless the next columns name
	// others (docs/site.md).
	Uplink string `json:"uplink,omitempty"`
	// UplinkCert and UplinkKey are the sensor's client certificate for
	// the site's servers and its key; UplinkCert "proxy" uses the proxy
	// client certificate instead. UplinkCredential is its NKEY seed or
	// NATS user credentials file.
	UplinkCert       string `json:"uplink_cert,omitempty"`
	UplinkKey        string `json:"uplink_key,omitempty"`
	UplinkCredential string `json:"uplink_credential,omitempty"`
	// PluginKey is the plant's plugin signing public key
	// (plugin-signing.pub), carried in the bundle; Plugins are signed
	// protocol plugin files (each with FILE.sig beside it) installed
	// after the push (column plugins, separated by ;).
	PluginKey string   `json:"plugin_key,omitempty"`
	Plugins   []string `json:"plugins,omitempty"`
	// ProxyPassword is the proxy's password: never from the CSV, never in
	// JSON; the GUI fills it in memory, the CLI from TAPLINE_PROXY_PASSWORD
	// (PrepareOptions.ProxyPassword).
	ProxyPassword string `json:"-"`
	// Record is the row as read, for the retry inventory (kept in the
	// report's JSON, so a combined report can still write it).
	Record []string `json:"record,omitempty"`
}

// SSHAddr is host:port of the sensor's SSH server now (HostName from
// ~/.ssh/config when it names one for Address).
func (r Row) SSHAddr() string {
	h := r.Address
	if r.HostName != "" {
		h = r.HostName
	}
	return net.JoinHostPort(h, strconv.Itoa(r.SSHPort))
}

// Inventory is a parsed inventory CSV.
type Inventory struct {
	Path   string // the file, as given
	Dir    string // relative paths resolve from here
	Header []string
	Rows   []Row
	// Dialect is how the file separates its fields; reports and the retry
	// inventory are written the same way.
	Dialect sheetcsv.Dialect
}

// InventoryError names the file, line and column of a bad cell and how to
// fix it.
type InventoryError struct {
	File   string
	Line   int
	Column string
	Msg    string
}

func (e *InventoryError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: column %s: %s", e.File, e.Line, e.Column, e.Msg)
}

// ReadInventory reads and parses an inventory CSV file.
func ReadInventory(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer f.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	inv, err := ParseInventory(f, filepath.Dir(abs), path)
	if inv != nil {
		inv.Path = path
	}
	return inv, err
}

func normColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
	return strings.NewReplacer("-", "_", " ", "_").Replace(s)
}

// ParseInventory parses CSV from r; dir resolves relative paths and name
// is used in messages. Every problem is reported, each as *InventoryError
// (joined).
func ParseInventory(r io.Reader, dir, name string) (*Inventory, error) {
	cr, err := sheetcsv.NewReader(r)
	if err != nil {
		line := 1
		var ee *sheetcsv.EncodingError
		if errors.As(err, &ee) {
			line = ee.Line
		}
		return nil, &InventoryError{File: name, Line: line, Msg: err.Error()}
	}
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, &InventoryError{File: name, Line: 1, Msg: "empty file: the first line must name the columns (see docs/inventory.md)"}
		}
		return nil, &InventoryError{File: name, Line: 1, Msg: err.Error()}
	}
	inv := &Inventory{Dir: dir, Header: header, Dialect: cr.Dialect}
	// The user's ~/.ssh/config completes what rows leave empty (read
	// once; a broken one is reported on every row that would use it).
	sshCfg, cfgErr := sshconn.LoadSSHConfig()
	resolve := func(host string, given sshconn.HostSettings) (sshconn.HostSettings, error) {
		if cfgErr != nil {
			return given, cfgErr
		}
		return sshCfg.Resolve(host, given)
	}
	col := map[string]int{}
	known := map[string]bool{}
	for _, c := range inventoryColumns {
		known[c] = true
	}
	var errs []error
	for i, h := range header {
		n := normColumn(h)
		if !known[n] {
			errs = append(errs, &InventoryError{File: name, Line: 1, Column: h, Msg: "unknown column; the columns are " + strings.Join(inventoryColumns, ", ")})
			continue
		}
		if _, dup := col[n]; dup {
			errs = append(errs, &InventoryError{File: name, Line: 1, Column: h, Msg: "column given twice"})
		}
		col[n] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			errs = append(errs, &InventoryError{File: name, Line: 1, Column: c, Msg: "required column missing"})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
				err = pe.Err
			}
			errs = append(errs, &InventoryError{File: name, Line: line, Msg: err.Error()})
			if pe == nil {
				break // not a CSV syntax error: reading cannot go on
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row, rerrs := parseRow(get, dir, name, line, resolve)
		row.Record = rec
		errs = append(errs, rerrs...)
		inv.Rows = append(inv.Rows, row)
	}
	if len(inv.Rows) == 0 && len(errs) == 0 {
		errs = append(errs, &InventoryError{File: name, Line: 2, Msg: "no sensors: add one row per sensor below the header"})
	}
	return inv, errors.Join(errs...)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func parseRow(get func(string) string, dir, name string, line int, resolve func(string, sshconn.HostSettings) (sshconn.HostSettings, error)) (Row, []error) {
	var errs []error
	bad := func(c, format string, args ...any) {
		errs = append(errs, &InventoryError{File: name, Line: line, Column: c, Msg: fmt.Sprintf(format, args...)})
	}
	// Paths may be written as the engineer's system writes them (Windows
	// backslashes and drive letters, "~" for the home folder); relative
	// ones are relative to the inventory's folder (internal/userpath).
	resolveIn := func(c, v string) string {
		p, err := userpath.Resolve(dir, v)
		if err != nil {
			bad(c, "%v", err)
		}
		return p
	}
	path := func(c string) string { return resolveIn(c, get(c)) }
	port := func(c string, def int) int {
		s := get(c)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			bad(c, "%q is not a port (1-65535)", s)
			return def
		}
		return n
	}
	r := Row{
		Line: line, Sensor: get("sensor"), Address: get("address"), User: get("ssh_user"),
		Auth: strings.ToLower(get("auth")), KeyFile: path("key_file"), Jump: get("jump"),
		Interface: get("interface"), NewIP: get("new_ip"), NewMask: get("new_mask"), NewGateway: get("new_gateway"),
		NewHostname: get("new_hostname"), NewAddress: get("new_address"), Proxy: get("proxy"), Activation: path("activation"),
		ProxyCert: path("proxy_cert"), ProxyKey: path("proxy_key"),
		CertSource: strings.ToLower(get("cert_source")), Cert: path("cert"), Key: path("key"), Chain: path("chain"),
		PFX: path("pfx"), Bundle: path("bundle"), CertName: get("cert_name"),
		Uplink: path("uplink"), UplinkCert: path("uplink_cert"), UplinkKey: path("uplink_key"), UplinkCredential: path("uplink_credential"),
	}
	r.PluginKey = path("plugin_key")
	var crls []string
	for _, p := range strings.Split(get("crl"), ";") {
		if p = strings.TrimSpace(p); p != "" {
			crls = append(crls, resolveIn("crl", p))
		}
	}
	r.CRL = strings.Join(crls, ";")
	for _, p := range strings.Split(get("plugins"), ";") {
		if p = strings.TrimSpace(p); p != "" {
			r.Plugins = append(r.Plugins, resolveIn("plugins", p))
		}
	}
	if strings.EqualFold(get("uplink_cert"), netconf.UplinkCertProxy) {
		r.UplinkCert = netconf.UplinkCertProxy
	}
	switch v := strings.ToLower(get("crl_validation")); v {
	case "", "false", "no", "0":
	case "true", "yes", "1":
		r.CRLValidation = true
	default:
		bad("crl_validation", "%q: use true or false", v)
	}
	if len(r.CertName) > 128 {
		bad("cert_name", "%d characters, over 128", len(r.CertName))
	}
	r.SSHPort = port("ssh_port", 0)
	r.ConsolePort = port("console_port", 443)
	if r.Interface == "" {
		r.Interface = "eth0"
	}
	r.NewDNS = append(r.NewDNS, strings.FieldsFunc(get("new_dns"), func(c rune) bool { return c == ';' || c == ',' || c == ' ' || c == '|' })...)
	if r.Sensor == "" {
		bad("sensor", "empty: give the sensor's name as its activation file names it")
	}
	if r.Address == "" {
		bad("address", "empty: give the sensor's current IP address")
	} else if h, p, err := net.SplitHostPort(r.Address); err == nil {
		r.Address = h
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			r.SSHPort = n
		} else {
			bad("address", "%q has a bad port", r.Address)
		}
	}
	// What the row leaves empty comes from ~/.ssh/config, then defaults.
	var identities []string
	if r.Address != "" {
		given := sshconn.HostSettings{User: r.User, Port: r.SSHPort, Jump: r.Jump}
		if r.KeyFile != "" {
			given.IdentityFiles = []string{r.KeyFile}
		}
		hs, err := resolve(r.Address, given)
		if err != nil {
			bad("address", "%s: %v", r.Address, err)
		}
		r.User, r.SSHPort, r.HostName, r.KnownHostsFiles = hs.User, hs.Port, hs.HostName, hs.KnownHostsFiles
		if r.KeyFile == "" {
			identities = hs.IdentityFiles
		}
		if hs.IdentitiesOnly && r.Auth == AuthAgent {
			r.AgentKeys = hs.AgentKeys()
			if len(r.AgentKeys) == 0 {
				bad("auth", "~/.ssh/config says IdentitiesOnly for %s but none of its IdentityFile exists: add one, or remove IdentitiesOnly", r.Address)
			}
		}
	}
	if r.SSHPort == 0 {
		r.SSHPort = 22
	}
	if r.User == "" {
		bad("ssh_user", "empty (and ~/.ssh/config names no User for it): give the SSH user (for example admin)")
	}
	switch r.Auth {
	case AuthKey:
		if r.KeyFile == "" {
			if ks, err := sshconn.KeysFor(sshconn.HostSettings{IdentityFiles: identities}); err == nil {
				r.KeyFile, r.MoreKeyFiles = ks[0], ks[1:]
			} else {
				bad("key_file", "auth is key: %v", strings.Replace(err.Error(), "name the key file", "give key_file", 1))
			}
		}
	case AuthAgent, AuthPassword:
	default:
		bad("auth", "%q: use key, agent or password (the password itself comes from TAPLINE_SSH_PASSWORD, never the CSV)", r.Auth)
	}
	switch r.CertSource {
	case "", CertFiles:
		if r.Bundle == "" && (r.Cert == "" || r.Key == "") {
			bad("cert", "cert_source files needs cert and key (or a prebuilt bundle)")
		}
	case CertPKCS12:
		if r.PFX == "" {
			bad("pfx", "cert_source pkcs12 needs the pfx column")
		}
	case CertLocalCA:
		if r.Cert != "" || r.Key != "" || r.PFX != "" || r.Chain != "" || r.CRL != "" {
			bad("cert_source", "local-ca issues the certificate (and brings the CA's CRLs when crl_validation is on): leave cert, key, chain, pfx and crl empty")
		}
		if r.NewHostname == "" && r.Bundle == "" {
			bad("new_hostname", "cert_source local-ca issues the certificate for the sensor's FQDN: give new_hostname")
		}
	case CertSelfSigned:
		if r.Cert != "" || r.Key != "" || r.PFX != "" || r.Chain != "" || r.CRL != "" {
			bad("cert_source", "self-signed keeps the sensor's certificate: leave cert, key, chain, pfx and crl empty")
		}
	default:
		bad("cert_source", "%q: use files, pkcs12, local-ca or self-signed", r.CertSource)
	}
	return r, errs
}

// HasPlugins reports whether a row carries protocol plugins.
func (inv *Inventory) HasPlugins() bool {
	for _, r := range inv.Rows {
		if len(r.Plugins) > 0 {
			return true
		}
	}
	return false
}

// CRLFiles returns the row's CRL files (column crl, separated by ";").
func (r Row) CRLFiles() []string {
	var out []string
	for _, p := range strings.Split(r.CRL, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
