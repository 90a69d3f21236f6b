package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
)

func consoleCommand() *Command {
	return &Command{
		Name:    "console",
		Summary: "the sensor's HTTPS console: recover access to a privileged account",
		Description: "The sensor's console has two privileged accounts, admin and support. When their passwords are lost or " +
			"an account is locked, 'reset' recovers it over the provisioning SSH channel, the only way to do so remotely.",
		Examples: []Example{
			{"Give admin a one-time password", "tapline console reset --user admin --address 192.0.2.11 --ssh-user provision --auth agent"},
		},
		Subs: []*Command{{
			Name:    "reset",
			Summary: "give admin or support a one-time console password over SSH",
			Usage:   "--user admin|support --address IP --ssh-user USER --auth key|agent|password [flags]",
			Description: "Signs in to the sensor over SSH as provisioning does (its host key verified against known_hosts) and runs " +
				"'sensorcore console reset': the account gets a one-time password, printed here, that must be changed at its next " +
				"sign-in; its console sessions end and its sign-in throttling and lock are cleared. The sensor records the reset " +
				"(which account, from where) in its account log. Secrets come from TAPLINE_SSH_PASSWORD, TAPLINE_KEY_PASSPHRASE or ssh-agent.",
			Groups: []FlagGroup{
				{"The account", []string{"user NAME"}},
				{"The sensor", []string{"sensor NAME", "address IP", "ssh-port PORT", "ssh-user USER", "auth METHOD", "key-file FILE", "jump HOST", "console-port PORT"}},
				{"Trust", []string{"known-hosts FILE", "accept-new"}},
				{"Timeouts", []string{"connect-timeout DURATION"}},
				{"The appliance", []string{"core COMMAND"}},
				outputGroup,
			},
			Required: []string{"user", "address", "ssh-user", "auth"},
			Examples: []Example{
				{"Give admin a one-time password, signing in with ssh-agent", "tapline console reset --user admin --address 192.0.2.11 --ssh-user provision --auth agent"},
				{"Reset support on a sensor behind a jump host, as JSON", "tapline console reset --user support --address 192.0.2.11 --ssh-user provision --auth key \\\n    --key-file ~/.ssh/provision_ed25519 --jump engineer@192.0.2.1 --json"},
			},
			Exit: []ExitCode{
				{ExitOK, "the account has a one-time password (printed)"},
				{ExitVerdict, "the sensor could not be reached, its host key is not trusted, or it refused the reset"},
				{ExitUsage, "usage error"},
			},
			Run: runConsoleReset,
		}},
	}
}

// runConsoleReset is "tapline console reset".
func runConsoleReset(env *Env, args []string) int {
	fs := newFlags(env, "console reset")
	user := fs.String("user", "", "the console account: admin or support")
	sensor := fs.String("sensor", "", "the sensor's name, for the messages")
	address := fs.String("address", "", "its IP or host name (or IP:port)")
	sshPort := fs.Int("ssh-port", 22, "SSH port (default 22, or the port in --address)")
	sshUser := fs.String("ssh-user", "", "SSH user of the provisioning account")
	auth := fs.String("auth", "", "key (--key-file, or ssh's default key), agent (ssh-agent) or password (TAPLINE_SSH_PASSWORD)")
	keyFile := fs.String("key-file", "", "SSH private key for --auth key (OpenSSH or PuTTY .ppk; default: each of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists, offered in order as ssh does); an encrypted one reads TAPLINE_KEY_PASSPHRASE or asks")
	jump := fs.String("jump", "", "jump host [user@]host[:port] (OpenSSH ProxyJump)")
	consolePort := fs.Int("console-port", 443, "HTTPS console port, for the address printed")
	knownHosts := fs.String("known-hosts", "", "known_hosts file (default ~/.ssh/known_hosts)")
	acceptNew := fs.Bool("accept-new", false, "trust a sensor not yet in known_hosts and add it (its fingerprint is printed); a changed key is always refused")
	timeout := fs.Duration("connect-timeout", provision.DefaultConnectTimeout, "TCP connect plus SSH handshake timeout")
	core := fs.String("core", "sensorcore", "remote command name")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		env.Errorf("console reset: unexpected argument %q; every setting is a flag (tapline console reset --help)", fs.Arg(0))
		return ExitUsage
	}
	if *user != "admin" && *user != "support" {
		env.Errorf("console reset: --user %q: the privileged console accounts are admin and support", *user)
		return ExitUsage
	}
	row := provision.Row{Sensor: *sensor, Address: *address, SSHPort: *sshPort, User: *sshUser, Auth: strings.ToLower(*auth),
		KeyFile: *keyFile, Jump: *jump, ConsolePort: *consolePort}
	if h, p, err := net.SplitHostPort(row.Address); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			env.Errorf("console reset: --address %q has a bad port", row.Address)
			return ExitUsage
		}
		row.Address, row.SSHPort = h, n
	}
	switch row.Auth {
	case provision.AuthKey:
		if row.KeyFile == "" {
			ks, err := sshconn.KeysFor(sshconn.HostSettings{})
			if err != nil {
				env.Errorf("console reset: --auth key: %s", strings.Replace(err.Error(), "name the key file", "give --key-file", 1))
				return ExitUsage
			}
			row.KeyFile, row.MoreKeyFiles = ks[0], ks[1:]
		}
	case provision.AuthAgent, provision.AuthPassword:
	default:
		env.Errorf("console reset: --auth %q: use key, agent or password (the password itself comes from TAPLINE_SSH_PASSWORD)", *auth)
		return ExitUsage
	}
	if row.Sensor == "" {
		row.Sensor = row.Address
	}
	kh := *knownHosts
	if kh == "" {
		var err error
		if kh, err = sshconn.DefaultKnownHostsFile(); err != nil {
			env.Errorf("console reset: %v", err)
			return ExitUsage
		}
	}
	sess := &provision.Session{KnownHosts: kh, Secrets: provision.SecretsFromEnv(env.Getenv), Now: env.Now,
		PushOptions: provision.Options{SSH: sshconn.Options{Timeout: *timeout}, Core: *core}}
	sess.Secrets.KeyPassphrase = keyPassphrase(env)
	if *acceptNew {
		sess.AcceptNew = func(u *sshconn.UnknownHostError) bool {
			fmt.Fprintf(env.Stderr, "accepting new host %s: %s %s (added to %s)\n", u.Host, u.KeyType, u.Fingerprint, kh)
			return true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout+30*time.Second)
	defer cancel()
	res, err := sess.ResetConsoleUser(ctx, row, *user)
	if err != nil {
		env.Errorf("console reset: %s: %v", row.Sensor, err)
		return ExitVerdict
	}
	if *asJSON {
		return printJSON(env.Stdout, res)
	}
	console := "https://" + net.JoinHostPort(row.Address, strconv.Itoa(row.ConsolePort)) + "/"
	fmt.Fprintf(env.Stdout, "One-time console password for %s on %s: %s\n", res.User, row.Sensor, res.Password)
	fmt.Fprintf(env.Stdout, "Sign in at %s as %s with it; a new password is asked for at once.\n", console, res.User)
	fmt.Fprintf(env.Stdout, "%s's console sessions have ended and its sign-in throttling and lock are cleared; the sensor's account log records the reset.\n", res.User)
	return ExitOK
}
