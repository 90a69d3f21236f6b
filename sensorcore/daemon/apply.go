package daemon

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/activation"
	"github.com/tapline/tapline/sensorcore/bundle"
	"github.com/tapline/tapline/sensorcore/crlfetch"
	"github.com/tapline/tapline/sensorcore/generation"
	"github.com/tapline/tapline/sensorcore/netconf"
	"github.com/tapline/tapline/sensorcore/site"
)

// Codes for apply refusals that are not the activation's, bundle's or
// certificate's own.
const (
	CodeSettings          = "TL-APP-001" // settings.json is invalid
	CodeCRLUnreachable    = "TL-APP-002" // the CRL could not be fetched
	CodePath              = "TL-APP-003" // bundle path outside the incoming directory
	CodeIdentity          = "TL-APP-004" // manifest and activation disagree on the sensor
	CodeNetwork           = "TL-APP-005" // the network backend failed; rolled back
	CodeInternal          = "TL-APP-006" // an I/O error on the appliance
	CodeDeadlinePassed    = "TL-APP-007" // confirm came after the rollback deadline
	CodeNothingToRollBack = "TL-APP-008" // rollback with no earlier generation
)

// DefaultConfirmTimeout is the rollback deadline when none is given.
const DefaultConfirmTimeout = 120 * time.Second

// ApplyOptions is one apply request.
type ApplyOptions struct {
	Path           string        // bundle directory or .tapbundle archive
	ConfirmTimeout time.Duration // rollback deadline; default 120 s
	// NewIdentity lets a bundle for another sensor id replace the one this
	// appliance is activated as (re-purposing an appliance on purpose).
	NewIdentity bool
}

// ApplyResult is apply's JSON result (docs/formats.md, "apply result").
type ApplyResult struct {
	OK                  bool                `json:"ok"`
	Generation          int                 `json:"generation"`
	PreviousGeneration  int                 `json:"previous_generation"`
	Fingerprint         string              `json:"certificate_fingerprint_sha256"`
	Activation          *activation.Summary `json:"activation"`
	NetworkChanged      bool                `json:"network_changed"`
	ConfirmationPending bool                `json:"confirmation_pending"`
	RollbackDeadline    *time.Time          `json:"rollback_deadline"`
	Findings            []certs.Finding     `json:"findings"`
	// ConsoleReloaded says the running daemon's console served this
	// generation's certificate before apply returned; ConsoleNote says
	// why not (no daemon running, or it did not reload in time).
	ConsoleReloaded bool   `json:"console_reloaded"`
	ConsoleNote     string `json:"console_note,omitempty"`
	// Code is the refusal's stable code (TL-ACT-*, TL-CERT-*, TL-BUN-*,
	// TL-APP-*); empty when OK.
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// refusalHints are the fixes shown for refusals that carry no finding of
// their own (bundle structure, paths, identity, appliance errors).
var refusalHints = map[string]string{
	bundle.CodeMalformed:  "Rebuild the bundle with Tapline and upload it again",
	bundle.CodeMissing:    "Rebuild the bundle with Tapline and upload it again; copy the whole bundle",
	bundle.CodeAltered:    "A file changed after the bundle was made: rebuild the bundle and upload it again",
	bundle.CodeUnexpected: "Remove the extra file or rebuild the bundle",
	bundle.CodeUnreadable: "Check the path and that the upload finished",
	CodeSettings:          "Correct the network or proxy settings and rebuild the bundle",
	CodePath:              "Upload the bundle to the incoming directory and name it there",
	CodeIdentity:          "Use the bundle and activation file made for this sensor",
	CodeNetwork:           "Check the network settings and the network backend on the appliance",
	CodeInternal:          "Check free space and permissions under /var/lib/sensorcore, then apply again",
}

// withRefusal records a refusal's code in the result and, when no finding
// carries it yet, adds it as an error finding, so findings always explain
// a refusal.
func (res *ApplyResult) withRefusal(err error) {
	res.OK = false
	res.Error = err.Error()
	var r *Refusal
	if !errors.As(err, &r) {
		return
	}
	res.Code = r.Code
	for _, f := range res.Findings {
		if f.Code == r.Code && f.Severity == certs.SeverityError {
			return
		}
	}
	res.Findings = append(res.Findings, certs.Finding{Code: r.Code, Severity: certs.SeverityError, Message: r.Msg, Hint: refusalHints[r.Code]})
}

// Refusal is a refused apply: nothing changed on disk.
type Refusal struct {
	Code string
	Msg  string
}

func (r *Refusal) Error() string { return r.Msg }

// resolve turns a path argument into a bundle path, confined to the
// incoming directory when asked.
func (e *Engine) resolve(p string) (string, error) {
	in := e.Layout.Incoming()
	if !filepath.IsAbs(p) {
		// Relative to the incoming directory (the SSH contract); on the
		// command line, a path that is not there is taken from the
		// working directory.
		q := filepath.Join(in, p)
		if _, err := os.Stat(q); err == nil || e.ConfineToIncoming {
			p = q
		} else if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
	}
	p = filepath.Clean(p)
	if strings.HasSuffix(p, ".part") {
		return "", &Refusal{CodePath, fmt.Sprintf("%s is an unfinished upload (.part); wait for the upload to finish", filepath.Base(p))}
	}
	if e.ConfineToIncoming {
		rel, err := filepath.Rel(in, p)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			return "", &Refusal{CodePath, fmt.Sprintf("%s is outside the incoming directory %s", p, in)}
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if rin, err := filepath.EvalSymlinks(in); err == nil {
				if r, err := filepath.Rel(rin, real); err != nil || strings.HasPrefix(r, "..") {
					return "", &Refusal{CodePath, fmt.Sprintf("%s leads outside the incoming directory", p)}
				}
			}
		}
	}
	return p, nil
}

// checked is a bundle that passed every check.
type checked struct {
	b        *bundle.Bundle
	act      *activation.File
	report   *certs.Report
	crl      []fetchedCRL // CRLs fetched for the certificates the bundle had none for
	findings []certs.Finding
	// kept holds the served certificate's files (by file name) when the
	// bundle says keep_certificate and a generation provides them; nil
	// when the self-signed certificate is served.
	kept map[string][]byte
}

// check runs every check apply runs, without writing anything.
func (e *Engine) check(ctx context.Context, o ApplyOptions) (*checked, error) {
	now := e.Now()
	p, err := e.resolve(o.Path)
	if err != nil {
		return nil, err
	}
	b, err := bundle.Open(p)
	if err != nil {
		var be *bundle.Error
		if errors.As(err, &be) {
			return nil, &Refusal{be.Code, err.Error()}
		}
		return nil, &Refusal{bundle.CodeUnreadable, err.Error()}
	}
	c := &checked{b: b}
	if err := b.Settings.Validate(); err != nil {
		msgs := strings.ReplaceAll(err.Error(), "\n", "; ")
		c.findings = append(c.findings, certs.Finding{Code: CodeSettings, Severity: certs.SeverityError, Message: "settings.json: " + msgs, Hint: "Correct the network or proxy settings and rebuild the bundle"})
		return c, &Refusal{CodeSettings, "settings.json: " + msgs}
	}
	if b.Settings.Proxy.ClientCert && (len(b.File(bundle.RoleProxyClientCert)) == 0 || len(b.File(bundle.RoleProxyClientKey)) == 0) {
		msg := "settings.json: proxy.client_cert is set but the bundle has no proxy-client.crt and proxy-client.key"
		return c, &Refusal{CodeSettings, msg}
	}
	if err := checkPluginKey(b); err != nil {
		return c, err
	}
	if u := b.Settings.Uplink; u != nil {
		// The uplink's files, checked as the laptop checked them: the
		// servers' CA, the credential, the client certificate (its key,
		// validity, clientAuth usage, chain to that CA).
		f := site.ClientFiles{CA: b.File(bundle.RoleUplinkCA), Cert: b.File(bundle.RoleUplinkClientCert), Key: b.File(bundle.RoleUplinkClientKey),
			Credential: b.File(bundle.RoleUplinkCredential), CAName: bundle.FileName(bundle.RoleUplinkCA), CertName: bundle.FileName(bundle.RoleUplinkClientCert),
			KeyName: bundle.FileName(bundle.RoleUplinkClientKey), CredName: bundle.FileName(bundle.RoleUplinkCredential)}
		if u.ClientCert == netconf.UplinkCertProxy {
			f.Cert, f.Key = b.File(bundle.RoleProxyClientCert), b.File(bundle.RoleProxyClientKey)
			f.CertName, f.KeyName = bundle.FileName(bundle.RoleProxyClientCert), bundle.FileName(bundle.RoleProxyClientKey)
		}
		if fs := site.CheckClient(f, now); len(fs) > 0 {
			c.findings = append(c.findings, fs...)
			return c, &Refusal{fs[0].Code, "uplink: " + fs[0].Message}
		}
	}
	name := e.Config.SensorName
	if name == "" {
		name = b.Manifest.Sensor.Name
	} else if b.Manifest.Sensor.Name != name {
		msg := fmt.Sprintf("the bundle is for sensor %q; this appliance is %q", b.Manifest.Sensor.Name, name)
		return c, &Refusal{CodeIdentity, msg}
	}
	act, fs, err := activation.Check(b.File(bundle.RoleActivation), activation.VerifyOptions{
		Roots: e.Roots, SensorName: name, Mode: e.Config.ManagementMode, Now: now})
	c.findings = append(c.findings, fs...)
	if err != nil {
		var ae *activation.Error
		code := activation.CodeMalformed
		if errors.As(err, &ae) {
			code = ae.Code
		}
		return c, &Refusal{code, err.Error()}
	}
	c.act = act
	if b.Manifest.Sensor.ID != "" && act.Payload.SensorID != b.Manifest.Sensor.ID {
		msg := fmt.Sprintf("the bundle names sensor id %q but the activation file is for id %q", b.Manifest.Sensor.ID, act.Payload.SensorID)
		return c, &Refusal{CodeIdentity, msg}
	}
	if cur := e.activeIdentity(); cur != nil && !o.NewIdentity && cur.SensorID != act.Payload.SensorID && cur.SensorName != act.Payload.SensorName {
		// Without config.json's sensor_name the appliance is the sensor it
		// was activated as: a bundle for another sensor (other name and
		// other id) went to the wrong appliance. A rename keeps the id, a
		// re-issued file keeps the name; both pass.
		msg := fmt.Sprintf("this appliance is activated as sensor %q (id %s); the bundle is for sensor %q (id %s): wrong appliance? "+
			"To give this appliance another identity on purpose, apply with --new-identity",
			cur.SensorName, cur.SensorID, act.Payload.SensorName, act.Payload.SensorID)
		return c, &Refusal{CodeIdentity, msg}
	}
	if b.Manifest.KeepCertificate {
		kept, fp, err := e.servedCertificate()
		if err != nil {
			return c, &Refusal{CodeInternal, "the certificate to keep: " + err.Error()}
		}
		c.kept, c.report = kept, &certs.Report{FingerprintSHA256: fp}
		return c, nil
	}
	src, tgt := e.certInput(b, nil)
	rep := certs.CheckSensor(src, tgt, now)
	if len(rep.FetchCRLs) > 0 && !rep.HasErrors() {
		// The bundle carries no CRL for some certificates of the path: fetch
		// each from that certificate's distribution points, then check the
		// whole path again with nothing more to come (an undecided status is
		// then undetermined, refused).
		crls, err := e.fetchCRLs(ctx, rep.FetchCRLs, b.Settings)
		if err != nil {
			c.findings = append(c.findings, rep.Findings...)
			c.findings = append(c.findings, certs.Finding{Code: CodeCRLUnreachable, Severity: certs.SeverityError, Message: err.Error(),
				Hint: "Check the proxy settings and that the CRL distribution point answers from the appliance's network"})
			return c, &Refusal{CodeCRLUnreachable, crlfetch.Unreachable}
		}
		c.crl = crls
		src, tgt = e.certInput(b, crls)
		rep = certs.CheckSensor(src, tgt, now)
	}
	c.report = rep
	c.findings = append(c.findings, rep.Findings...)
	if rep.HasErrors() {
		for _, f := range rep.Findings {
			if f.Severity == certs.SeverityError {
				return c, &Refusal{f.Code, f.Message}
			}
		}
	}
	return c, nil
}

// certInput is the certificate check's input: the bundle's files, and the
// CRLs fetched for it (after which no more will come).
func (e *Engine) certInput(b *bundle.Bundle, fetched []fetchedCRL) (certs.Source, certs.Target) {
	src := certs.Source{Cert: b.File(bundle.RoleCert), Key: b.File(bundle.RoleKey), Chain: b.File(bundle.RoleChain),
		Names: map[string]string{"cert": bundle.FileName(bundle.RoleCert), "key": bundle.FileName(bundle.RoleKey),
			"chain": bundle.FileName(bundle.RoleChain), "crl": bundle.FileName(bundle.RoleCRL)}}
	if crl, name := b.CRLs(); len(crl) > 0 {
		src.CRLs = [][]byte{crl}
		src.Names["crl1"] = name
	}
	for _, f := range fetched {
		src.CRLs = append(src.CRLs, f.data)
		src.Names["crl"+strconv.Itoa(len(src.CRLs))] = "fetched from " + f.url
	}
	n := b.Settings.Network
	host := n.Hostname
	if host == "" {
		host = b.Manifest.Sensor.Name
	}
	t := certs.Target{Hostname: host, CRLValidation: b.Settings.Console.CertValidation, CRLsFinal: fetched != nil}
	if a, err := netip.ParseAddr(n.Address); err == nil {
		t.IP = a
	}
	return src, t
}

// maxCRLPoints bounds how many of a certificate's CRL distribution points
// apply tries.
const maxCRLPoints = 3

// maxCRLFetching bounds the time apply spends fetching CRLs in all, however
// many certificates of the path need one (settings.json allows a minute).
const maxCRLFetching = 60 * time.Second

// fetchedCRL is a CRL apply fetched, and where from.
type fetchedCRL struct {
	url  string
	data []byte
}

// fetchCRLs fetches the CRL of each certificate from its distribution
// points, through the configured proxy, within maxCRLFetching.
func (e *Engine) fetchCRLs(ctx context.Context, need []*x509.Certificate, s *netconf.Settings) ([]fetchedCRL, error) {
	ctx, cancel := context.WithTimeout(ctx, maxCRLFetching)
	defer cancel()
	out := make([]fetchedCRL, 0, len(need))
	for _, c := range need {
		f, err := e.fetchCRL(ctx, c, s)
		if err != nil {
			if len(need) > 1 {
				err = fmt.Errorf("%w (the CRL of %s)", err, c.Subject.String())
			}
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (e *Engine) fetchCRL(ctx context.Context, cert *x509.Certificate, s *netconf.Settings) (fetchedCRL, error) {
	var last error = fmt.Errorf("%s (the certificate has no http:// CRL distribution point)", crlfetch.Unreachable)
	for i, u := range certs.HTTPDistributionPoints(cert) {
		if i >= maxCRLPoints {
			break // each point costs the whole timeout and retries
		}
		b, err := crlfetch.Fetch(ctx, u, crlfetch.Options{Proxy: s.Proxy, Timeout: s.Console.FetchTimeout(), Retries: s.Console.FetchRetries()})
		if err == nil {
			return fetchedCRL{u, b}, nil
		}
		last = err
	}
	return fetchedCRL{}, last
}

// Apply checks a bundle and applies it as a new generation. A refused
// bundle returns a result with OK false and a *Refusal: nothing changed.
//
// A successful apply returns only once the running daemon's console serves
// the new generation's certificate (bounded by ConsoleReloadWait), so a
// TLS check right after it sees the new certificate; the result says when
// no daemon runs or it did not reload in time.
func (e *Engine) Apply(ctx context.Context, o ApplyOptions) (*ApplyResult, error) {
	// The upload carries the sensor's private key: once applied or
	// refused it goes from the incoming directory (not when its path was
	// refused: an unfinished upload, or one outside incoming).
	if p, err := e.resolve(o.Path); err == nil {
		defer e.removeUpload(p)
	}
	res, err := e.apply(ctx, o)
	if err == nil && res.OK {
		e.awaitConsole(ctx, res)
	}
	return res, err
}

// ConsoleReloadWait bounds how long apply waits for the running daemon's
// console to serve the applied certificate.
const ConsoleReloadWait = 5 * time.Second

// reloadKey carries, in the context of a command run by the daemon's own
// embedded SSH listener, the function that makes that daemon reload now
// (a signal to its own pid is not sent: see signalReload).
type reloadKey struct{}

// awaitConsole asks the daemon to reload and waits until run.json reports
// it serving res's generation and certificate.
func (e *Engine) awaitConsole(ctx context.Context, res *ApplyResult) {
	if f, ok := ctx.Value(reloadKey{}).(func()); ok {
		f()
	}
	deadline := time.Now().Add(ConsoleReloadWait)
	for {
		ri, alive := e.Layout.DaemonAlive()
		if !alive {
			res.ConsoleNote = fmt.Sprintf("no sensorcore daemon is running: the console serves generation %d when sensorcore serve starts", res.Generation)
			return
		}
		if ri.ServedGeneration == res.Generation && ri.ServedFingerprint == res.Fingerprint {
			res.ConsoleReloaded = true
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			res.ConsoleNote = fmt.Sprintf("the console still served generation %d (certificate %s) %s after apply; it reloads on its next tick",
				ri.ServedGeneration, ri.ServedFingerprint, ConsoleReloadWait)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// apply does the work of Apply, under the store's lock.
func (e *Engine) apply(ctx context.Context, o ApplyOptions) (*ApplyResult, error) {
	res := &ApplyResult{Findings: []certs.Finding{}}
	c, err := e.check(ctx, o)
	if c != nil {
		res.Findings = append(res.Findings, c.findings...)
	}
	if err != nil {
		res.withRefusal(err)
		return res, err
	}
	e.step(StepChecked)
	now := e.Now()
	sum := c.act.Summarize(now)
	res.Activation = &sum
	res.Fingerprint = c.report.FingerprintSHA256

	st := e.Layout.Store()
	unlock, err := st.Lock()
	if err != nil {
		return fail(res, CodeInternal, err)
	}
	defer unlock()
	if err := st.Clean(); err != nil {
		return fail(res, CodeInternal, err)
	}
	prev, err := st.Current()
	if err != nil && !errors.Is(err, generation.ErrNone) {
		return fail(res, CodeInternal, err)
	}
	n, err := st.Next()
	if err != nil {
		return fail(res, CodeInternal, err)
	}
	res.Generation, res.PreviousGeneration = n, prev
	if prev > 0 {
		if old, err := e.settingsOf(prev); err == nil {
			res.NetworkChanged = old.Network.AddressChanged(c.b.Settings.Network)
		} else {
			res.NetworkChanged = true
		}
	} else {
		// The first apply: the live address before it is the factory state
		// (factory-network.json). Changing it could cut the sensor off as
		// surely as any later change.
		nw := c.b.Settings.Network
		a, _ := netip.ParseAddr(nw.Address)
		if fac, ok := e.factoryNetwork(ctx, nw.Interface, a); ok {
			res.NetworkChanged = fac.AddressChanged(nw)
		}
	}
	files := map[string][]byte{}
	for _, en := range c.b.Manifest.Files {
		files[en.Name] = c.b.Files[en.Role]
	}
	if len(c.crl) == 1 && len(c.b.File(bundle.RoleCRL)) == 0 && len(c.b.File(bundle.RoleCRLs)) == 0 {
		files[bundle.FileName(bundle.RoleCRL)] = c.crl[0].data
	} else if len(c.crl) > 0 {
		files[fetchedCRLsName] = fetchedPEM(c.crl)
	}
	for name, data := range c.kept {
		files[name] = data
	}
	if _, ok := c.b.Files[bundle.RolePluginKey]; !ok {
		if k := e.keptPluginKey(prev); k != nil {
			files[bundle.FileName(bundle.RolePluginKey)] = k
		}
	}
	mb, _ := manifestBytes(c.b)
	files[bundle.ManifestName] = mb
	meta := generation.Meta{Generation: n, Previous: prev, AppliedAt: now.UTC(), SensorName: c.act.Payload.SensorName,
		BundleName: filepath.Base(o.Path), Fingerprint: c.report.FingerprintSHA256}
	staged, err := st.Stage(meta, files, func(name string) bool {
		return bundle.SecretFile(name)
	})
	if err != nil {
		return fail(res, CodeInternal, err)
	}
	e.step(StepStaged)
	if err := st.Commit(staged, n); err != nil {
		os.RemoveAll(staged)
		return fail(res, CodeInternal, err)
	}
	e.step(StepCommited)
	if res.NetworkChanged {
		to := o.ConfirmTimeout
		if to <= 0 {
			to = DefaultConfirmTimeout
		}
		d := now.Add(to).UTC().Truncate(time.Millisecond)
		if err := st.WritePending(generation.Pending{Generation: n, Previous: prev, Deadline: d, ArmedAt: now.UTC()}); err != nil {
			return fail(res, CodeInternal, err)
		}
		res.ConfirmationPending, res.RollbackDeadline = true, &d
		e.step(StepPending)
	} else if p, _ := st.ReadPending(); p != nil {
		// A new generation without an address change supersedes an
		// unconfirmed one: its deadline would restore a generation that is
		// no longer the one before current.
		st.ClearPending()
	}
	if err := st.Switch(n); err != nil {
		st.ClearPending()
		return fail(res, CodeInternal, err)
	}
	e.step(StepSwitched)
	if err := e.applyNetwork(ctx, n); err != nil {
		// Restore the previous generation at once, network included.
		if prev > 0 || res.NetworkChanged {
			e.rollbackLocked(ctx, n, prev, "the network backend failed: "+err.Error())
		}
		res.ConfirmationPending, res.RollbackDeadline = false, nil
		return fail(res, CodeNetwork, fmt.Errorf("network settings could not be applied (%v); generation %d restored", err, prev)) // 0: the factory state
	}
	e.step(StepNetwork)
	st.Prune(e.keep(), n, prev)
	e.signalReload()
	res.OK = true
	e.Log("applied generation %d (previous %d, certificate %s, network changed %v)", n, prev, res.Fingerprint, res.NetworkChanged)
	return res, nil
}

// servedCertificate returns the files of the certificate the console
// serves now (the current generation's cert, key and chain) and its
// fingerprint; files is nil when that is the self-signed certificate.
func (e *Engine) servedCertificate() (map[string][]byte, string, error) {
	st := e.Layout.Store()
	if n, err := st.Current(); err == nil {
		if c, err := st.ReadFile(n, bundle.FileName(bundle.RoleCert)); err == nil {
			files := map[string][]byte{bundle.FileName(bundle.RoleCert): c}
			k, err := st.ReadFile(n, bundle.FileName(bundle.RoleKey))
			if err != nil {
				return nil, "", err
			}
			files[bundle.FileName(bundle.RoleKey)] = k
			if ch, err := st.ReadFile(n, bundle.FileName(bundle.RoleChain)); err == nil {
				files[bundle.FileName(bundle.RoleChain)] = ch
			}
			ci := certInfo(c, false)
			if ci == nil {
				return nil, "", fmt.Errorf("generation %d: %s is unreadable", n, bundle.FileName(bundle.RoleCert))
			}
			return files, ci.FingerprintSHA256, nil
		}
	} else if !errors.Is(err, generation.ErrNone) {
		return nil, "", err
	}
	cp, _ := e.Layout.SelfSignedPaths()
	c, err := safefile.ReadFile(cp, MaxStateFile)
	if err != nil {
		return nil, "", fmt.Errorf("no self-signed certificate yet (sensorcore serve makes it at first start): %w", err)
	}
	ci := certInfo(c, true)
	if ci == nil {
		return nil, "", fmt.Errorf("%s is unreadable", cp)
	}
	return nil, ci.FingerprintSHA256, nil
}

// fetchedCRLsName is the file of a generation holding the CRLs apply
// fetched, when the bundle carried a CRL file or more than one was fetched
// (one fetched for a bundle without CRLs is kept as crl.crl).
const fetchedCRLsName = "crls-fetched.pem"

// fetchedPEM is the fetched CRLs as X509 CRL PEM blocks.
func fetchedPEM(fs []fetchedCRL) []byte {
	var ders [][]byte
	for _, f := range fs {
		d, err := certs.SplitCRLs(f.data)
		if err != nil {
			continue // a CRL that did not read was refused; this one decided nothing
		}
		ders = append(ders, d...)
	}
	return bundle.EncodeCRLs(ders)
}

func manifestBytes(b *bundle.Bundle) ([]byte, error) {
	return jsonIndent(b.Manifest)
}

func fail(res *ApplyResult, code string, err error) (*ApplyResult, error) {
	r := &Refusal{code, err.Error()}
	res.withRefusal(r)
	return res, r
}

// settingsOf reads generation n's settings.
func (e *Engine) settingsOf(n int) (*netconf.Settings, error) {
	b, err := e.Layout.Store().ReadFile(n, bundle.FileName(bundle.RoleSettings))
	if err != nil {
		return nil, err
	}
	return netconf.Parse(b)
}

// applyNetwork applies generation n's network settings and records it.
func (e *Engine) applyNetwork(ctx context.Context, n int) error {
	s, err := e.settingsOf(n)
	if err != nil {
		return err
	}
	if err := e.Backend.Apply(ctx, e.Layout.Root, s.Network); err != nil {
		return err
	}
	if s.Network.Hostname == "" {
		// A generation without a host name (a rollback to one, say)
		// leaves the appliance with its factory name, not the last one set.
		if err := e.restoreFactoryHostname(ctx); err != nil {
			return err
		}
	}
	return e.Layout.Store().MarkNetwork(n, true)
}

// activeIdentity returns the current generation's activation payload, or
// nil before the first activation.
func (e *Engine) activeIdentity() *activation.Payload {
	cur, err := e.Layout.Store().Current()
	if err != nil {
		return nil
	}
	b, err := e.Layout.Store().ReadFile(cur, bundle.FileName(bundle.RoleActivation))
	if err != nil {
		return nil
	}
	f, err := activation.Parse(b)
	if err != nil {
		return nil
	}
	return &f.Payload
}
