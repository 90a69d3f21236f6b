package provision

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tapline/tapline/provision/sshconn"
)

// DefaultConnectTimeout bounds a TCP connect plus the SSH handshake unless
// the engineer sets another (the CLI's --connect-timeout, the app's
// Settings): one default for every face.
const DefaultConnectTimeout = 15 * time.Second

// Session is one push setup, shared by every face that pushes: the CLI's
// `batch run` and `push`, the app's wizard and its Fleet tab. It holds what
// stays the same for a sitting at the laptop: which host keys are trusted
// and how a new one is treated, the secrets (in memory only), how rows are
// checked before anything is sent, and the push's timeouts.
//
// Bundles are built in memory and streamed to the sensor over SFTP: no
// unencrypted private key is ever written to the laptop's disk. The first
// use of a session removes bundle folders older versions left behind
// (StaleBundleDirs).
//
// A Session is safe for concurrent use once its fields are set; they must
// not change afterwards.
type Session struct {
	// KnownHosts is the known_hosts file the first connection to a sensor
	// trusts (the app's own file, or ~/.ssh/known_hosts for the CLI).
	KnownHosts string
	// AcceptNew is the trust policy for a host not yet in KnownHosts: true
	// appends its key (the engineer compared the fingerprint, or asked for
	// --accept-new); nil refuses every unknown host (TL-PUSH-001). A
	// changed key is always refused.
	AcceptNew func(*sshconn.UnknownHostError) bool
	// Secrets are the SSH and certificate secrets; never from the inventory.
	Secrets Secrets
	// Check is how each row is checked before its bundle is built (zero
	// Now: the time the bundle is made; no ActivationRoots: the production
	// root; no CertPassphrase: Secrets.CertPassphrase).
	Check CheckOptions
	// AcceptWarnings is the engineer's explicit acceptance of the check's
	// warnings (--accept-warnings, the app's "accept warnings" box): without
	// it a row whose check warns gets no bundle; the accepted codes are
	// recorded in the manifest. Errors always refuse.
	AcceptWarnings bool
	// Creator is recorded in each bundle's manifest ("tapline 0.2.0").
	Creator string
	// IssueLocal issues the certificate of a cert_source local-ca row when
	// its bundle is built (IssueFromLocalCA); nil refuses such rows. What
	// it issues passes the same check as a certificate given in files.
	IssueLocal func(row Row, now time.Time) (*LocalIssued, error)
	// WorkDir is the session's folder on the laptop (the app's files
	// folder); reports may go there, never a bundle. Empty: none.
	WorkDir string
	// PushOptions shape every push (timeouts, remote command,
	// install-core). Trust is the session's own; Events is set per call.
	PushOptions Options
	// Now is the clock (default time.Now).
	Now func() time.Time

	once  sync.Once
	trust *sshconn.KnownHosts
	// byFiles are the trusts of the known_hosts lists ~/.ssh/config names
	// (UserKnownHostsFile), one per list so appends stay serialised.
	mu      sync.Mutex
	byFiles map[string]*sshconn.KnownHosts
}

// Secrets are a session's secrets, held in memory only and never logged.
type Secrets struct {
	// SSHPassword signs in rows with auth password (TAPLINE_SSH_PASSWORD).
	SSHPassword string
	// KeyPassphrase is asked for an encrypted key file (auth key); it gets
	// the file name.
	KeyPassphrase func(keyFile string) ([]byte, error)
	// AgentSocket is the ssh-agent for rows with auth agent
	// (sshconn.FindAgent: SSH_AUTH_SOCK, on Windows the OpenSSH agent
	// service or Pageant).
	AgentSocket string
	// CertPassphrase opens an encrypted certificate key or PKCS#12 file
	// (TAPLINE_CERT_PASSPHRASE).
	CertPassphrase []byte
	// ProxyPassword is the sensor's proxy password for rows whose own
	// Row.ProxyPassword is empty (TAPLINE_PROXY_PASSWORD); it goes only
	// into the bundle's settings.json, which never touches the disk.
	ProxyPassword string
	// JumpAuth logs in to jump hosts (default: the row's own auth).
	JumpAuth *sshconn.Auth
}

// SecretsFromEnv reads the secrets the CLI takes from the environment:
// TAPLINE_SSH_PASSWORD, the ssh-agent (SSH_AUTH_SOCK, or on Windows the
// OpenSSH agent service or Pageant), TAPLINE_KEY_PASSPHRASE,
// TAPLINE_CERT_PASSPHRASE and TAPLINE_PROXY_PASSWORD. The app takes the
// agent from here too; its other secrets come from its fields.
func SecretsFromEnv(getenv func(string) string) Secrets {
	s := Secrets{SSHPassword: getenv("TAPLINE_SSH_PASSWORD"), AgentSocket: sshconn.FindAgent(getenv),
		ProxyPassword: getenv("TAPLINE_PROXY_PASSWORD")}
	if p := getenv("TAPLINE_CERT_PASSPHRASE"); p != "" {
		s.CertPassphrase = []byte(p)
	}
	if p := getenv("TAPLINE_KEY_PASSPHRASE"); p != "" {
		s.KeyPassphrase = func(string) ([]byte, error) { return []byte(p), nil }
	}
	return s
}

func (s *Session) init() {
	s.once.Do(func() {
		s.trust = &sshconn.KnownHosts{File: s.KnownHosts, Accept: s.AcceptNew}
		for _, d := range StaleBundleDirs(s.WorkDir) {
			os.RemoveAll(d)
		}
	})
}

// knownHostsTrust is the session's trust for a UserKnownHostsFile list:
// keys are read from every file and new ones appended to the first, with
// the session's AcceptNew policy.
func (s *Session) knownHostsTrust(files []string) sshconn.Trust {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.Join(files, "\x00")
	if k, ok := s.byFiles[key]; ok {
		return k
	}
	if s.byFiles == nil {
		s.byFiles = map[string]*sshconn.KnownHosts{}
	}
	k := &sshconn.KnownHosts{File: files[0], Also: files[1:], Accept: s.AcceptNew}
	s.byFiles[key] = k
	return k
}

func (s *Session) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Trust is the session's host trust: KnownHosts with the AcceptNew policy.
// Every push of the session shares it, so first contacts are appended to
// the file one at a time.
func (s *Session) Trust() sshconn.Trust {
	s.init()
	return s.trust
}

// Options are the push options of the session with events as the
// progress callback (nil: none).
func (s *Session) Options(events func(Event)) Options {
	s.init()
	o := s.PushOptions
	o.Trust = s.trust
	o.Events = events
	if o.Now == nil {
		o.Now = s.Now
	}
	if o.SSH.Timeout <= 0 {
		o.SSH.Timeout = DefaultConnectTimeout
	}
	return o
}

// Steps are the steps a push of this session runs, in order, with the
// words the app shows for each.
func (s *Session) Steps() Steps { return s.PushOptions.Steps() }

// Push checks row, builds its bundle in memory and pushes it, reporting
// progress to events. err is set when no bundle could be built: nothing
// was sent (a *bundle.GateError carries the check's findings).
func (s *Session) Push(ctx context.Context, row Row, events func(Event)) (Result, error) {
	p, err := s.Prepare(ctx, row)
	if err != nil {
		return Result{Sensor: row.Sensor, Outcome: OutcomeRefused, Error: err.Error(), Code: CodeNoBundle}, err
	}
	defer p.Bundle.Wipe()
	return Push(ctx, p.Target, p.Bundle, s.Options(events)), nil
}

// RunBatch runs a batch with the session: rows are prepared by the session
// unless o.Prepare is set, and pushed with its options (o.Push is replaced;
// events go to events).
func (s *Session) RunBatch(ctx context.Context, inv *Inventory, o BatchOptions, events func(Event)) (*BatchReport, error) {
	if o.Prepare == nil {
		o.Prepare = s.Prepare
	}
	o.Push = s.Options(events)
	return RunBatch(ctx, inv, o)
}

// staleAfter is how long a temporary bundle folder of an older version
// must have been left alone before a session removes it.
const staleAfter = 10 * time.Minute

// StaleBundleDirs lists the bundle folders older versions of Tapline
// wrote, which may still hold unencrypted private keys: tapline-bundles-*
// in the temporary folder untouched for 10 minutes (a batch killed before
// it could clean up) and
// "bundles" under workDir (the app kept every bundle there). A session
// removes them on first use.
func StaleBundleDirs(workDir string) []string {
	var out []string
	if ents, err := os.ReadDir(os.TempDir()); err == nil {
		for _, e := range ents {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), "tapline-bundles-") {
				continue
			}
			// A folder still being written belongs to a running older
			// batch; one left alone for a while is a killed one's.
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
				out = append(out, filepath.Join(os.TempDir(), e.Name()))
			}
		}
	}
	if workDir != "" {
		d := filepath.Join(workDir, "bundles")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// Validate connects to the sensor at t (trusting the key an earlier push
// proved, t.PinnedKey, or else the session's known_hosts) and asks it to
// validate itself: what the wizard and Fleet call after a push.
func (s *Session) Validate(ctx context.Context, t Target) (*Validation, error) {
	o := s.Options(nil)
	var trust sshconn.Trust = o.Trust
	if t.Trust != nil {
		trust = t.Trust
	}
	if t.PinnedKey != nil {
		trust = sshconn.Pinned{Key: t.PinnedKey}
	}
	so := o.SSH
	if t.Jump != nil {
		so.Jump, so.JumpTrust = t.Jump, o.Trust
	}
	c, err := sshconn.Dial(ctx, sshconn.Endpoint{Addr: t.Addr, User: t.User, Auth: t.Auth}, trust, so)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return Validate(ctx, c.Client, o.Core)
}
