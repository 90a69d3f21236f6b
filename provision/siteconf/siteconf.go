package siteconf

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/tapline/tapline/certs/ca"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/site"
)

// Node is one server of the site.
type Node struct {
	Host        string // DNS name or IP address the sensors and the other nodes reach it at
	ClientPort  int    // default 4222
	ClusterPort int    // default 6222
}

// ParseNode reads HOST[:CLIENT_PORT[:CLUSTER_PORT]] (an IPv6 address in
// brackets).
func ParseNode(s string) (Node, error) {
	n := Node{ClientPort: 4222, ClusterPort: 6222}
	host, rest := s, ""
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]")
		if i < 0 {
			return n, fmt.Errorf("node %q: unclosed [", s)
		}
		host, rest = s[1:i], strings.TrimPrefix(s[i+1:], ":")
		if len(s) > i+1 && s[i+1] != ':' {
			return n, fmt.Errorf("node %q: want [ADDRESS]:PORT", s)
		}
	} else if i := strings.Index(s, ":"); i >= 0 {
		host, rest = s[:i], s[i+1:]
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHost(host) {
		return n, fmt.Errorf("node %q: %q is not a host name or IP address", s, host)
	}
	n.Host = host
	if rest != "" {
		parts := strings.Split(rest, ":")
		if len(parts) > 2 {
			return n, fmt.Errorf("node %q: want HOST[:CLIENT_PORT[:CLUSTER_PORT]]", s)
		}
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil || v < 1 || v > 65535 {
				return n, fmt.Errorf("node %q: port %q is not 1-65535", s, p)
			}
			if i == 0 {
				n.ClientPort = v
			} else {
				n.ClusterPort = v
			}
		}
	}
	return n, nil
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range strings.ToLower(l) {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (n Node) clientURL() string {
	return "tls://" + net.JoinHostPort(n.Host, strconv.Itoa(n.ClientPort))
}
func (n Node) routeURL() string {
	return "tls://" + net.JoinHostPort(n.Host, strconv.Itoa(n.ClusterPort))
}

// Options say what Init writes.
type Options struct {
	Site    string
	Nodes   []Node   // 1, or 3 and more
	Sensors []string // the sensors' names (more can be added by running Init again)
	Dir     string   // where the files go (created 0700)
	// ConfDir is where the files will lie on the servers, for the paths
	// the configuration names (default: Dir made absolute).
	ConfDir string
	// Store is the folder under which each node keeps its JetStream files
	// (default /var/lib/tapline-nats); node N uses Store/SITE-N.
	Store  string
	Limits site.Limits // Replicas defaults to 3 for a cluster, 1 for one node
	// MaxFileStore bounds each node's JetStream disk (default: what the
	// streams may hold, plus a quarter).
	MaxFileStore int64
	CA           *ca.CA // issues the nodes' and the clients' certificates
	Validity     time.Duration
	Now          time.Time
}

// Files names what Init wrote, relative to Dir.
const (
	CAFile       = "ca.pem"
	StreamsFile  = "streams.json"
	SiteFile     = "site.json"
	CredsDir     = "credentials"
	AppUser      = "tapline-app"
	AdminUser    = "tapline-admin"
	siteMarkFile = ".tapline-site"
)

// SiteConfig is site.json: how the app and `tapline site` reach the site
// (paths relative to the file's folder).
type SiteConfig struct {
	Site    string   `json:"site"`
	Servers []string `json:"servers"`
	CA      string   `json:"ca"`
	Cert    string   `json:"cert"`
	Key     string   `json:"key"`
	// Credential is the app's NKEY seed (reads the streams, acknowledges
	// alerts); AdminCredential may create and change the streams.
	Credential      string `json:"credential"`
	AdminCredential string `json:"admin_credential,omitempty"`
	AdminCert       string `json:"admin_cert,omitempty"`
	AdminKey        string `json:"admin_key,omitempty"`
	// Licensed is the site's licence size, when the plant has one for the
	// whole site; 0: the sum of its sensors' activation files.
	Licensed int `json:"licensed_devices,omitempty"`
}

// ReadSiteConfig reads site.json, resolving its paths against its folder.
func ReadSiteConfig(path string) (*SiteConfig, error) {
	b, err := safefile.ReadFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var c SiteConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := site.CheckSiteName(c.Site); err != nil {
		return nil, fmt.Errorf("%s: site: %v", path, err)
	}
	if len(c.Servers) == 0 {
		return nil, fmt.Errorf("%s: servers: none listed", path)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.CA, &c.Cert, &c.Key, &c.Credential, &c.AdminCredential, &c.AdminCert, &c.AdminKey} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return &c, nil
}

// Result is what Init wrote.
type Result struct {
	Configs []string // nats-N.conf, one per node
	Sensors []string // the sensors with credentials, all of them
	Added   []string // those made by this run
	Files   []string // every file written
}

// Init writes the site's server configuration into o.Dir: for each node
// nats-N.conf, nats-N.crt and nats-N.key (its certificate, usable as
// server and, for cluster routes, as client); ca.pem (the chain the
// sensors and nodes trust); streams.json; for each sensor
// credentials/SENSOR.nk (its NKEY user seed) and SENSOR-client.crt/.key
// (its client certificate); the app's and the administrator's the same
// way; and site.json for the app. Keys and seeds are 0600. Running it
// again on the same folder keeps every seed and certificate already
// there and adds the sensors that are new.
func Init(o Options) (*Result, error) {
	if err := site.CheckSiteName(o.Site); err != nil {
		return nil, err
	}
	switch n := len(o.Nodes); {
	case n == 0:
		return nil, errors.New("no node: give one server, or three or more for a cluster")
	case n == 2:
		return nil, errors.New("two nodes cannot form a JetStream cluster (it needs a majority to survive one loss): give one, or three or more")
	}
	if o.CA == nil || o.Now.IsZero() || o.Dir == "" {
		return nil, errors.New("siteconf: Init needs a CA, the time and a folder")
	}
	seen := map[string]bool{}
	for _, s := range o.Sensors {
		switch {
		case s == "":
			return nil, errors.New("a sensor name is empty")
		case seen[strings.ToLower(s)]:
			return nil, fmt.Errorf("the sensor %q is named twice", s)
		case s == AppUser || s == AdminUser:
			return nil, fmt.Errorf("%q is the name of the app's own user; rename the sensor", s)
		case strings.ContainsAny(s, "/\\\x00") || s == "." || s == "..":
			return nil, fmt.Errorf("the sensor name %q cannot name a file", s)
		}
		seen[strings.ToLower(s)] = true
	}
	if o.Limits.Replicas == 0 {
		o.Limits.Replicas = 1
		if len(o.Nodes) >= 3 {
			o.Limits.Replicas = 3
		}
	}
	if o.Limits.Replicas > len(o.Nodes) {
		return nil, fmt.Errorf("%d replicas need as many nodes; the site has %d", o.Limits.Replicas, len(o.Nodes))
	}
	streams, err := site.Streams(o.Site, o.Limits)
	if err != nil {
		return nil, err
	}
	if o.Store == "" {
		o.Store = "/var/lib/tapline-nats"
	}
	if o.Validity <= 0 {
		o.Validity = 2 * 365 * 24 * time.Hour
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, CredsDir), 0o700); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(o.Dir, siteMarkFile)); err == nil && strings.TrimSpace(string(b)) != o.Site {
		return nil, fmt.Errorf("%s holds the configuration of site %q, not %q; choose another folder", o.Dir, strings.TrimSpace(string(b)), o.Site)
	} else if err != nil {
		if ents, _ := os.ReadDir(o.Dir); len(ents) > 1 {
			return nil, fmt.Errorf("%s is not empty and holds no Tapline site configuration; choose a new folder", o.Dir)
		}
	}
	if o.ConfDir == "" {
		if o.ConfDir, err = filepath.Abs(o.Dir); err != nil {
			return nil, err
		}
	}
	w := &writer{dir: o.Dir}
	w.write(siteMarkFile, []byte(o.Site+"\n"), 0o644)
	chain := o.CA.Chain()
	var caPEM []byte
	for _, c := range chain {
		caPEM = append(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	w.write(CAFile, caPEM, 0o644)

	res := &Result{}
	// Users: every sensor found in the folder (an earlier run) or named now.
	names := map[string]bool{}
	for _, s := range o.Sensors {
		names[s] = true
	}
	ents, _ := os.ReadDir(filepath.Join(o.Dir, CredsDir))
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".nk"); ok && n != AppUser && n != AdminUser {
			if un, ok := site.Untoken(n); ok {
				names[un] = true
			}
		}
	}
	var sensors []string
	for n := range names {
		sensors = append(sensors, n)
	}
	sort.Strings(sensors)
	type user struct {
		comment string
		pub     string
		perm    site.Permissions
	}
	var users []user
	for _, s := range sensors {
		pub, added, err := w.identity(site.Token(s), s, o)
		if err != nil {
			return nil, err
		}
		if added {
			res.Added = append(res.Added, s)
		}
		users = append(users, user{"sensor " + s, pub, site.SensorPermissions(o.Site, s)})
	}
	res.Sensors = sensors
	appPub, _, err := w.identity(AppUser, AppUser, o)
	if err != nil {
		return nil, err
	}
	adminPub, _, err := w.identity(AdminUser, AdminUser, o)
	if err != nil {
		return nil, err
	}
	users = append(users, user{"the app and tapline site: read the streams, acknowledge alerts", appPub, site.ViewerPermissions(o.Site)},
		user{"tapline site streams: create and update the streams", adminPub, site.AdminPermissions()})

	sb, _ := json.MarshalIndent(streams, "", "  ")
	w.write(StreamsFile, append(sb, '\n'), 0o644)

	var maxFile int64 = o.MaxFileStore
	if maxFile <= 0 {
		for _, s := range streams {
			maxFile += s.MaxBytes
		}
		maxFile += maxFile / 4
	}
	var urls []string
	for _, n := range o.Nodes {
		urls = append(urls, n.clientURL())
	}
	for i, n := range o.Nodes {
		name := fmt.Sprintf("nats-%d", i+1)
		hostname := n.Host
		var ip netip.Addr
		if a, err := netip.ParseAddr(n.Host); err == nil {
			ip = a
			hostname = fmt.Sprintf("%s.%s.tapline-site", name, strings.ReplaceAll(strings.ToLower(o.Site), "_", "-"))
		}
		if _, err := os.Stat(filepath.Join(o.Dir, name+".crt")); err != nil {
			is, err := o.CA.Issue(ca.IssueRequest{Hostname: hostname, IP: ip, Usage: ca.UsageServerClient, KeyType: ca.P256, Validity: o.Validity, Now: o.Now})
			if err != nil {
				return nil, fmt.Errorf("%s certificate: %w", name, err)
			}
			w.write(name+".crt", is.CertPEM, 0o644)
			w.write(name+".key", is.KeyPEM, 0o600)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# Tapline site %s: NATS JetStream server %d of %d.\n", o.Site, i+1, len(o.Nodes))
		fmt.Fprintf(&b, "# Written by tapline site init on %s (docs/site.md). Start it with:\n#   nats-server -c %s\n",
			o.Now.UTC().Format("2006-01-02"), filepath.Join(o.ConfDir, name+".conf"))
		listen := "0.0.0.0"
		if ip.IsValid() {
			listen = n.Host
		}
		fmt.Fprintf(&b, "server_name: %q\nlisten: %q\nmax_payload: %d\nmax_pending: %d\nwrite_deadline: \"10s\"\n\n",
			o.Site+"-"+strconv.Itoa(i+1), net.JoinHostPort(listen, strconv.Itoa(n.ClientPort)), site.MaxMessage, 64<<20)
		tls := func(indent string) {
			fmt.Fprintf(&b, "%stls {\n%s  cert_file: %q\n%s  key_file: %q\n%s  ca_file: %q\n%s  verify: true\n%s  timeout: 5\n%s}\n",
				indent, indent, filepath.Join(o.ConfDir, name+".crt"), indent, filepath.Join(o.ConfDir, name+".key"),
				indent, filepath.Join(o.ConfDir, CAFile), indent, indent, indent)
		}
		b.WriteString("# Every client shows a certificate from the plant's CA (verify) and signs in with its NKEY.\n")
		tls("")
		fmt.Fprintf(&b, "\njetstream {\n  store_dir: %q\n  max_file_store: %d\n  max_memory_store: %d\n}\n",
			filepath.Join(o.Store, o.Site+"-"+strconv.Itoa(i+1)), maxFile, 256<<20)
		if len(o.Nodes) > 1 {
			fmt.Fprintf(&b, "\ncluster {\n  name: %q\n  listen: %q\n  routes: [\n", "tapline-"+o.Site,
				net.JoinHostPort(listen, strconv.Itoa(n.ClusterPort)))
			for j, m := range o.Nodes {
				if j != i {
					fmt.Fprintf(&b, "    %q\n", m.routeURL())
				}
			}
			b.WriteString("  ]\n")
			tls("  ")
			b.WriteString("}\n")
		}
		b.WriteString("\naccounts {\n  TAPLINE: {\n    jetstream: enabled\n    users: [\n")
		for _, u := range users {
			pb, sbs := confList(u.perm.Publish), confList(u.perm.Subscribe)
			fmt.Fprintf(&b, "      # %s\n      { nkey: %q, permissions: { publish: { allow: %s }, subscribe: { allow: %s } } }\n",
				strings.ReplaceAll(u.comment, "\n", " "), u.pub, pb, sbs)
		}
		b.WriteString("    ]\n  }\n}\n")
		w.write(name+".conf", []byte(b.String()), 0o644)
		res.Configs = append(res.Configs, filepath.Join(o.Dir, name+".conf"))
	}
	sc := SiteConfig{Site: o.Site, Servers: urls, CA: CAFile,
		Cert: filepath.Join(CredsDir, AppUser+"-client.crt"), Key: filepath.Join(CredsDir, AppUser+"-client.key"),
		Credential:      filepath.Join(CredsDir, AppUser+".nk"),
		AdminCredential: filepath.Join(CredsDir, AdminUser+".nk"),
		AdminCert:       filepath.Join(CredsDir, AdminUser+"-client.crt"), AdminKey: filepath.Join(CredsDir, AdminUser+"-client.key")}
	if old, err := ReadSiteConfig(filepath.Join(o.Dir, SiteFile)); err == nil {
		sc.Licensed = old.Licensed
	}
	scb, _ := json.MarshalIndent(sc, "", "  ")
	w.write(SiteFile, append(scb, '\n'), 0o644)
	res.Files = w.files
	return res, w.err
}

// confList writes subjects as a list in the server's configuration
// syntax: each in double quotes (where $ and > are literal).
func confList(subjects []string) string {
	q := make([]string, len(subjects))
	for i, s := range subjects {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// writer writes files into dir, keeping the first error.
type writer struct {
	dir   string
	files []string
	err   error
}

func (w *writer) write(name string, data []byte, mode os.FileMode) {
	if w.err != nil {
		return
	}
	p := filepath.Join(w.dir, name)
	if err := safefile.WriteFile(p, data, mode); err != nil {
		w.err = err
		return
	}
	w.files = append(w.files, p)
}

// identity returns the public NKEY of the user file (credentials/FILE.nk),
// making the seed and the client certificate when they are not there yet.
func (w *writer) identity(file, name string, o Options) (pub string, added bool, err error) {
	if w.err != nil {
		return "", false, w.err
	}
	seedPath := filepath.Join(w.dir, CredsDir, file+".nk")
	if b, err := os.ReadFile(seedPath); err == nil {
		c, err := site.ParseCredential(b)
		if err != nil {
			return "", false, fmt.Errorf("%s: %v", seedPath, err)
		}
		return c.Public, false, nil
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", false, err
	}
	seed, _ := kp.Seed()
	pub, _ = kp.PublicKey()
	cn := strings.ToLower(file)
	if !validHost(cn) {
		cn = "sensor-" + site.Key(name)
	}
	is, err := o.CA.Issue(ca.IssueRequest{Hostname: cn, Usage: ca.UsageClient, KeyType: ca.P256, Validity: o.Validity, Now: o.Now})
	if err != nil {
		return "", false, fmt.Errorf("%s client certificate: %w", name, err)
	}
	w.write(filepath.Join(CredsDir, file+"-client.crt"), is.CertPEM, 0o644)
	w.write(filepath.Join(CredsDir, file+"-client.key"), is.KeyPEM, 0o600)
	w.write(filepath.Join(CredsDir, file+".nk"), append(seed, '\n'), 0o600)
	return pub, true, w.err
}

// ReadStreams reads streams.json as Init wrote it.
func ReadStreams(path string) ([]jetstream.StreamConfig, error) {
	b, err := safefile.ReadFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var s []jetstream.StreamConfig
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%s: no stream", path)
	}
	return s, nil
}

// Apply creates the streams on the site's servers, or updates their
// limits when they exist; nc must be the administrator's connection.
// It returns one line per stream saying what it did.
func Apply(ctx context.Context, nc *nats.Conn, streams []jetstream.StreamConfig) ([]string, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, cfg := range streams {
		_, err := js.Stream(ctx, cfg.Name)
		existed := err == nil
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return out, fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		if existed {
			out = append(out, "updated "+cfg.Name)
		} else {
			out = append(out, fmt.Sprintf("created %s (%d replicas)", cfg.Name, cfg.Replicas))
		}
	}
	return out, nil
}

// Admin is the administrator's client of the site in c (site.json).
func (c *SiteConfig) Admin() (site.Client, error) {
	return c.client("tapline site streams", c.AdminCert, c.AdminKey, c.AdminCredential)
}

// Viewer is the app's client of the site in c.
func (c *SiteConfig) Viewer(name string) (site.Client, error) {
	return c.client(name, c.Cert, c.Key, c.Credential)
}

func (c *SiteConfig) client(name, cert, key, cred string) (site.Client, error) {
	cl := site.Client{Name: name, Servers: c.Servers}
	for _, f := range []struct {
		what, path string
		dst        *[]byte
	}{{"ca", c.CA, &cl.CA}, {"cert", cert, &cl.Cert}, {"key", key, &cl.Key}, {"credential", cred, &cl.Credential}} {
		if f.path == "" {
			return cl, fmt.Errorf("site.json names no %s file", f.what)
		}
		b, err := safefile.ReadFile(f.path, 1<<20)
		if err != nil {
			return cl, fmt.Errorf("site.json's %s: %w", f.what, err)
		}
		*f.dst = b
	}
	return cl, nil
}
