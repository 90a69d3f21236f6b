package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/provision"
	"github.com/tapline/tapline/provision/sshconn"
)

// checkFlags are shared by batch check, batch run and push.
type checkFlags struct {
	roots multiFlag
	at    *string
	json  *bool
}

func addCheckFlags(fs *FlagSet) *checkFlags {
	c := &checkFlags{}
	fs.Var(&c.roots, "trust-root", "LAB/DEMO ONLY: trust this activation root public key instead of the production root")
	c.at = fs.String("at", "", "check as of this time (RFC 3339 or a date; default now)")
	c.json = fs.Bool("json", false, "print JSON")
	return c
}

func (c *checkFlags) options(env *Env) (provision.CheckOptions, error) {
	o := provision.CheckOptions{Now: env.Now()}
	at, err := parseTimeFlag("at", *c.at)
	if err != nil {
		return o, err
	}
	if !at.IsZero() {
		o.Now = at
	}
	if o.ActivationRoots, err = trustRoots(c.roots); err != nil {
		return o, err
	}
	if p := env.Getenv("TAPLINE_CERT_PASSPHRASE"); p != "" {
		o.CertPassphrase = []byte(p)
	}
	return o, nil
}

// loadAndCheck parses the inventory and runs the offline check. A nil
// report means the input was unusable (exit 2, already printed).
func loadAndCheck(env *Env, inv *provision.Inventory, perr error, o provision.CheckOptions) *provision.CheckReport {
	if inv == nil {
		env.Errorf("%v", perr)
		return nil
	}
	rep := provision.Check(inv, o)
	for _, e := range flattenErr(perr) {
		rep.Fleet = append(rep.Fleet, certs.Finding{Code: provision.CodeInventoryField, Severity: certs.SeverityError, Message: e.Error(), Hint: "see docs/inventory.md"})
	}
	return rep
}

func flattenErr(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErr(e)...)
		}
		return out
	}
	return []error{err}
}

func printCheck(w io.Writer, rep *provision.CheckReport) {
	for _, rc := range rep.Rows {
		errs := 0
		for _, f := range rc.Findings {
			if f.Severity == certs.SeverityError {
				errs++
			}
		}
		verdict := "ok"
		if errs > 0 {
			verdict = fmt.Sprintf("%d error(s)", errs)
		}
		fmt.Fprintf(w, "line %d %s (%s): %s\n", rc.Row.Line, rc.Row.Sensor, rc.Row.SSHAddr(), verdict)
		for _, f := range rc.Findings {
			fmt.Fprintf(w, "  %s %s %s\n", f.Severity, f.Code, f.Message)
			if f.Hint != "" && f.Severity != certs.SeverityInfo {
				fmt.Fprintf(w, "      fix: %s\n", f.Hint)
			}
		}
		if rc.CertFingerprint != "" {
			fmt.Fprintf(w, "  certificate %s sha256:%s\n", rc.CN, rc.CertFingerprint)
		}
		for _, d := range rc.Diff {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	for _, f := range rep.Fleet {
		fmt.Fprintf(w, "fleet: %s %s %s\n", f.Severity, f.Code, f.Message)
	}
	if len(rep.Rows) > 0 {
		fmt.Fprintln(w, "network diffs: '-' is the inventory's address (offline, nothing connected); the push diffs against the sensor's live network at preflight")
	}
}

func batchCheck(env *Env, args []string) int {
	fs := newFlags(env, "batch check")
	cf := addCheckFlags(fs)
	lf := addLocalCAFlags(fs)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("batch check: give exactly one inventory CSV (see docs/inventory.md)")
		return ExitUsage
	}
	o, err := cf.options(env)
	if err != nil {
		env.Errorf("batch check: %v", err)
		return ExitUsage
	}
	inv, perr := provision.ReadInventory(pos[0])
	local, ok := lf.open(env, inv, false)
	if !ok {
		return ExitUsage
	}
	if local != nil {
		o.IssueLocal = provision.IssueFromLocalCA(local.Trial())
	}
	rep := loadAndCheck(env, inv, perr, o)
	if rep == nil {
		return ExitUsage
	}
	if *cf.json {
		printJSON(env.Stdout, rep)
	} else {
		printCheck(env.Stdout, rep)
	}
	if rep.HasErrors() {
		return ExitVerdict
	}
	return ExitOK
}

// runFlags are shared by batch run and push.
type runFlags struct {
	check          *checkFlags
	parallel       *int
	canary         *int
	retries        *int
	backoff        *time.Duration
	resume         *bool
	acceptNew      *bool
	knownHosts     *string
	confirmTimeout *time.Duration
	connectTimeout *time.Duration
	incoming       *string
	core           *string
	reportDir      *string
	journal        *string
	minCore        *string
	acceptWarnings *bool
	installCore    *bool
	coreBinary     *string
	coreSignature  *string
	releaseRoots   *multiFlag
	noValidate     *bool
	localCA        localCAFlags
}

func addRunFlags(fs *FlagSet) *runFlags {
	return &runFlags{
		check:          addCheckFlags(fs),
		parallel:       fs.Int("parallel", 8, "sensors pushed at once"),
		canary:         fs.Int("canary", 0, "push the first N sensors first and stop if any fails"),
		retries:        fs.Int("retries", 2, "extra attempts after a transient fault (lost or timed-out connection); never after a refusal"),
		backoff:        fs.Duration("backoff", 2*time.Second, "pause before the first retry (doubles, at most 30s)"),
		resume:         fs.Bool("resume", false, "skip sensors the journal shows done"),
		acceptNew:      fs.Bool("accept-new", false, "trust hosts not yet in known_hosts and add them (their fingerprints are printed); a changed key is always refused"),
		knownHosts:     fs.String("known-hosts", "", "known_hosts file (default ~/.ssh/known_hosts)"),
		confirmTimeout: fs.Duration("confirm-timeout", 0, "rollback deadline asked of apply (default: the appliance's, 120s)"),
		connectTimeout: fs.Duration("connect-timeout", provision.DefaultConnectTimeout, "TCP connect plus SSH handshake timeout"),
		incoming:       fs.String("incoming", "/", "SFTP directory uploads go to (the appliance's incoming dir as its SFTP server shows it)"),
		core:           fs.String("core", "sensorcore", "remote command name"),
		reportDir:      fs.String("report-dir", "", "where the reports go (default: beside the inventory)"),
		journal:        fs.String("journal", "", "journal file (default: INVENTORY.journal.jsonl)"),
		minCore:        fs.String("min-core-version", "", "refuse sensors running an older sensorcore"),
		installCore:    fs.Bool("install-core", false, "before preflight, install the sensorcore Tapline carries (--core-binary) on sensors whose sensorcore is older (previous kept as sensorcore.prev)"),
		coreBinary:     fs.String("core-binary", provision.DefaultCoreBinary(), "the sensorcore binary --install-core installs (default: sensorcore beside tapline)"),
		coreSignature:  fs.String("core-signature", "", "the --core-binary's release signature (default: the binary's path + .sig); verified before anything is sent"),
		releaseRoots:   releaseRootFlag(fs),
		noValidate:     fs.Bool("no-validate", false, "skip the validation after the push (sensorcore validate: gateway, DNS, NTP, each monitoring port's traffic)"),
		acceptWarnings: fs.Bool("accept-warnings", false, "accept the offline check's warnings (read them first: tapline batch check); without it a warning stops the run before anything is sent"),
		localCA:        addLocalCAFlags(fs),
	}
}

// execute checks inv offline, then pushes it and writes the reports.
func (rf *runFlags) execute(env *Env, inv *provision.Inventory, perr error, base string) int {
	co, err := rf.check.options(env)
	if err != nil {
		env.Errorf("%v", err)
		return ExitUsage
	}
	if inv == nil {
		env.Errorf("%v", perr)
		return ExitUsage
	}
	local, ok := rf.localCA.open(env, inv, true)
	if !ok {
		return ExitUsage
	}
	if local != nil {
		// The offline check issues a trial certificate per row (nothing
		// recorded) and checks it as the bundle's will be.
		co.IssueLocal = provision.IssueFromLocalCA(local.Trial())
	}
	chk := loadAndCheck(env, inv, perr, co)
	if chk == nil {
		return ExitUsage
	}
	if chk.HasErrors() {
		printCheck(env.Stderr, chk)
		env.Errorf("the offline check found errors: nothing was sent; fix them and run again")
		return ExitVerdict
	}
	if n := chk.Warnings(); n > 0 && !*rf.acceptWarnings {
		printCheck(env.Stderr, chk)
		env.Errorf("the offline check found %d warning(s): nothing was sent; read them and run again with --accept-warnings to accept them", n)
		return ExitVerdict
	}
	var core *provision.Core
	if *rf.installCore {
		roots, err := rf.releaseRoots.roots()
		if err != nil {
			env.Errorf("--release-root: %v", err)
			return ExitUsage
		}
		c, err := provision.LoadCore(*rf.coreBinary, provision.CoreOptions{Signature: *rf.coreSignature, Roots: roots})
		if err != nil {
			env.Errorf("--install-core: %v", err)
			return ExitUsage
		}
		core = &c
	}
	kh := *rf.knownHosts
	if kh == "" {
		if kh, err = sshconn.DefaultKnownHostsFile(); err != nil {
			env.Errorf("%v", err)
			return ExitUsage
		}
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(env.Stderr, format+"\n", args...)
	}
	sess := &provision.Session{KnownHosts: kh, Secrets: provision.SecretsFromEnv(env.Getenv), Check: co,
		AcceptWarnings: *rf.acceptWarnings, Creator: "tapline " + Version, Now: env.Now,
		PushOptions: provision.Options{SSH: sshconn.Options{Timeout: *rf.connectTimeout}, Core: *rf.core, IncomingDir: *rf.incoming,
			ConfirmTimeout: *rf.confirmTimeout, MinCoreVersion: *rf.minCore, InstallCore: core, Validate: !*rf.noValidate,
			Plugins: inv != nil && inv.HasPlugins()}}
	sess.Secrets.KeyPassphrase = keyPassphrase(env)
	if local != nil {
		sess.IssueLocal = provision.IssueFromLocalCA(local)
	}
	if *rf.acceptNew {
		sess.AcceptNew = func(u *sshconn.UnknownHostError) bool {
			say("accepting new host %s: %s %s (added to %s)", u.Host, u.KeyType, u.Fingerprint, kh)
			return true
		}
	}
	jpath := *rf.journal
	if jpath == "" {
		jpath = base + ".journal.jsonl"
	}
	j, err := provision.OpenJournal(jpath, env.Now)
	if err != nil {
		env.Errorf("%v", err)
		return ExitUsage
	}
	defer j.Close()
	last := map[string]provision.Step{}
	// SIGTERM and SIGHUP (a closed terminal) stop the run as Ctrl-C does:
	// running pushes end, the journal and the reports are written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := sess.RunBatch(ctx, inv, provision.BatchOptions{
		Parallel: *rf.parallel, Canary: *rf.canary, Retries: max(*rf.retries, 0) - boolInt(*rf.retries == 0), Backoff: *rf.backoff,
		Journal: j, Resume: *rf.resume,
	}, func(e provision.Event) {
		outMu.Lock()
		changed := last[e.Sensor] != e.Step
		last[e.Sensor] = e.Step
		outMu.Unlock()
		switch {
		case e.Message != "":
			say("%s: %s %s", e.Sensor, e.Step, e.Message)
		case changed:
			say("%s: %s...", e.Sensor, e.Step) // the step starts
		}
	})
	if err != nil {
		env.Errorf("%v", err)
		return ExitUsage
	}
	dir := *rf.reportDir
	if dir == "" {
		dir = filepath.Dir(base)
	}
	stem := filepath.Join(dir, filepath.Base(base))
	// A retry inventory updates its site's combined report.
	site, note := rep, ""
	if of := provision.RetryOf(inv.Path); of != "" {
		siteStem := filepath.Join(filepath.Dir(inv.Path), of)
		prev, err := provision.ReadReport(siteStem + ".report.json")
		switch {
		case err == nil:
			site, stem = prev.Merge(rep), siteStem
			note = fmt.Sprintf(" (the site's combined report: this retry updated %d sensor(s))", retried(rep))
		case errors.Is(err, fs.ErrNotExist):
			env.Errorf("%s is a retry of %s, but %s.report.json is gone: this run's reports go to %s.report.*", inv.Path, of, siteStem, stem)
		default:
			env.Errorf("%s is a retry of %s, but its report is unreadable (%v): this run's reports go to %s.report.*", inv.Path, of, err, stem)
		}
	}
	if err := provision.WriteReports(site, inv.Header, stem); err != nil {
		env.Errorf("writing reports: %v", err)
		return ExitUsage
	}
	if *rf.check.json {
		site.WriteJSON(env.Stdout)
	} else {
		printSiteSummary(env.Stdout, site, stem, note)
	}
	if rep.AllDone() {
		return ExitOK
	}
	return ExitVerdict
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// retried counts the rows a run reached (started, not resumed).
func retried(rep *provision.BatchReport) int {
	n := 0
	for _, x := range rep.Results {
		if x.Result.Outcome != provision.OutcomeNotStarted && !x.Resumed {
			n++
		}
	}
	return n
}

// printSiteSummary names the sensors that need attention first, with what is
// wrong and the fix, then those done, one compact line each.
func printSiteSummary(w io.Writer, rep *provision.BatchReport, stem, note string) {
	att, done := rep.Attention()
	width := 0
	for _, x := range rep.Results {
		width = max(width, len(x.Row.Sensor))
	}
	line := func(x provision.RowResult) {
		fmt.Fprintf(w, "  %-*s  %s  %s  %s\n", width, x.Row.Sensor, x.OutcomeText(), x.Address(), x.Verdict())
	}
	if len(att) > 0 {
		fmt.Fprintf(w, "needs attention (%d):\n", len(att))
		for _, x := range att {
			line(x)
			if x.Result.Error != "" {
				fmt.Fprintf(w, "      %s\n", x.Result.Error)
			}
			if x.Result.Fix != "" {
				fmt.Fprintf(w, "      fix: %s\n", x.Result.Fix)
			}
		}
	}
	if len(done) > 0 {
		fmt.Fprintf(w, "done (%d):\n", len(done))
		for _, x := range done {
			line(x)
		}
	}
	if rep.Stopped != "" {
		fmt.Fprintln(w, "stopped:", rep.Stopped)
	}
	fmt.Fprintf(w, "reports: %s.report.{json,csv,html}%s\n", stem, note)
	if len(att) > 0 {
		fmt.Fprintf(w, "to retry the %d sensor(s) that need attention: tapline batch run %s.retry.csv\n", len(att), stem)
	}
}

func batchRun(env *Env, args []string) int {
	fs := newFlags(env, "batch run")
	rf := addRunFlags(fs)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("batch run: give exactly one inventory CSV (see docs/inventory.md)")
		return ExitUsage
	}
	inv, perr := provision.ReadInventory(pos[0])
	return rf.execute(env, inv, perr, strings.TrimSuffix(pos[0], filepath.Ext(pos[0])))
}
