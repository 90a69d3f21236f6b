package cli

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tapline/tapline/certs"
)

// certsMultiFlag collects a repeatable flag (--crl A --crl B).
type certsMultiFlag []string

func (m *certsMultiFlag) String() string     { return strings.Join(*m, ",") }
func (m *certsMultiFlag) Set(v string) error { *m = append(*m, v); return nil }

// certsFlagSet returns the flags of "tapline NAME" (newFlags: the one
// help style; synopsis is kept in the command's Usage).
func certsFlagSet(env *Env, name, synopsis string) *FlagSet { return newFlags(env, name) }

// certsParseFlags parses args; it returns an exit code and false when the
// command should stop (help asked: 0; a bad or missing flag: 2).
func certsParseFlags(env *Env, fs *FlagSet, args []string) (int, bool) { return fs.parse(args) }

// certsParseAt reads --at (RFC 3339), defaulting to the environment's clock.
func certsParseAt(env *Env, at string) (time.Time, error) {
	if at == "" {
		return env.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", at)
	}
	return t, nil
}

// certsReadPassphrase reads a passphrase file, dropping one trailing newline.
func certsReadPassphrase(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := certs.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r")), nil
}

// certsNeedsPassphrase reports whether data is a key or PKCS#12 file that
// does not open without a passphrase.
func certsNeedsPassphrase(data []byte) bool {
	switch certs.Detect(data) {
	case certs.KindEncryptedKey:
		return true
	case certs.KindPKCS12:
		_, err := certs.ParsePKCS12(data, nil)
		return errors.Is(err, certs.ErrPassphraseRequired) || errors.Is(err, certs.ErrIncorrectPassphrase)
	}
	return false
}

// certsAskPassphrase asks for the passphrase of file on the terminal, with
// no echo, when stdin is one; ok is false when it is not (a script: the
// passphrase then comes from --passphrase-file only).
func certsAskPassphrase(env *Env, file string) (pass []byte, ok bool, err error) {
	f, isFile := env.Stdin.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return nil, false, nil
	}
	p, err := promptPassphrase(f, env.Stderr, "Passphrase for "+file+": ")
	if err != nil {
		return nil, true, fmt.Errorf("%s: %v", file, err)
	}
	return p, true, nil
}

// certsUnreadable are the codes that mean an input file could not be read: the
// command exits 2 instead of giving a verdict.
var certsUnreadable = map[string]bool{
	certs.CodeCertUnreadable: true, certs.CodeKeyUnreadable: true, certs.CodePFXUnreadable: true,
	certs.CodeChainUnreadable: true, certs.CodeCRLUnreadable: true,
}

const certsCheckSynopsis = "certs check [--cert F] [--key F] [--pfx F] [--chain F] [--crl F]... [--anchors F] [--passphrase-file F] [--hostname H] [--ip A] [--crl-validation] [--at RFC3339] [--json]"

// runCertsCheck checks a sensor bundle the way the sensor will. Exit 0 when
// no finding is an error, 1 when one is, 2 for usage or certsUnreadable input.
func runCertsCheck(env *Env, args []string) int {
	fs := certsFlagSet(env, "certs check", certsCheckSynopsis)
	var crls certsMultiFlag
	cert := fs.String("cert", "", "the sensor certificate (.crt, PEM or DER)")
	key := fs.String("key", "", "the sensor's private key (PEM or DER, optionally encrypted)")
	pfx := fs.String("pfx", "", "a PKCS#12 file instead of --cert and --key")
	chain := fs.String("chain", "", "the chain file: CA certificates up to the root")
	anchors := fs.String("anchors", "", "trusted root certificates, when the chain file lacks the root")
	fs.Var(&crls, "crl", "a CRL (PEM or DER); repeat for several")
	passFile := fs.String("passphrase-file", "", "file holding the key's or PKCS#12 passphrase")
	hostname := fs.String("hostname", "", "the sensor's FQDN")
	ip := fs.String("ip", "", "the sensor's IP address (must be in the SAN)")
	crlValidation := fs.Bool("crl-validation", false, "the sensor's certificate validation (CRL) is on")
	at := fs.String("at", "", "check at this time (RFC 3339) instead of now")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		env.Errorf("certs check: unexpected argument %q (files are given with --cert, --key, ...)", fs.Arg(0))
		return ExitUsage
	}
	if *cert == "" && *pfx == "" {
		env.Errorf("certs check: give --cert and --key, or --pfx")
		return ExitUsage
	}
	if *pfx != "" && (*cert != "" || *key != "") {
		env.Errorf("certs check: give --cert and --key, or --pfx, not both (the PKCS#12 file holds the key and the certificate)")
		return ExitUsage
	}
	now, err := certsParseAt(env, *at)
	if err != nil {
		env.Errorf("certs check: %s", certsErrText(err))
		return ExitUsage
	}
	tgt := certs.Target{Hostname: *hostname, CRLValidation: *crlValidation}
	if *ip != "" {
		if tgt.IP, err = netip.ParseAddr(*ip); err != nil {
			env.Errorf("certs check: --ip %q is not an IP address", *ip)
			return ExitUsage
		}
	}
	src := certs.Source{Names: map[string]string{}}
	files := []struct {
		name, path string
		dst        *[]byte
	}{{"cert", *cert, &src.Cert}, {"key", *key, &src.Key}, {"pfx", *pfx, &src.PFX}, {"chain", *chain, &src.Chain}, {"anchors", *anchors, &src.Anchors}}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		b, err := certs.ReadFile(f.path)
		if err != nil {
			env.Errorf("certs check: %s", certsErrText(err))
			return ExitUsage
		}
		*f.dst = b
		src.Names[f.name] = f.path
	}
	for i, p := range crls {
		b, err := certs.ReadFile(p)
		if err != nil {
			env.Errorf("certs check: %s", certsErrText(err))
			return ExitUsage
		}
		src.CRLs = append(src.CRLs, b)
		src.Names[fmt.Sprintf("crl%d", i+1)] = p
		src.Names["crl"] = p
	}
	if msg := swappedFiles(*cert, src.Cert, *key, src.Key); msg != "" {
		env.Errorf("certs check: %s", msg)
		return ExitUsage
	}
	if src.Passphrase, err = certsReadPassphrase(*passFile); err != nil {
		env.Errorf("certs check: passphrase file: %v", err)
		return ExitUsage
	}
	if *passFile == "" {
		// Encrypted and no --passphrase-file: ask, when a person is there.
		for _, f := range []struct {
			path string
			data []byte
		}{{*key, src.Key}, {*pfx, src.PFX}} {
			if f.path == "" || !certsNeedsPassphrase(f.data) {
				continue
			}
			if p, asked, err := certsAskPassphrase(env, f.path); err != nil {
				env.Errorf("certs check: %v", err)
				return ExitUsage
			} else if asked {
				src.Passphrase = p
			}
		}
	}
	r := certs.CheckSensor(src, tgt, now)
	bad := false
	for _, f := range r.Findings {
		if certsUnreadable[f.Code] {
			env.Errorf("certs check: %s [%s]", certsFindingDetail(f), f.Code)
			bad = true
		}
	}
	if bad {
		return ExitUsage
	}
	if *asJSON {
		certsWriteCheckJSON(env.Stdout, r)
	} else {
		certsWriteCheckText(env.Stdout, src.Names, r)
	}
	if r.HasErrors() {
		return ExitVerdict
	}
	return ExitOK
}

type certsCheckJSON struct {
	Verdict           string          `json:"verdict"`
	Findings          []certs.Finding `json:"findings"`
	FingerprintSHA256 string          `json:"fingerprint_sha256"`
	Chain             []string        `json:"chain"`
}

func certsWriteCheckJSON(w io.Writer, r *certs.Report) {
	out := certsCheckJSON{Verdict: "pass", Findings: r.Findings, FingerprintSHA256: r.FingerprintSHA256, Chain: []string{}}
	if r.HasErrors() {
		out.Verdict = "fail"
	}
	if out.Findings == nil {
		out.Findings = []certs.Finding{}
	}
	for _, c := range r.Chain {
		out.Chain = append(out.Chain, c.Subject.String())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func certsWriteCheckText(w io.Writer, names map[string]string, r *certs.Report) {
	what := names["cert"]
	if what == "" {
		what = names["pfx"]
	}
	if c := r.Leaf; c != nil {
		fmt.Fprintf(w, "%s: %s\n", what, c.Subject.String())
		fmt.Fprintf(w, "  issuer:      %s\n", c.Issuer.String())
		fmt.Fprintf(w, "  valid:       %s to %s\n", certsDay(c.NotBefore), certsDay(c.NotAfter))
		fmt.Fprintf(w, "  names:       %s\n", certsSANText(c))
		fmt.Fprintf(w, "  key:         %s, signed %s\n", certs.PublicKeyName(c), certs.SignatureName(c.Raw))
		fmt.Fprintf(w, "  sha256:      %s\n", r.FingerprintSHA256)
		if len(r.Chain) > 0 {
			var cns []string
			for _, x := range r.Chain {
				cns = append(cns, certsShortName(x))
			}
			fmt.Fprintf(w, "  chain:       %s\n", strings.Join(cns, " -> "))
		}
	}
	var nErr, nWarn int
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%s %-7s %s\n", f.Code, f.Severity, f.Message)
		fmt.Fprintf(w, "    fix: %s\n", f.Hint)
		switch f.Severity {
		case certs.SeverityError:
			nErr++
		case certs.SeverityWarning:
			nWarn++
		}
	}
	verdict := "pass"
	if nErr > 0 {
		verdict = "fail"
	}
	fmt.Fprintf(w, "verdict: %s (%s, %s)\n", verdict, certsPlural(nErr, "error"), certsPlural(nWarn, "warning"))
}

func certsPlural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprintf("%d %ss", n, s)
}

func certsDay(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// certsShortName is a certificate's CN, or its whole subject when it has none.
func certsShortName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

func certsSANText(c *x509.Certificate) string { return certsNamesText(certsSANs(c)) }

func certsNamesText(names []string) string {
	if len(names) == 0 {
		return "(no subjectAltName)"
	}
	return strings.Join(names, ", ")
}

// certsSANs lists a certificate's subjectAltNames as "DNS:x", "IP:x",
// "email:x", "URI:x".
func certsSANs(c *x509.Certificate) []string {
	var s []string
	for _, n := range c.DNSNames {
		s = append(s, "DNS:"+n)
	}
	for _, ip := range c.IPAddresses {
		s = append(s, "IP:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		s = append(s, "email:"+e)
	}
	for _, u := range c.URIs {
		s = append(s, "URI:"+u.String())
	}
	return s
}

func certsFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

const certsVerifySynopsis = "certs verify --anchors F --chain F [--chain F]... [--crl F]... [--require-crl] [--strict] [--dns NAME | --ip ADDR] [--at RFC3339] [--json]"

type certsVerifyJSON struct {
	Valid      bool                  `json:"valid"`
	Reason     string                `json:"reason,omitempty"`
	Chain      []string              `json:"chain"`
	Revocation []certsRevocationJSON `json:"revocation,omitempty"`
}

// certsRevocationJSON is what the CRLs said about one certificate of a valid
// path: status good or unknown (a revoked one makes the path invalid).
type certsRevocationJSON struct {
	Subject string `json:"subject"`
	Status  string `json:"status"`
	Detail  string `json:"detail"`
}

// certsRevocationDetail says in a few words which CRL decided a status, or
// why none could.
func certsRevocationDetail(st certs.RevocationStatus) string {
	issuer := certsShortName(st.Issuer)
	switch {
	case st.CRL != nil && st.Delta != nil:
		return fmt.Sprintf("not revoked: CRL number %s of %s with delta CRL number %s, next update %s", st.CRL.List.Number, issuer,
			st.Delta.List.Number, certsDay(st.Delta.List.NextUpdate))
	case st.CRL != nil && st.CRL.List.Number != nil:
		return fmt.Sprintf("not revoked: CRL number %s of %s, next update %s", st.CRL.List.Number, issuer, certsDay(st.CRL.List.NextUpdate))
	case st.CRL != nil:
		return fmt.Sprintf("not revoked: CRL of %s, next update %s", issuer, certsDay(st.CRL.List.NextUpdate))
	case st.Problem != nil:
		return fmt.Sprintf("undetermined: the CRLs of %s given do not decide (%s)", issuer, certsErrText(st.Problem))
	}
	return fmt.Sprintf("not checked: no CRL of %s was given", issuer)
}

// runCertsVerify validates a path per RFC 5280 with CRLs: the chain files
// hold the leaf first, then intermediates. Exit 0 valid, 1 invalid, 2 usage.
func runCertsVerify(env *Env, args []string) int {
	fs := certsFlagSet(env, "certs verify", certsVerifySynopsis)
	var chains, crls certsMultiFlag
	anchors := fs.String("anchors", "", "trusted root certificates (PEM or DER)")
	fs.Var(&chains, "chain", "the leaf first, then intermediates (PEM or DER); repeat for several files")
	fs.Var(&crls, "crl", "a CRL (PEM or DER); repeat for several")
	requireCRL := fs.Bool("require-crl", false, "fail when the CRLs do not decide the revocation status of a certificate of the path")
	strict := fs.Bool("strict", false, "also hold every certificate, the anchor included, to the RFC 5280 and CA/Browser Forum profile")
	dns := fs.String("dns", "", "the leaf must be valid for this DNS name")
	ip := fs.String("ip", "", "the leaf must be valid for this IP address")
	at := fs.String("at", "", "validate at this time (RFC 3339) instead of now")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	chains = append(chains, fs.Args()...)
	if *anchors == "" || len(chains) == 0 {
		env.Errorf("certs verify: give --anchors and --chain (leaf first)")
		return ExitUsage
	}
	if *dns != "" && *ip != "" {
		env.Errorf("certs verify: give --dns or --ip, not both")
		return ExitUsage
	}
	now, err := certsParseAt(env, *at)
	if err != nil {
		env.Errorf("certs verify: %s", certsErrText(err))
		return ExitUsage
	}
	o := certs.VerifyOptions{Time: now, DNSName: *dns, RequireCRL: *requireCRL, Strict: *strict}
	if *ip != "" {
		if o.IP, err = netip.ParseAddr(*ip); err != nil {
			env.Errorf("certs verify: --ip %q is not an IP address", *ip)
			return ExitUsage
		}
	}
	if o.Anchors, err = certs.ReadCertificates(*anchors); err != nil {
		env.Errorf("certs verify: %s", certsErrText(err))
		return ExitUsage
	}
	var path []*x509.Certificate
	for _, p := range chains {
		cs, err := certs.ReadCertificates(p)
		if err != nil {
			env.Errorf("certs verify: %s", certsErrText(err))
			return ExitUsage
		}
		path = append(path, cs...)
	}
	o.Intermediates = path[1:]
	for _, p := range crls {
		cs, err := certs.ReadCRLs(p)
		if err != nil {
			env.Errorf("certs verify: %s", certsErrText(err))
			return ExitUsage
		}
		o.CRLs = append(o.CRLs, cs...)
	}
	chain, verr := certs.Verify(path[0], o)
	out := certsVerifyJSON{Valid: verr == nil, Chain: []string{}}
	for _, c := range chain {
		out.Chain = append(out.Chain, c.Subject.String())
	}
	if verr != nil {
		out.Reason = strings.TrimPrefix(verr.Error(), "certs: ")
	}
	var revText []string
	for _, st := range certs.PathRevocation(chain, o) {
		d := certsRevocationDetail(st)
		out.Revocation = append(out.Revocation, certsRevocationJSON{Subject: st.Cert.Subject.String(), Status: st.Status, Detail: d})
		revText = append(revText, certsShortName(st.Cert)+": "+d)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else if verr != nil {
		fmt.Fprintf(env.Stdout, "invalid: %s\n", out.Reason)
	} else {
		var cns []string
		for _, c := range chain {
			cns = append(cns, certsShortName(c))
		}
		fmt.Fprintf(env.Stdout, "valid: %s\n", strings.Join(cns, " -> "))
		if len(o.CRLs) == 0 {
			fmt.Fprintln(env.Stdout, "revocation: not checked (no --crl given)")
		} else {
			for _, l := range revText {
				fmt.Fprintf(env.Stdout, "revocation: %s\n", l)
			}
		}
	}
	if verr != nil {
		return ExitVerdict
	}
	return ExitOK
}

// runCertsInspect says what each file is and holds, whatever its format.
// Exit 0 when every file was read, 2 when one could not be. --json prints
// one array with an object per file read (docs/certs.md).
func runCertsInspect(env *Env, args []string) int {
	fs := certsFlagSet(env, "certs inspect", "certs inspect [--passphrase-file F] [--json] FILE...")
	passFile := fs.String("passphrase-file", "", "opens encrypted keys and PKCS#12 files")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per file")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		env.Errorf("certs inspect: give one or more files")
		return ExitUsage
	}
	pass, err := certsReadPassphrase(*passFile)
	if err != nil {
		env.Errorf("certs inspect: passphrase file: %v", err)
		return ExitUsage
	}
	code := ExitOK
	files := []certsInspected{}
	for _, path := range fs.Args() {
		filePass := pass
		if *passFile == "" {
			if data, err := certs.ReadFile(path); err == nil && certsNeedsPassphrase(data) {
				p, _, err := certsAskPassphrase(env, path)
				if err != nil {
					env.Errorf("certs inspect: %v", err)
					code = ExitUsage
					continue
				}
				filePass = p
			}
		}
		in, err := certsInspectFile(path, filePass)
		if err != nil {
			env.Errorf("certs inspect: %s", certsErrText(err))
			code = ExitUsage
			continue
		}
		if !*asJSON && len(files) > 0 {
			fmt.Fprintln(env.Stdout) // a blank line between files
		}
		if !*asJSON {
			in.writeText(env.Stdout)
		}
		files = append(files, in)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(files)
	}
	return code
}

// certsInspected is what certs inspect found in one file.
type certsInspected struct {
	File string `json:"file"`
	// Kind: certificate, private-key, crl, pkcs12, csr.
	Kind     string `json:"kind"`
	Encoding string `json:"encoding,omitempty"` // PEM or DER; PKCS#12 is always DER
	// TextMark is what a PEM file starts with besides PEM ("UTF-8
	// byte-order mark"), read past as OpenSSL does.
	TextMark string `json:"text_mark,omitempty"`
	// Junk names what the file holds besides its PEM blocks (skipped).
	Junk []string `json:"junk,omitempty"`
	// Locked: encrypted, and no passphrase was given to open it.
	Locked       bool               `json:"locked"`
	Certificates []certsInspectCert `json:"certificates,omitempty"`
	Key          *certsInspectKey   `json:"key,omitempty"`
	Chain        []certsInspectCert `json:"chain,omitempty"` // a PKCS#12's CA certificates
	CRL          *certsInspectCRL   `json:"crl,omitempty"`
	// MoreCRLs are the CRLs after the first of a file that holds several
	// (a bundle's crls.pem, every CA level's).
	MoreCRLs []*certsInspectCRL   `json:"more_crls,omitempty"`
	Request  *certsInspectRequest `json:"request,omitempty"`

	kindText string
	certs    []*x509.Certificate // Certificates, then Chain, for the text
}

type certsInspectCert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Names     []string  `json:"names"`
	Key       string    `json:"key"`
	Signature string    `json:"signature"`
	Serial    string    `json:"serial"`
	CA        bool      `json:"ca"`
	SHA256    string    `json:"fingerprint_sha256"`
}

type certsInspectKey struct {
	Type string `json:"type"`
	// Supported is false for a key Tapline and the sensor do not work with
	// (Type says why).
	Supported  bool   `json:"supported"`
	SPKISHA256 string `json:"spki_sha256,omitempty"`
	// MatchesCertificate is set for a PKCS#12: whether its key is the
	// certificate's.
	MatchesCertificate *bool `json:"matches_certificate,omitempty"`
}

type certsInspectCRL struct {
	Issuer     string     `json:"issuer"`
	Number     string     `json:"number,omitempty"`
	ThisUpdate time.Time  `json:"this_update"`
	NextUpdate *time.Time `json:"next_update,omitempty"`
	Revoked    int        `json:"revoked"`
	Signature  string     `json:"signature"`
}

type certsInspectRequest struct {
	Subject        string   `json:"subject"`
	Names          []string `json:"names"`
	Key            string   `json:"key"`
	Signature      string   `json:"signature"`
	SignatureValid bool     `json:"signature_valid"`
}

func certsInspectFile(path string, pass []byte) (certsInspected, error) {
	in := certsInspected{File: path}
	data, err := certs.ReadFile(path)
	if err != nil {
		return in, err
	}
	in.Encoding = "DER"
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		in.Encoding = "PEM"
	}
	in.TextMark = certs.TextMark(data)
	kind := certs.Detect(data)
	in.kindText = string(kind)
	switch kind {
	case certs.KindCertificate:
		in.Kind = "certificate"
		cs, junk, err := certs.ParseCertificatesTolerant(data)
		if err != nil {
			return in, &certs.FileError{Path: path, Err: err}
		}
		in.Junk = junk
		in.addCerts(&in.Certificates, cs...)
	case certs.KindPrivateKey, certs.KindEncryptedKey:
		in.Kind = "private-key"
		k, err := certs.ParsePrivateKey(data, pass)
		var uk *certs.UnsupportedKeyError
		switch {
		case errors.Is(err, certs.ErrPassphraseRequired):
			in.Locked = true
		case errors.As(err, &uk):
			in.Key = &certsInspectKey{Type: uk.Name}
		case err != nil:
			return in, &certs.FileError{Path: path, Err: err}
		default:
			in.Key = &certsInspectKey{Type: certs.KeyName(k.Public()), Supported: true}
			if der, err := x509.MarshalPKIXPublicKey(k.Public()); err == nil {
				in.Key.SPKISHA256 = certsFingerprint(der)
			}
		}
	case certs.KindCRL:
		in.Kind = "crl"
		ders, err := certs.SplitCRLs(data)
		if err != nil {
			return in, &certs.FileError{Path: path, Err: err}
		}
		for _, der := range ders {
			rl, err := certs.ParseCRL(der)
			if err != nil {
				return in, &certs.FileError{Path: path, Err: err}
			}
			c := &certsInspectCRL{Issuer: rl.Issuer.String(), ThisUpdate: rl.ThisUpdate.UTC(),
				Revoked: len(rl.RevokedCertificateEntries), Signature: certs.SignatureName(rl.Raw)}
			if rl.Number != nil {
				c.Number = rl.Number.String()
			}
			if !rl.NextUpdate.IsZero() {
				n := rl.NextUpdate.UTC()
				c.NextUpdate = &n
			}
			if in.CRL == nil {
				in.CRL = c
			} else {
				in.MoreCRLs = append(in.MoreCRLs, c)
			}
		}
	case certs.KindPKCS12:
		in.Kind, in.Encoding = "pkcs12", ""
		p, err := certs.ParsePKCS12(data, pass)
		switch {
		case errors.Is(err, certs.ErrPassphraseRequired), errors.Is(err, certs.ErrIncorrectPassphrase) && len(pass) == 0:
			in.Locked = true
		case errors.Is(err, certs.ErrNoKey):
			// a certificate-only PKCS#12 file: a trust bundle
			cs, cerr := certs.ParsePKCS12Certificates(data, pass)
			if cerr != nil {
				return in, &certs.FileError{Path: path, Err: cerr}
			}
			in.addCerts(&in.Chain, cs...)
		case err != nil:
			return in, &certs.FileError{Path: path, Err: err}
		default:
			m := certs.KeyMatches(p.Key, p.Leaf)
			in.Key = &certsInspectKey{Type: certs.KeyName(p.Key.Public()), Supported: true, MatchesCertificate: &m}
			if der, err := x509.MarshalPKIXPublicKey(p.Key.Public()); err == nil {
				in.Key.SPKISHA256 = certsFingerprint(der)
			}
			in.addCerts(&in.Certificates, p.Leaf)
			in.addCerts(&in.Chain, p.Chain...)
		}
	case certs.KindCSR:
		in.Kind = "csr"
		csr, err := certs.ParseCertificateRequest(data)
		if err != nil {
			return in, &certs.FileError{Path: path, Err: err}
		}
		names := []string{}
		for _, n := range csr.DNSNames {
			names = append(names, "DNS:"+n)
		}
		in.Request = &certsInspectRequest{Subject: csr.Subject.String(), Names: append(names, certsIPs(csr.IPAddresses)...),
			Key: certs.PublicKeyNameOf(csr.RawSubjectPublicKeyInfo, csr.PublicKey), Signature: certs.SignatureName(csr.Raw), SignatureValid: csr.CheckSignature() == nil}
	default:
		_, err := certs.ParseCertificates(data)
		return in, &certs.FileError{Path: path, Err: fmt.Errorf("not a certificate, key, CRL or PKCS#12 file: %w", err)}
	}
	return in, nil
}

func (in *certsInspected) addCerts(to *[]certsInspectCert, cs ...*x509.Certificate) {
	for _, c := range cs {
		*to = append(*to, certsInspectCert{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), Names: append([]string{}, certsSANs(c)...), Key: certs.PublicKeyName(c),
			Signature: certs.SignatureName(c.Raw), Serial: fmt.Sprintf("%x", c.SerialNumber),
			CA: c.BasicConstraintsValid && c.IsCA, SHA256: certsFingerprint(c.Raw)})
		in.certs = append(in.certs, c)
	}
}

// writeText prints what certs inspect says without --json.
func (in certsInspected) writeText(w io.Writer) {
	path := in.File
	switch in.Kind {
	case "certificate":
		fmt.Fprintf(w, "%s: %s (%s)\n", path, certsPlural(len(in.Certificates), "certificate"), in.encodingText())
		for i, c := range in.Certificates {
			if len(in.Certificates) > 1 {
				fmt.Fprintf(w, "  [%d]\n", i+1)
			}
			c.writeText(w)
		}
		for _, j := range in.Junk {
			fmt.Fprintf(w, "  junk:        %s (skipped)\n", j)
		}
	case "private-key":
		if in.Locked {
			fmt.Fprintf(w, "%s: encrypted private key (%s); give --passphrase-file to open it\n", path, in.Encoding)
			return
		}
		fmt.Fprintf(w, "%s: %s (%s)\n", path, in.kindText, in.encodingText())
		fmt.Fprintf(w, "  key:         %s\n", in.Key.Type)
		if in.Key.SPKISHA256 != "" {
			fmt.Fprintf(w, "  spki sha256: %s\n", in.Key.SPKISHA256)
		}
	case "crl":
		all := append([]*certsInspectCRL{in.CRL}, in.MoreCRLs...)
		for i, rl := range all {
			if len(all) == 1 {
				fmt.Fprintf(w, "%s: CRL (%s)\n", path, in.encodingText())
			} else {
				fmt.Fprintf(w, "%s: CRL %d of %d (%s)\n", path, i+1, len(all), in.encodingText())
			}
			fmt.Fprintf(w, "  issuer:      %s\n", rl.Issuer)
			if rl.Number != "" {
				fmt.Fprintf(w, "  number:      %s\n", rl.Number)
			}
			fmt.Fprintf(w, "  this update: %s\n", certsDay(rl.ThisUpdate))
			if rl.NextUpdate != nil {
				fmt.Fprintf(w, "  next update: %s\n", certsDay(*rl.NextUpdate))
			}
			fmt.Fprintf(w, "  revoked:     %d\n", rl.Revoked)
			fmt.Fprintf(w, "  signature:   %s\n", rl.Signature)
		}
	case "pkcs12":
		if in.Locked {
			fmt.Fprintf(w, "%s: PKCS#12 (encrypted); give --passphrase-file to list its contents\n", path)
			return
		}
		if in.Key == nil {
			fmt.Fprintf(w, "%s: PKCS#12 trust bundle: %s and no key\n", path, certsPlural(len(in.Chain), "certificate"))
			for i, c := range in.Chain {
				fmt.Fprintf(w, "  [%d]\n", i+1)
				c.writeText(w)
			}
			return
		}
		fmt.Fprintf(w, "%s: PKCS#12 with a key, its certificate and %s\n", path, certsPlural(len(in.Chain), "CA certificate"))
		fmt.Fprintf(w, "  key:         %s (matches the certificate: %v)\n", in.Key.Type, *in.Key.MatchesCertificate)
		in.Certificates[0].writeText(w)
		for i, c := range in.Chain {
			fmt.Fprintf(w, "  [chain %d]\n", i+1)
			c.writeText(w)
		}
	case "csr":
		fmt.Fprintf(w, "%s: certificate request (%s)\n", path, in.encodingText())
		if r := in.Request; r != nil {
			fmt.Fprintf(w, "  subject:     %s\n", r.Subject)
			fmt.Fprintf(w, "  names:       %s\n", strings.Join(r.Names, ", "))
			fmt.Fprintf(w, "  key:         %s\n", r.Key)
			fmt.Fprintf(w, "  signature:   %s (valid: %v)\n", r.Signature, r.SignatureValid)
		}
	}
}

// encodingText is the encoding as text shows it: "PEM", or "PEM, after a
// UTF-8 byte-order mark".
func (in certsInspected) encodingText() string {
	if in.TextMark != "" {
		return in.Encoding + "; it starts with a " + in.TextMark + ", read past as OpenSSL does"
	}
	return in.Encoding
}

func (c certsInspectCert) writeText(w io.Writer) {
	fmt.Fprintf(w, "  subject:     %s\n", c.Subject)
	fmt.Fprintf(w, "  issuer:      %s\n", c.Issuer)
	fmt.Fprintf(w, "  valid:       %s to %s\n", certsDay(c.NotBefore), certsDay(c.NotAfter))
	fmt.Fprintf(w, "  names:       %s\n", certsNamesText(c.Names))
	fmt.Fprintf(w, "  key:         %s\n", c.Key)
	fmt.Fprintf(w, "  signature:   %s\n", c.Signature)
	fmt.Fprintf(w, "  serial:      %s\n", c.Serial)
	if c.CA {
		fmt.Fprintf(w, "  ca:          yes\n")
	}
	fmt.Fprintf(w, "  sha256:      %s\n", c.SHA256)
}

// certsErrText is err's message without the package prefixes.
func certsErrText(err error) string {
	return strings.NewReplacer("certs: ", "", "ca: ", "").Replace(err.Error())
}

func certsIPs(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, "IP:"+ip.String())
	}
	return out
}

// certsFindingDetail is the part of a finding's message after the catalogue
// wording ("x.crt: empty file"), or the whole message when there is none.
func certsFindingDetail(f certs.Finding) string {
	for _, c := range certs.Codes() {
		if c.Code == f.Code {
			if d, ok := strings.CutPrefix(f.Message, c.Message+" ("); ok {
				return strings.TrimSuffix(d, ")")
			}
		}
	}
	return f.Message
}
