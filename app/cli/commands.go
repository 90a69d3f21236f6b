package cli

// rootCommand is every tapline command with its help: one place for the
// command tree, the summaries groups list, the flag groups, the examples
// and the exit codes. The commands' own files define their flags and run.
func rootCommand() *Command {
	return (&Command{
		Name:    "tapline",
		Summary: "the field engineer's companion for bringing OT network sensors into service",
		Usage:   "[COMMAND] [flags]",
		Description: "Tapline checks each sensor's activation file and certificate bundle the way the sensor will, " +
			"issues certificates from an offline CA, and pushes everything over SSH/SFTP to one sensor or a whole site, " +
			"proving that each console serves exactly the certificate it was given. With no command it opens the desktop app.",
		Examples: []Example{
			{"Check a site's inventory offline, then provision it", "tapline batch check site.csv && tapline batch run site.csv"},
			{"Provision one sensor", "tapline push --sensor sensor-01 --address 192.0.2.11 --ssh-user admin --auth agent \\\n    --activation sensor-01.tapact --cert sensor-01.crt --key sensor-01.key --chain chain.pem --new-ip 192.0.2.111 --new-mask 24"},
			{"Help on any command", "tapline help batch run"},
		},
		Subs: []*Command{certsCommand(), caCommand(), activationCommand(), releaseCommand(), pluginCommand(), pushCommand(), batchCommand(), consoleCommand(), siteCommand(), demoCommand(), versionCommand()},
	}).link()
}

var outputGroup = FlagGroup{"Output", []string{"json"}}

func certsCommand() *Command {
	return &Command{
		Name:    "certs",
		Summary: "check, verify and inspect certificates, keys, chains, PKCS#12 and CRLs",
		Examples: []Example{
			{"Check a sensor's files the way the sensor will", "tapline certs check --cert sensor-01.crt --key sensor-01.key --chain chain.pem --hostname sensor-01.plant.example"},
		},
		Subs: []*Command{
			{
				Name:    "check",
				Summary: "check a sensor's certificate, key and chain the way the sensor will",
				Usage:   "(--cert FILE --key FILE | --pfx FILE) [--chain FILE] [--hostname NAME] [flags]",
				Description: "Reads the files by content (PEM, DER, PKCS#8, PKCS#12), checks the key against the certificate, " +
					"the chain up to a root, the validity period, key strength, signature algorithm, subject and names, and " +
					"revocation when asked, and prints each finding with its stable code (TL-CERT-NNN), what is wrong and how to fix it. " +
					"An encrypted key or PKCS#12 file is asked for on the terminal unless --passphrase-file gives it.",
				Groups: []FlagGroup{
					{"Files", []string{"cert FILE", "key FILE", "pfx FILE", "chain FILE", "crl FILE", "anchors FILE", "passphrase-file FILE"}},
					{"The sensor", []string{"hostname NAME", "ip ADDRESS", "crl-validation"}},
					{"Checking", []string{"at TIME"}},
					outputGroup,
				},
				Examples: []Example{
					{"Check the example sensor's files for its host name", "tapline certs check --cert examples/certs/sensor-01.crt --key examples/certs/sensor-01.key --chain examples/certs/chain.pem --hostname sensor-01.plant.example"},
					{"A PKCS#12 file, with certificate validation against a CRL, as JSON", "tapline certs check --pfx sensor-01.pfx --passphrase-file pfx.pass --crl plant.crl --crl-validation --json"},
				},
				Exit: []ExitCode{{ExitOK, "no finding is an error (warnings may be)"}, {ExitVerdict, "at least one finding is an error: the sensor would refuse the files"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Run:  runCertsCheck,
			},
			{
				Name:    "verify",
				Summary: "validate a certification path with CRLs (RFC 5280 §6)",
				Usage:   "--anchors FILE --chain FILE [--chain FILE]... [--crl FILE]... [flags]",
				Description: "Builds and validates the path from the first certificate of the chain files to a trust anchor per " +
					"RFC 5280 §6, with revocation checked against the CRLs given (§6.3), and optionally the name the certificate must hold.",
				Groups: []FlagGroup{
					{"Files", []string{"anchors FILE", "chain FILE", "crl FILE"}},
					{"Checks", []string{"require-crl", "strict", "dns NAME", "ip ADDRESS", "at TIME"}},
					outputGroup,
				},
				Required: []string{"anchors", "chain"},
				Examples: []Example{
					{"Validate the example sensor certificate against its root", "tapline certs verify --anchors examples/certs/root.crt --chain examples/certs/sensor-01.crt --chain examples/certs/chain.pem --dns sensor-01.plant.example"},
					{"Require a CRL for every certificate of the path", "tapline certs verify --anchors root.crt --chain sensor.crt --crl plant.crl --require-crl --json"},
				},
				Exit: []ExitCode{{ExitOK, "the path is valid"}, {ExitVerdict, "the path is invalid (the reason is printed)"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Run:  runCertsVerify,
			},
			{
				Name:        "inspect",
				Summary:     "say what any certificate, key, chain, PKCS#12, CSR or CRL file holds",
				Usage:       "FILE... [flags]",
				Description: "Reads each file by content, whatever its name or format, and prints what it holds: subjects, names, validity, keys, fingerprints, CRL entries.",
				Groups: []FlagGroup{
					{"Files", []string{"passphrase-file FILE"}},
					outputGroup,
				},
				Examples: []Example{
					{"What the example files are", "tapline certs inspect examples/certs/sensor-01.crt examples/certs/chain.pem examples/certs/crl.pem"},
					{"A PKCS#12 file as JSON", "tapline certs inspect --passphrase-file pfx.pass --json sensor-01.pfx"},
				},
				Exit: []ExitCode{{ExitOK, "every file was read"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Run:  runCertsInspect,
			},
		},
	}
}

var caStore = FlagGroup{"The CA", []string{"dir DIR", "passphrase-file FILE"}}

func caCommand() *Command {
	return &Command{
		Name:    "ca",
		Summary: "the offline certificate authority: init, issue, revoke, crl, export",
		Description: "A small offline CA for the plant: a root (and optionally an intermediate) whose keys are stored " +
			"encrypted under a passphrase, issuing sensor certificates that pass 'tapline certs check'.",
		Examples: []Example{
			{"Make a CA, issue a sensor certificate and export its files", "tapline ca init --dir plant-ca --passphrase-file ca.pass --country DE --org 'Example Plant'\ntapline ca issue --dir plant-ca --passphrase-file ca.pass --hostname sensor-01.plant.example --ip 192.0.2.111\ntapline ca export --dir plant-ca --passphrase-file ca.pass --hostname sensor-01.plant.example --out sensor-01"},
		},
		Subs: []*Command{
			{
				Name:    "init",
				Summary: "create the CA: a root, optionally an intermediate",
				Groups: []FlagGroup{caStore,
					{"Subject", []string{"country CC", "org NAME", "ou NAME", "name CN"}},
					{"Keys", []string{"intermediate", "key-type TYPE", "kdf-iterations N"}},
					{"Certificates it issues", []string{"crl-url URL", "root-crl-url URL"}},
					{"Time", []string{"at TIME"}},
				},
				Required: []string{"dir", "passphrase-file", "country", "org"},
				Examples: []Example{
					{"A root and an intermediate with the CRL distribution points of both levels", "tapline ca init --dir plant-ca --passphrase-file ca.pass --country DE --org 'Example Plant' --intermediate --crl-url http://pki.plant.example/ca.crl --root-crl-url http://pki.plant.example/root.crl"},
				},
				Run: runCAInit,
			},
			{
				Name:    "issue",
				Summary: "issue a sensor certificate (a new key, or for a CSR)",
				Groups: []FlagGroup{caStore,
					{"The sensor", []string{"hostname NAME", "ip ADDRESS", "csr FILE", "key-type TYPE", "days N", "usage USAGE"}},
					{"Time", []string{"at TIME"}},
				},
				Required: []string{"dir", "passphrase-file", "hostname"},
				Examples: []Example{
					{"A certificate and key for sensor-01", "tapline ca issue --dir plant-ca --passphrase-file ca.pass --hostname sensor-01.plant.example --ip 192.0.2.111"},
					{"sensor-01's client certificate for the site's NATS servers (its uplink)", "tapline ca issue --dir plant-ca --passphrase-file ca.pass --hostname sensor-01 --usage client"},
				},
				Run: runCAIssue,
			},
			{
				Name:    "revoke",
				Summary: "revoke a certificate the CA issued",
				Usage:   "(--serial HEX | --cert FILE) [flags]",
				Groups: []FlagGroup{caStore,
					{"The certificate", []string{"serial HEX", "cert FILE", "reason REASON"}},
					{"Time", []string{"at TIME"}},
				},
				Required: []string{"dir", "passphrase-file"},
				Examples: []Example{
					{"Revoke a compromised sensor certificate, then publish a new CRL", "tapline ca revoke --dir plant-ca --passphrase-file ca.pass --cert sensor-01.crt --reason keyCompromise\ntapline ca crl --dir plant-ca --passphrase-file ca.pass --out plant.crl"},
				},
				Run: runCARevoke,
			},
			{
				Name:    "crl",
				Summary: "write the current certificate revocation lists of every CA level",
				Groups: []FlagGroup{caStore,
					{"The CRL", []string{"out FILE", "root-out FILE", "days N", "der"}},
					{"Time", []string{"at TIME"}},
				},
				Required: []string{"dir", "passphrase-file"},
				Examples: []Example{
					{"A CRL valid for 7 days, in DER for a web server", "tapline ca crl --dir plant-ca --passphrase-file ca.pass --days 7 --der --out ca.crl"},
				},
				Run: runCACRL,
			},
			{
				Name:    "export",
				Summary: "write an issued certificate's files: key, certificate, chain, PKCS#12",
				Usage:   "(--serial HEX | --hostname NAME) --out DIR [flags]",
				Groups: []FlagGroup{caStore,
					{"The certificate", []string{"serial HEX", "hostname NAME"}},
					{"Files written", []string{"out DIR", "name NAME", "key-passphrase-file FILE", "pfx-passphrase-file FILE", "legacy-pfx"}},
				},
				Required: []string{"dir", "passphrase-file", "out"},
				Examples: []Example{
					{"sensor-01's files for its bundle", "tapline ca export --dir plant-ca --passphrase-file ca.pass --hostname sensor-01.plant.example --out sensor-01"},
				},
				Run: runCAExport,
			},
		},
	}
}

func activationCommand() *Command {
	return &Command{
		Name:    "activation",
		Summary: "issue, inspect and verify signed sensor activation files",
		Description: "An activation file is signed under the root of trust Tapline ships (assets/activation-root.pub) and names one sensor. " +
			"'issue' and 'lab-init' serve a lab or on-premises authority; files they sign verify only with --trust-root.",
		Examples: []Example{
			{"Check an activation file for the sensor being deployed", "tapline activation verify sensor-01.tapact --sensor sensor-01"},
		},
		Subs: []*Command{
			{
				Name:    "issue",
				Summary: "sign an activation file for one sensor (a lab or on-premises authority)",
				Groups: []FlagGroup{
					{"The authority", []string{"signing-key FILE", "signer-cert FILE"}},
					{"The sensor", []string{"sensor-id ID", "sensor-name NAME", "site NAME", "zone NAME", "plan ID", "devices N"}},
					{"Management", []string{"mode MODE", "expires TIME"}},
					{"Output", []string{"out FILE"}},
				},
				Required: []string{"signing-key", "signer-cert", "sensor-id", "sensor-name", "mode"},
				Examples: []Example{
					{"A locally managed sensor's file, valid to the end of 2027", "tapline activation issue --signing-key lab/demo-signer.key --signer-cert lab/demo-signer.cert --sensor-id SN-A-0001 --sensor-name sensor-01 --mode local --expires 2027-12-31"},
				},
				Run: activationIssue,
			},
			{
				Name:        "inspect",
				Summary:     "show what an activation file says, without checking its signature",
				Usage:       "FILE [flags]",
				Groups:      []FlagGroup{outputGroup},
				Examples:    []Example{{"", "tapline activation inspect examples/site-a/activation/sensor-01.tapact"}},
				Exit:        []ExitCode{{ExitOK, "the file was read"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Description: "Prints the sensor, site, mode, plan, issue and expiry times and the signing key. It does not check the signature: 'tapline activation verify' does.",
				Run:         activationInspect,
			},
			{
				Name:    "verify",
				Summary: "check an activation file the way the sensor will",
				Usage:   "FILE --sensor NAME [flags]",
				Description: "Checks the signature chain up to the root of trust, that the file names this sensor, the 14-day upload " +
					"window after issue, the expiry of a locally managed file, and the management mode.",
				Groups: []FlagGroup{
					{"The sensor", []string{"sensor NAME", "mode MODE"}},
					{"Trust", []string{"trust-root FILE", "at TIME"}},
					outputGroup,
				},
				Required: []string{"sensor"},
				Examples: []Example{
					{"Verify the example's file with its lab root (tapline batch example makes it)", "tapline activation verify examples/site-a/activation/sensor-01.tapact --sensor sensor-01 --trust-root examples/site-a/demo-authority/demo-root.pub"},
				},
				Exit: []ExitCode{{ExitOK, "the sensor would accept the file"}, {ExitVerdict, "the sensor would refuse it (the findings say why)"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Run:  activationVerify,
			},
			{
				Name:        "lab-init",
				Summary:     "make a LAB/DEMO activation authority: a root and a certified signing key",
				Description: "Writes demo-root.pub, demo-root.key, demo-signer.key and demo-signer.cert. A lab root is never the production root: files it signs verify only with --trust-root.",
				Groups:      []FlagGroup{{"Output", []string{"out DIR", "years N"}}},
				Required:    []string{"out"},
				Examples:    []Example{{"", "tapline activation lab-init --out lab"}},
				Run:         activationLabInit,
			},
		},
	}
}

func releaseCommand() *Command {
	return &Command{
		Name:    "release",
		Summary: "sign and verify sensorcore releases (lab-init, sign, verify)",
		Description: "A sensorcore release is signed: a statement of its version, OS/arch, SHA-256 and size, signed by a release key " +
			"the root of trust certifies (docs/formats.md, \"Release signature\"). 'push --install-core' verifies it before sending " +
			"anything, and the appliance verifies it again before it runs or installs the binary.",
		Examples: []Example{
			{"What make build does: a lab release key, then bin/sensorcore signed with it", "tapline release lab-init --out bin/release-lab\ntapline release sign --signing-key bin/release-lab/release-signer.key --signer-cert bin/release-lab/release-signer.cert --version 0.2.0 bin/sensorcore"},
		},
		Subs: []*Command{
			{
				Name:        "lab-init",
				Summary:     "make a LAB/DEMO release key certified by a lab root",
				Description: "Writes release-root.pub, release-signer.key and release-signer.cert (and release-root.key for a new root). What a lab key signs is trusted only where its root is named explicitly (--release-root, the appliance's release_trust_roots).",
				Groups:      []FlagGroup{{"Output", []string{"out DIR", "years N"}}, {"The root", []string{"root-key FILE"}}},
				Required:    []string{"out"},
				Examples:    []Example{{"", "tapline release lab-init --out bin/release-lab"}, {"Under the activation lab root", "tapline release lab-init --out lab-release --root-key lab/demo-root.key"}},
				Run:         releaseLabInit,
			},
			{
				Name:    "sign",
				Summary: "sign a sensorcore binary as a release",
				Usage:   "BINARY --signing-key FILE --signer-cert FILE --version VERSION [flags]",
				Groups: []FlagGroup{
					{"The release key", []string{"signing-key FILE", "signer-cert FILE"}},
					{"The release", []string{"version VERSION", "os OS", "arch ARCH", "allow-downgrade"}},
					{"Output", []string{"out FILE"}},
				},
				Required: []string{"signing-key", "signer-cert", "version"},
				Examples: []Example{{"", "tapline release sign --signing-key bin/release-lab/release-signer.key --signer-cert bin/release-lab/release-signer.cert --version 0.2.0 bin/sensorcore"}},
				Run:      releaseSign,
			},
			{
				Name:     "verify",
				Summary:  "verify a sensorcore binary against its release signature",
				Usage:    "BINARY [flags]",
				Groups:   []FlagGroup{{"Trust", []string{"signature FILE", "release-root FILE"}}, outputGroup},
				Examples: []Example{{"A binary signed by make build's lab key", "tapline release verify --release-root bin/release-lab/release-root.pub bin/sensorcore"}},
				Exit:     []ExitCode{{ExitOK, "the signature holds"}, {ExitVerdict, "the binary or its signature is refused"}, {ExitUsage, "usage error, or a file that cannot be read"}},
				Run:      releaseVerify,
			},
		},
	}
}

// The flags batch run and push share (runFlags), grouped.
var (
	trustGroup    = FlagGroup{"Trust", []string{"known-hosts FILE", "accept-new", "trust-root FILE", "at TIME"}}
	runGroup      = FlagGroup{"The run", []string{"parallel N", "canary N", "retries N", "backoff DURATION", "resume", "journal FILE", "report-dir DIR", "accept-warnings", "no-validate"}}
	timeoutsGroup = FlagGroup{"Timeouts", []string{"connect-timeout DURATION", "confirm-timeout DURATION"}}
	applianceGrp  = FlagGroup{"The appliance", []string{"core COMMAND", "incoming DIR", "min-core-version VERSION", "install-core", "core-binary FILE", "core-signature FILE", "release-root FILE"}}
	localCAGroup  = FlagGroup{"Local CA (cert_source local-ca)", []string{"ca DIR", "ca-passphrase-file FILE"}}
)

var runExit = []ExitCode{
	{ExitOK, "every sensor ended done: applied, confirmed, its certificate verified over TLS"},
	{ExitVerdict, "the offline check refused, or a sensor did not end done (the reports say why)"},
	{ExitUsage, "usage error, or an inventory or file that cannot be read"},
}

func pushCommand() *Command {
	return &Command{
		Name:    "push",
		Summary: "provision one sensor over SSH",
		Usage:   "--sensor NAME --address IP --ssh-user USER --auth key|agent|password [flags]",
		Description: "Does for one sensor what 'tapline batch run' does for an inventory: the flags are the inventory's " +
			"columns (docs/inventory.md; --new-ip is new_ip). The row is checked offline, its bundle built in memory " +
			"and pushed; the sensor counts as done once its console serves the bundle's certificate. Secrets come from " +
			"TAPLINE_SSH_PASSWORD, TAPLINE_KEY_PASSPHRASE, TAPLINE_CERT_PASSPHRASE, TAPLINE_PROXY_PASSWORD or ssh-agent " +
			"(and the local CA's from TAPLINE_CA_PASSPHRASE, --ca-passphrase-file or the terminal).",
		Groups: []FlagGroup{
			{"The sensor now", []string{"sensor NAME", "address IP", "ssh-port PORT", "ssh-user USER", "auth METHOD", "key-file FILE", "jump HOST", "console-port PORT"}},
			{"Its network after the push", []string{"interface NAME", "new-ip IP", "new-mask MASK", "new-gateway IP", "new-dns IPS", "new-hostname NAME", "new-address HOST", "proxy URL"}},
			{"Activation and certificate", []string{"activation FILE", "cert-source SOURCE", "cert FILE", "key FILE", "chain FILE", "pfx FILE", "crl FILE", "crl-validation BOOL", "cert-name NAME", "bundle PATH"}},
			{"Protocol plugins", []string{"plugin-key FILE", "plugin FILE", "plugins FILES"}},
			localCAGroup, trustGroup, runGroup, timeoutsGroup, applianceGrp, outputGroup,
		},
		Required: []string{"sensor", "address", "ssh-user", "auth"},
		Examples: []Example{
			{"Move sensor-01 to its plant address with its CA certificate, signing in with ssh-agent", "tapline push --sensor sensor-01 --address 192.0.2.11 --ssh-user admin --auth agent \\\n    --activation sensor-01.tapact --cert sensor-01.crt --key sensor-01.key --chain chain.pem \\\n    --new-ip 192.0.2.111 --new-mask 24 --new-gateway 192.0.2.1 --new-hostname sensor-01.plant.example"},
			{"Trust a sensor seen for the first time (its fingerprint is printed)", "TAPLINE_SSH_PASSWORD=... tapline push --accept-new --sensor sensor-02 --address 192.0.2.12 \\\n    --ssh-user admin --auth password --activation sensor-02.tapact --cert-source self-signed --new-mask 24"},
			{"Give the sensor the plant's plugin key and a signed plugin (kilnnet.yaml.sig beside it)", "tapline push --sensor sensor-01 --address 192.0.2.11 --ssh-user admin --auth agent --activation sensor-01.tapact \\\n    --cert-source self-signed --new-mask 24 --plugin-key plugin-key/plugin-signing.pub --plugin kilnnet.yaml"},
		},
		Exit: runExit,
		Run:  runPush,
	}
}

func batchCommand() *Command {
	return &Command{
		Name:    "batch",
		Summary: "check or provision a whole site from an inventory CSV",
		Description: "An inventory lists one sensor per row (docs/inventory.md). 'check' checks every row offline; " +
			"'run' checks, then pushes to every sensor, a few at a time, and writes the reports beside the inventory.",
		Examples: []Example{
			{"The example site, made for today, then checked offline", "tapline batch example\ntapline batch check examples/site-a.csv --trust-root examples/site-a/demo-authority/demo-root.pub"},
		},
		Subs: []*Command{
			{
				Name:    "check",
				Summary: "check every row of an inventory offline (nothing connects)",
				Usage:   "INVENTORY.csv [flags]",
				Description: "Checks each row's cells, network settings, activation file and certificate the way the sensor will, " +
					"and the fleet for duplicates, and prints each sensor's network change as a before/after diff. Nothing connects. " +
					"With --ca, each cert_source local-ca row gets a trial certificate from the local CA (nothing recorded), checked as its bundle's will be.",
				Groups: []FlagGroup{
					localCAGroup,
					{"Trust", []string{"trust-root FILE", "at TIME"}},
					outputGroup,
				},
				Examples: []Example{
					{"The example site (made for today by 'tapline batch example')", "tapline batch check examples/site-a.csv --trust-root examples/site-a/demo-authority/demo-root.pub"},
					{"As JSON, as of a given day", "tapline batch check site.csv --at 2026-12-01 --json"},
				},
				Exit: []ExitCode{{ExitOK, "no row has an error (warnings may be)"}, {ExitVerdict, "a row or the fleet has an error"}, {ExitUsage, "usage error, or an inventory that cannot be read"}},
				Run:  batchCheck,
			},
			{
				Name:    "run",
				Summary: "check, then provision every sensor of an inventory",
				Usage:   "INVENTORY.csv [flags]",
				Description: "Runs the offline check (any error, or a warning not accepted: nothing is sent), then pushes up to " +
					"--parallel sensors at once: host key trusted, preflight, bundle built in memory and uploaded, applied, " +
					"the new address confirmed from that address, and the served certificate verified over TLS; then each sensor " +
					"validates itself (sensorcore validate: sanity, gateway, DNS, NTP, each monitoring port's traffic; --no-validate " +
					"skips it). A sensor cut off by wrong settings rolls back by itself. Writes INVENTORY.report.{json,csv,html}, INVENTORY.retry.csv " +
					"and the journal --resume continues from. Ctrl-C, SIGTERM and SIGHUP stop it cleanly.",
				Groups: []FlagGroup{localCAGroup, trustGroup, runGroup, timeoutsGroup, applianceGrp, outputGroup},
				Examples: []Example{
					{"Provision a site, trusting sensors seen for the first time", "tapline batch run site.csv --accept-new"},
					{"Provision a site whose cert_source local-ca rows get their certificates from the offline CA (its passphrase is asked)", "tapline batch run site.csv --ca plant-ca"},
					{"Canary first: two sensors, then the rest if both end done", "tapline batch run site.csv --canary 2"},
					{"Continue an interrupted run", "tapline batch run site.csv --resume"},
				},
				Exit: runExit,
				Run:  batchRun,
			},
			{
				Name:    "example",
				Summary: "write the example site for today: an inventory and its lab material",
				Description: "Writes DIR/site-a.csv and DIR/site-a/: a LAB/DEMO activation authority (its root public key and signer " +
					"certificate), each sensor's activation file issued now, and a lab plant CA's root with each sensor's certificate, " +
					"key and chain. Activation files must be uploaded within 14 days of issue, so the example is remade, not kept: " +
					"run it again on any later day. The authority's and the CA's private keys are never written; an existing " +
					"DIR/site-a/ is replaced only when an earlier run made it. Documentation addresses only (192.0.2.0/24).",
				Groups:   []FlagGroup{{"Output", []string{"out DIR"}}},
				Examples: []Example{{"Remake examples/ for today, then check it", "tapline batch example\ntapline batch check examples/site-a.csv --trust-root examples/site-a/demo-authority/demo-root.pub"}},
				Exit:     []ExitCode{{ExitOK, "the example was written"}, {ExitUsage, "usage error, or a folder it may not replace"}},
				Run:      batchExample,
			},
		},
	}
}

func demoCommand() *Command {
	return &Command{
		Name:    "demo",
		Summary: "run a demo fleet of sensors on this machine (make run)",
		Description: "Starts sensorcore serve processes on 127.0.0.1 with a demo activation authority and a demo local CA, " +
			"and beside them a one-node NATS JetStream site (nats-server, made as 'tapline site init' makes it) that the " +
			"inventory's uplink column provisions every sensor to stream to; with --captures each sensor's monitor replays " +
			"shared captures, looping (docs/site.md). " +
			"--headless provisions them through 'tapline batch run', shows the site and stops; --open-app opens the desktop app on them; " +
			"otherwise they run until Ctrl-C. Every process it started is stopped when it ends.",
		Groups: []FlagGroup{
			{"The fleet", []string{"sensors N", "sensorcore FILE", "dir DIR", "monitor-replay FILE", "v"}},
			{"The site and its traffic", []string{"nats-server FILE", "no-site", "captures DIR", "replay-speed X"}},
			{"What to do with it", []string{"headless", "open-app"}},
		},
		Examples: []Example{
			{"What make run does without a display", "tapline demo --sensorcore bin/sensorcore --nats-server bin/nats-server --captures ../shared/pcaps --headless"},
			{"Five sensors kept running in a folder, for the app", "tapline demo --sensorcore bin/sensorcore --sensors 5 --dir demo"},
			{"Sensors that see Modbus traffic (as root): their monitors discover devices", "sudo tapline demo --sensorcore bin/sensorcore --monitor-replay modbus.pcap"},
		},
		Exit: []ExitCode{{ExitOK, "the fleet ran (and, headless, every sensor ended done)"}, {ExitVerdict, "headless: a sensor did not end done"}, {ExitUsage, "usage error, or the fleet could not start"}},
		Run:  runDemo,
	}
}

func versionCommand() *Command {
	return &Command{
		Name:        "version",
		Summary:     "print Tapline's version (also: tapline --version)",
		Description: "Prints the version, the build (desktop: the app and the CLI; headless: the CLI only), the Go version and the platform.",
		Groups:      []FlagGroup{outputGroup},
		Examples:    []Example{{"", "tapline --version"}, {"", "tapline version --json"}},
		Exit:        []ExitCode{{ExitOK, "always"}, {ExitUsage, "usage error"}},
		Run:         runVersion,
	}
}
