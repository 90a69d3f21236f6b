package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/activation"
)

func parseMode(s string) (activation.Mode, error) {
	switch strings.ToLower(s) {
	case "local", "locally-managed":
		return activation.ModeLocal, nil
	case "cloud", "cloud-connected":
		return activation.ModeCloud, nil
	case "":
		return "", nil
	}
	return "", fmt.Errorf("--mode %q: use local or cloud", s)
}

func parseTimeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: use RFC 3339 (2026-12-01T00:00:00Z) or a date (2026-12-01)", name, s)
}

func activationIssue(env *Env, args []string) int {
	fs := newFlags(env, "activation issue")
	keyPath := fs.String("signing-key", "", "the authority's Ed25519 signing key (PKCS#8 PEM)")
	certPath := fs.String("signer-cert", "", "the signing key's certificate, signed by the root")
	var r activation.Request
	fs.StringVar(&r.SensorID, "sensor-id", "", "the sensor's unique id")
	fs.StringVar(&r.SensorName, "sensor-name", "", "the sensor's name as deployed")
	fs.StringVar(&r.Site, "site", "", "site")
	fs.StringVar(&r.Zone, "zone", "", "zone")
	fs.StringVar(&r.PlanID, "plan", "", "plan id")
	fs.IntVar(&r.DeviceCount, "devices", 0, "licensed device count")
	mode := fs.String("mode", "", "local (locally managed, expires) or cloud (cloud-connected)")
	expires := fs.String("expires", "", "expiry for locally managed sensors (RFC 3339 or YYYY-MM-DD)")
	out := fs.String("out", "", "output file (default SENSOR-NAME.tapact)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	var err error
	if r.Mode, err = parseMode(*mode); err != nil || r.Mode == "" {
		env.Errorf("activation issue: --mode local|cloud is required")
		return ExitUsage
	}
	if r.Expires, err = parseTimeFlag("expires", *expires); err != nil {
		env.Errorf("activation issue: %v", err)
		return ExitUsage
	}
	if *keyPath == "" || *certPath == "" || r.SensorID == "" || r.SensorName == "" {
		env.Errorf("activation issue: --signing-key, --signer-cert, --sensor-id and --sensor-name are required")
		return ExitUsage
	}
	keyPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		env.Errorf("activation issue: %v", err)
		return ExitUsage
	}
	key, err := activation.ParsePrivateKey(keyPEM)
	if err != nil {
		env.Errorf("activation issue: %s: %v", *keyPath, err)
		return ExitUsage
	}
	certPEM, err := os.ReadFile(*certPath)
	if err != nil {
		env.Errorf("activation issue: %v", err)
		return ExitUsage
	}
	sc, err := activation.ParseSignerCert(certPEM)
	if err != nil {
		env.Errorf("activation issue: %s: %v", *certPath, err)
		return ExitUsage
	}
	data, err := activation.Issue(r, key, sc, env.Now())
	if err != nil {
		env.Errorf("activation issue: %v", err)
		return ExitUsage
	}
	if *out == "" {
		*out = r.SensorName + ".tapact"
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		env.Errorf("activation issue: %v", err)
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "issued %s for sensor %q (%s)\n", *out, r.SensorName, r.Mode)
	return ExitOK
}

func activationInspect(env *Env, args []string) int {
	fs := newFlags(env, "activation inspect")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("activation inspect: give exactly one FILE")
		return ExitUsage
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		env.Errorf("activation inspect: %v", err)
		return ExitUsage
	}
	f, err := activation.Parse(data)
	if err != nil {
		env.Errorf("activation inspect: %s: %v", pos[0], err)
		return ExitUsage
	}
	s := f.Summarize(env.Now())
	if *asJSON {
		return printJSON(env.Stdout, map[string]any{"file": pos[0], "verified": false, "activation": s})
	}
	printSummary(env.Stdout, s)
	fmt.Fprintf(env.Stdout, "root:         %s (signature not checked; use 'tapline activation verify')\n", f.Signer.RootID)
	return ExitOK
}

func printSummary(w io.Writer, s activation.Summary) {
	fmt.Fprintf(w, "sensor:       %s (id %s)\n", s.SensorName, s.SensorID)
	fmt.Fprintf(w, "site/zone:    %s / %s\n", s.Site, s.Zone)
	fmt.Fprintf(w, "mode:         %s\n", s.Mode)
	fmt.Fprintf(w, "plan:         %s, %d devices\n", s.PlanID, s.DeviceCount)
	fmt.Fprintf(w, "issued:       %s (upload within 14 days)\n", s.IssuedAt.Format(time.RFC3339))
	if s.Expires != nil {
		fmt.Fprintf(w, "expires:      %s\n", s.Expires.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "signing key:  %s\n", s.SignerKeyID)
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return ExitUsage
	}
	return ExitOK
}

// trustRoots returns the production root, or the roots in --trust-root
// files (lab and demo use only: never on a production laptop).
func trustRoots(paths []string) ([]ed25519.PublicKey, error) {
	if len(paths) == 0 {
		return activation.ProductionRoots()
	}
	var out []ed25519.PublicKey
	for _, p := range paths {
		k, err := activation.ReadPublicKey(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func activationVerify(env *Env, args []string) int {
	fs := newFlags(env, "activation verify")
	sensor := fs.String("sensor", "", "the name of the sensor being deployed")
	at := fs.String("at", "", "check as of this time (RFC 3339 or a date; default now)")
	mode := fs.String("mode", "", "the management mode the sensor keeps (local or cloud; optional)")
	asJSON := fs.Bool("json", false, "print JSON")
	var roots multiFlag
	fs.Var(&roots, "trust-root", "LAB/DEMO ONLY: trust this root public key instead of the shipped production root")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	pos := fs.Args()
	if len(pos) != 1 {
		env.Errorf("activation verify: give exactly one activation FILE; run 'tapline activation verify --help'")
		return ExitUsage
	}
	now := env.Now()
	if t, err := parseTimeFlag("at", *at); err != nil {
		env.Errorf("activation verify: %v", err)
		return ExitUsage
	} else if !t.IsZero() {
		now = t
	}
	m, err := parseMode(*mode)
	if err != nil {
		env.Errorf("activation verify: %v", err)
		return ExitUsage
	}
	rk, err := trustRoots(roots)
	if err != nil {
		env.Errorf("activation verify: %v", err)
		return ExitUsage
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		env.Errorf("activation verify: %v", err)
		return ExitUsage
	}
	f, findings, verr := activation.Check(data, activation.VerifyOptions{Roots: rk, SensorName: *sensor, Mode: m, Now: now})
	code := ExitOK
	if verr != nil {
		code = ExitVerdict
	}
	if *asJSON {
		res := map[string]any{"file": pos[0], "valid": verr == nil, "findings": nonNil(findings)}
		if f != nil {
			res["activation"] = f.Summarize(now)
		}
		printJSON(env.Stdout, res)
		return code
	}
	for _, fd := range findings {
		fmt.Fprintf(env.Stdout, "%s %s: %s: %s\n  fix: %s\n", fd.Code, fd.Severity, pos[0], fd.Message, fd.Hint)
	}
	if verr != nil {
		fmt.Fprintf(env.Stdout, "REFUSED: %s\n", pos[0])
		return code
	}
	printSummary(env.Stdout, f.Summarize(now))
	fmt.Fprintf(env.Stdout, "VALID: %s for sensor %q\n", pos[0], *sensor)
	return code
}

func nonNil(f []certs.Finding) []certs.Finding {
	if f == nil {
		return []certs.Finding{}
	}
	return f
}

// activationLabInit makes a lab/demo root and a certified signing key. The
// files are named demo-*: a lab root is never the production root.
func activationLabInit(env *Env, args []string) int {
	fs := newFlags(env, "activation lab-init")
	dir := fs.String("out", "", "directory for demo-root.pub, demo-root.key, demo-signer.key, demo-signer.cert")
	years := fs.Int("years", 2, "signing key validity in years")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *dir == "" {
		env.Errorf("activation lab-init: --out DIR is required")
		return ExitUsage
	}
	if err := labInit(*dir, *years, env.Now()); err != nil {
		env.Errorf("activation lab-init: %v", err)
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "LAB/DEMO authority written to %s; verify its files with --trust-root %s\n",
		*dir, filepath.Join(*dir, "demo-root.pub"))
	return ExitOK
}

func labInit(dir string, years int, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	rpub, rpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	spub, spriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	sc, err := activation.CertifySigner(rpriv, spub, now.Add(-time.Hour), now.AddDate(years, 0, 0))
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"demo-root.pub", activation.MarshalPublicKey(rpub), 0o644},
		{"demo-root.key", activation.MarshalPrivateKey(rpriv), 0o600},
		{"demo-signer.key", activation.MarshalPrivateKey(spriv), 0o600},
		{"demo-signer.cert", activation.MarshalSignerCert(sc), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; refusing to overwrite", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := safefile.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}
