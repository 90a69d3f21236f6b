package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/siteconf"
	"github.com/tapline/tapline/sensorcore/site"
)

func siteCommand() *Command {
	return &Command{
		Name:    "site",
		Summary: "the site stream: configure the site's NATS JetStream servers, and read what every sensor streams",
		Description: "Sensors with an uplink stream their assets, alerts, operations and health to the site's NATS JetStream " +
			"servers (docs/site.md). 'init' writes those servers' configuration, certificates and credentials; 'streams' " +
			"creates the streams the sensors publish to.",
		Examples: []Example{
			{"A three-node site for two sensors, its streams, then the whole site at a glance",
				"tapline site init --site plant-a --out plant-a-nats --dir plant-ca --passphrase-file ca.pass \\\n    --node nats-1.plant.example --node nats-2.plant.example --node nats-3.plant.example --sensor sensor-01 --sensor sensor-02\n" +
					"tapline site streams --site-file plant-a-nats/site.json"},
		},
		Subs: append([]*Command{
			{
				Name:    "init",
				Summary: "write a ready NATS JetStream configuration for one node or a cluster of three or more",
				Usage:   "--site NAME --out DIR --dir CA_DIR --passphrase-file FILE --node HOST... [flags]",
				Description: "Writes, into --out: nats-N.conf for each node (TLS with client certificates required, JetStream, the " +
					"cluster's routes, an account whose users are one NKEY per sensor allowed only its own subjects, the app's user and " +
					"the administrator's), each node's certificate from the local CA (tapline ca), ca.pem, streams.json, each sensor's " +
					"credentials/SENSOR.nk and client certificate for its bundle (the inventory's uplink columns), and site.json for the " +
					"app and 'tapline site'. Keys and seeds are 0600. Run it again with more --sensor to add sensors: what is there is kept.",
				Groups: []FlagGroup{
					{"The site", []string{"site NAME", "node HOST[:PORT[:CLUSTER_PORT]]", "sensor NAME", "inventory FILE"}},
					{"The servers", []string{"store DIR", "conf-dir DIR", "retention DURATION", "ops-max-gib N", "state-max-gib N", "replicas N"}},
					caStore,
					{"Output", []string{"out DIR", "print"}},
					{"Time", []string{"at TIME"}},
				},
				Required: []string{"site", "out", "dir", "passphrase-file", "node"},
				Examples: []Example{
					{"One node on 192.0.2.20 for the sensors of an inventory", "tapline site init --site plant-a --out plant-a-nats --dir plant-ca --passphrase-file ca.pass --node 192.0.2.20 --inventory site-a.csv"},
				},
				Exit: []ExitCode{{ExitOK, "the configuration was written"}, {ExitUsage, "usage error, an unreadable CA or inventory, or a folder holding something else"}},
				Run:  runSiteInit,
			},
			{
				Name:    "streams",
				Summary: "create or update the site's streams on its running servers",
				Usage:   "--site-file FILE [flags]",
				Description: "Connects as the site's administrator (site.json's admin credential) and creates the streams streams.json " +
					"describes, or updates their limits. Run it once the servers are up, and again after changing the limits.",
				Groups:   []FlagGroup{{"The site", []string{"site-file FILE", "streams FILE", "timeout DURATION"}}, outputGroup},
				Required: []string{"site-file"},
				Examples: []Example{{"", "tapline site streams --site-file plant-a-nats/site.json"}},
				Exit:     []ExitCode{{ExitOK, "every stream exists with its limits"}, {ExitVerdict, "the servers could not be reached or refused"}, {ExitUsage, "usage error, or an unreadable file"}},
				Run:      runSiteStreams,
			},
		}, siteViewCommands()...),
	}
}

func runSiteInit(env *Env, args []string) int {
	fs := newFlags(env, "site init")
	siteName := fs.String("site", "", "the site's name: letters, digits, - and _ (it names the streams and subjects)")
	out := fs.String("out", "", "folder for the configuration (created 0700)")
	var nodes, sensors multiFlag
	fs.Var(&nodes, "node", "a server: HOST[:CLIENT_PORT[:CLUSTER_PORT]] (one, or three or more; ports default 4222 and 6222)")
	fs.Var(&sensors, "sensor", "a sensor that streams to the site (repeat)")
	inventory := fs.String("inventory", "", "an inventory CSV whose sensors stream to the site")
	store := fs.String("store", "/var/lib/tapline-nats", "where each node keeps its JetStream files on its server")
	confDir := fs.String("conf-dir", "", "where these files will lie on the servers (default: --out)")
	retention := fs.Duration("retention", site.DefaultOpsRetention, "how long operations are kept")
	opsMax := fs.Int("ops-max-gib", site.DefaultOpsMaxBytes>>30, "at most this many GiB of operations")
	stateMax := fs.Int("state-max-gib", site.DefaultStateMaxBytes>>30, "at most this many GiB of latest states")
	replicas := fs.Int("replicas", 0, "copies of each stream (default 3 on a cluster, 1 on one node)")
	dir := fs.String("dir", "", "the CA directory (tapline ca init)")
	passFile := fs.String("passphrase-file", "", "file holding the CA passphrase")
	print := fs.Bool("print", false, "also print each node's configuration")
	at := fs.String("at", "", "the current time (RFC 3339)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	o := siteconf.Options{Site: *siteName, Dir: *out, Store: *store, ConfDir: *confDir, Sensors: sensors,
		Limits: site.Limits{Replicas: *replicas, OpsRetention: *retention, OpsMaxBytes: int64(*opsMax) << 30, StateMaxBytes: int64(*stateMax) << 30}}
	if err := site.CheckSiteName(o.Site); err != nil {
		env.Errorf("site init: --site: %v", err)
		return ExitUsage
	}
	for _, n := range nodes {
		node, err := siteconf.ParseNode(n)
		if err != nil {
			env.Errorf("site init: --node: %v", err)
			return ExitUsage
		}
		o.Nodes = append(o.Nodes, node)
	}
	if *inventory != "" {
		inv, err := provision.ReadInventory(*inventory)
		if err != nil {
			env.Errorf("site init: %v", err)
			return ExitUsage
		}
		for _, r := range inv.Rows {
			o.Sensors = append(o.Sensors, r.Sensor)
		}
	}
	var err error
	if o.Now, err = certsParseAt(env, *at); err != nil {
		env.Errorf("site init: %s", certsErrText(err))
		return ExitUsage
	}
	pass, ok := caPassphrase(env, "init", *passFile)
	if !ok {
		return ExitUsage
	}
	if o.CA, ok = caLoad(env, "init", *dir, pass); !ok {
		return ExitUsage
	}
	res, err := siteconf.Init(o)
	if err != nil {
		env.Errorf("site init: %v", err)
		return ExitUsage
	}
	if *print {
		for _, c := range res.Configs {
			b, _ := os.ReadFile(c)
			fmt.Fprintf(env.Stdout, "# ---- %s\n%s\n", filepath.Base(c), b)
		}
	}
	fmt.Fprintf(env.Stdout, "site %s: %d node(s), %d sensor(s)", o.Site, len(o.Nodes), len(res.Sensors))
	if len(res.Added) > 0 {
		fmt.Fprintf(env.Stdout, " (new: %s)", strings.Join(res.Added, ", "))
	}
	fmt.Fprintf(env.Stdout, "\nwritten to %s (keys and seeds 0600)\n", *out)
	for i, c := range res.Configs {
		fmt.Fprintf(env.Stdout, "  server %d: nats-server -c %s\n", i+1, c)
	}
	fmt.Fprintf(env.Stdout, "then: tapline site streams --site-file %s\n", filepath.Join(*out, siteconf.SiteFile))
	fmt.Fprintf(env.Stdout, "each sensor's uplink columns: uplink_ca=%s uplink_cert/uplink_key=%s uplink_credential=%s\n",
		filepath.Join(*out, siteconf.CAFile), filepath.Join(*out, siteconf.CredsDir, "SENSOR-client.crt|.key"), filepath.Join(*out, siteconf.CredsDir, "SENSOR.nk"))
	return ExitOK
}

func runSiteStreams(env *Env, args []string) int {
	fs := newFlags(env, "site streams")
	siteFile := fs.String("site-file", "", "the site's site.json (tapline site init)")
	streamsFile := fs.String("streams", "", "streams.json (default: beside site.json)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the servers")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	sc, err := siteconf.ReadSiteConfig(*siteFile)
	if err != nil {
		env.Errorf("site streams: %v", err)
		return ExitUsage
	}
	if *streamsFile == "" {
		*streamsFile = filepath.Join(filepath.Dir(*siteFile), siteconf.StreamsFile)
	}
	streams, err := siteconf.ReadStreams(*streamsFile)
	if err != nil {
		env.Errorf("site streams: %v", err)
		return ExitUsage
	}
	admin, err := sc.Admin()
	if err != nil {
		env.Errorf("site streams: %s: %v", *siteFile, err)
		return ExitUsage
	}
	nc, err := admin.Connect()
	if err != nil {
		env.Errorf("site streams: %s: %v", strings.Join(sc.Servers, ", "), err)
		return ExitVerdict
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var lines []string
	for {
		lines, err = siteconf.Apply(ctx, nc, streams)
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond) // a new cluster elects its JetStream leader first
	}
	if err != nil {
		env.Errorf("site streams: %v", err)
		return ExitVerdict
	}
	if *asJSON {
		return printJSON(env.Stdout, map[string]any{"ok": true, "site": sc.Site, "streams": lines})
	}
	for _, l := range lines {
		fmt.Fprintln(env.Stdout, l)
	}
	return ExitOK
}
