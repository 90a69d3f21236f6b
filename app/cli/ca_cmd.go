package cli

import (
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/certs/ca"
)

// caIssuedDir holds what the CA issued: NAME.crt and NAME.key (the key
// encrypted with the CA passphrase), NAME = hostname-serial.
const caIssuedDir = "issued"

// caPassphrase reads the CA passphrase file; it is required.
func caPassphrase(env *Env, cmd, path string) ([]byte, bool) {
	if path == "" {
		env.Errorf("ca %s: --passphrase-file is required (the CA keys are stored encrypted)", cmd)
		return nil, false
	}
	p, err := certsReadPassphrase(path)
	if err != nil {
		env.Errorf("ca %s: passphrase file: %v", cmd, err)
		return nil, false
	}
	if len(p) == 0 {
		env.Errorf("ca %s: %s: the passphrase is empty", cmd, path)
		return nil, false
	}
	return p, true
}

// caLoad opens the CA directory; errors name the file and how to fix it.
func caLoad(env *Env, cmd, dir string, pass []byte) (*ca.CA, bool) {
	c, err := ca.Load(dir, pass)
	if err != nil {
		if errors.Is(err, certs.ErrIncorrectPassphrase) {
			env.Errorf("ca %s: %s (check --passphrase-file)", cmd, certsErrText(err))
		} else {
			env.Errorf("ca %s: %s", cmd, certsErrText(err))
		}
		return nil, false
	}
	return c, true
}

func runCAInit(env *Env, args []string) int {
	fs := certsFlagSet(env, "ca init", "ca init --dir D --passphrase-file F --country C --org O [--name CN] [--ou OU] [--intermediate] [--key-type rsa2048|rsa3072|rsa4096|p256] [--crl-url http://...] [--root-crl-url http://...] [--at RFC3339]")
	dir := fs.String("dir", "", "directory for the CA (created, mode 0700)")
	passFile := fs.String("passphrase-file", "", "file holding the passphrase that encrypts the CA keys")
	name := fs.String("name", "", "root CA common name (default \"Tapline Offline Root CA\")")
	country := fs.String("country", "", "subject C (two letters) of the CA and of sensor certificates")
	org := fs.String("org", "", "subject O of the CA and of sensor certificates")
	ou := fs.String("ou", "", "subject OU of sensor certificates (default \"OT Sensors\")")
	inter := fs.Bool("intermediate", false, "also create an intermediate CA that signs sensor certificates")
	keyType := fs.String("key-type", "rsa2048", "CA key: rsa2048, rsa3072, rsa4096 or p256")
	crlURL := fs.String("crl-url", "", "http:// CRL distribution point put in sensor certificates")
	rootCRLURL := fs.String("root-crl-url", "", "with --intermediate: http:// URL of the root's CRL (root-crl.pem) put in the intermediate, so sensors can fetch it")
	at := fs.String("at", "", "the current time (RFC 3339), for reproducible CAs")
	kdf := fs.Int("kdf-iterations", certs.PBKDF2Iterations, "PBKDF2 iterations protecting the stored keys")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if *dir == "" {
		env.Errorf("ca init: --dir is required")
		return ExitUsage
	}
	if _, err := os.Stat(filepath.Join(*dir, ca.RootKeyFile)); err == nil {
		env.Errorf("ca init: %s already holds a CA; choose another --dir", *dir)
		return ExitUsage
	}
	pass, ok := caPassphrase(env, "init", *passFile)
	if !ok {
		return ExitUsage
	}
	// Sensors expect C and O in the subject (TL-CERT-015, TL-CERT-016): without
	// them everything this CA issues would draw warnings from 'certs check'.
	if *country == "" || *org == "" {
		env.Errorf("ca init: --country and --org are required: sensors expect C and O in a certificate's subject")
		return ExitUsage
	}
	if len(*country) != 2 || !caLetters(*country) {
		env.Errorf("ca init: --country %q is not a two-letter country code such as DE (ISO 3166)", *country)
		return ExitUsage
	}
	*country = strings.ToUpper(*country)
	kt, err := ca.ParseKeyType(*keyType)
	if err != nil {
		env.Errorf("ca init: %s", certsErrText(err))
		return ExitUsage
	}
	now, err := certsParseAt(env, *at)
	if err != nil {
		env.Errorf("ca init: %s", certsErrText(err))
		return ExitUsage
	}
	c, err := ca.Init(ca.InitOptions{Name: *name, Country: *country, Organization: *org, OrgUnit: *ou,
		Intermediate: *inter, KeyType: kt, CRLURL: *crlURL, RootCRLURL: *rootCRLURL, Now: now, KDFIterations: *kdf})
	if err != nil {
		env.Errorf("ca init: %s", certsErrText(err))
		return ExitUsage
	}
	if err := c.Save(*dir, pass, nil); err != nil {
		env.Errorf("ca init: %s", certsErrText(err))
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "root CA:         %s (valid to %s)\n", c.Root.Subject.String(), certsDay(c.Root.NotAfter))
	if c.Intermediate != nil {
		fmt.Fprintf(env.Stdout, "intermediate CA: %s (valid to %s)\n", c.Intermediate.Subject.String(), certsDay(c.Intermediate.NotAfter))
	}
	fmt.Fprintf(env.Stdout, "written to %s (keys encrypted, files 0600)\n", *dir)
	return ExitOK
}

// caLetters reports whether s is ASCII letters only.
func caLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func runCAIssue(env *Env, args []string) int {
	fs := certsFlagSet(env, "ca issue", "ca issue --dir D --passphrase-file F --hostname FQDN [--ip A] [--csr F] [--key-type rsa2048|rsa3072|rsa4096|p256] [--days N] [--at RFC3339]")
	dir := fs.String("dir", "", "the CA directory")
	passFile := fs.String("passphrase-file", "", "file holding the CA passphrase")
	hostname := fs.String("hostname", "", "the sensor's FQDN (CN and SAN)")
	ip := fs.String("ip", "", "the sensor's IP address, added to the SAN")
	csrFile := fs.String("csr", "", "a certificate request (PEM or DER) instead of a new key")
	keyType := fs.String("key-type", "rsa2048", "new key: rsa2048, rsa3072, rsa4096 or p256")
	days := fs.Int("days", 365, "validity in days")
	at := fs.String("at", "", "the current time (RFC 3339)")
	usage := fs.String("usage", "server", "what the certificate is for: server (a sensor's console), client (a sensor's uplink to the site's NATS servers) or server,client (a NATS server of a cluster)")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if *dir == "" {
		env.Errorf("ca issue: --dir is required")
		return ExitUsage
	}
	if *hostname == "" && *csrFile == "" {
		env.Errorf("ca issue: --hostname is required")
		return ExitUsage
	}
	if *days < 1 {
		env.Errorf("ca issue: --days must be at least 1")
		return ExitUsage
	}
	req := ca.IssueRequest{Hostname: *hostname, Validity: time.Duration(*days) * 24 * time.Hour}
	var err error
	if req.Usage, err = ca.ParseUsage(*usage); err != nil {
		env.Errorf("ca issue: --usage: %s", strings.TrimPrefix(err.Error(), "ca: "))
		return ExitUsage
	}
	if req.KeyType, err = ca.ParseKeyType(*keyType); err != nil {
		env.Errorf("ca issue: %s", certsErrText(err))
		return ExitUsage
	}
	if *ip != "" {
		if req.IP, err = netip.ParseAddr(*ip); err != nil {
			env.Errorf("ca issue: --ip %q is not an IP address", *ip)
			return ExitUsage
		}
	}
	if *csrFile != "" {
		if req.CSR, err = certs.ReadFile(*csrFile); err != nil {
			env.Errorf("ca issue: %s", certsErrText(err))
			return ExitUsage
		}
	}
	if req.Now, err = certsParseAt(env, *at); err != nil {
		env.Errorf("ca issue: %s", certsErrText(err))
		return ExitUsage
	}
	pass, ok := caPassphrase(env, "issue", *passFile)
	if !ok {
		return ExitUsage
	}
	c, ok := caLoad(env, "issue", *dir, pass)
	if !ok {
		return ExitUsage
	}
	is, err := c.Issue(req)
	if err != nil {
		prefix := ""
		if *csrFile != "" {
			prefix = *csrFile + ": "
		}
		env.Errorf("ca issue: %s%s", prefix, strings.TrimPrefix(err.Error(), "ca: "))
		return ExitUsage
	}
	base := filepath.Join(*dir, caIssuedDir, fmt.Sprintf("%s-%x", is.Cert.Subject.CommonName, is.Cert.SerialNumber))
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		env.Errorf("ca issue: %s", certsErrText(err))
		return ExitUsage
	}
	if err := ca.WriteFile(base+".crt", is.CertPEM); err != nil {
		env.Errorf("ca issue: %s", certsErrText(err))
		return ExitUsage
	}
	if is.Key != nil {
		k, err := certs.MarshalPrivateKeyPEMIterations(nil, is.Key, pass, c.State.KDFIterations)
		if err == nil {
			err = ca.WriteFile(base+".key", k)
		}
		if err != nil {
			env.Errorf("ca issue: %s", certsErrText(err))
			return ExitUsage
		}
	}
	if err := c.SaveState(*dir); err != nil {
		env.Errorf("ca issue: %s", certsErrText(err))
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "issued:  %s\n", is.Cert.Subject.String())
	fmt.Fprintf(env.Stdout, "serial:  %x\n", is.Cert.SerialNumber)
	fmt.Fprintf(env.Stdout, "valid:   %s to %s\n", certsDay(is.Cert.NotBefore), certsDay(is.Cert.NotAfter))
	fmt.Fprintf(env.Stdout, "names:   %s\n", certsSANText(is.Cert))
	fmt.Fprintf(env.Stdout, "stored:  %s.crt\n", base)
	fmt.Fprintf(env.Stdout, "next:    tapline ca export --dir %s --serial %x --out DIR\n", *dir, is.Cert.SerialNumber)
	return ExitOK
}

// caFindIssued returns the base path (without extension) of the issued
// certificate with serial (hex) or, when serial is empty, the newest for hostname.
func caFindIssued(c *ca.CA, dir, serial, hostname string) (string, error) {
	want := ""
	if serial != "" {
		n, err := ca.ParseSerial(serial)
		if err != nil {
			return "", err
		}
		want = fmt.Sprintf("%x", n)
	}
	for i := len(c.State.Issued) - 1; i >= 0; i-- {
		r := c.State.Issued[i]
		n, _ := ca.ParseSerial(r.Serial)
		s := fmt.Sprintf("%x", n)
		if want != "" && s == want || want == "" && strings.EqualFold(r.Hostname, strings.TrimSuffix(hostname, ".")) {
			return filepath.Join(dir, caIssuedDir, fmt.Sprintf("%s-%s", r.Hostname, s)), nil
		}
	}
	if want != "" {
		return "", fmt.Errorf("this CA issued no certificate with serial %s", serial)
	}
	return "", fmt.Errorf("this CA issued no certificate for %s", hostname)
}

func runCAExport(env *Env, args []string) int {
	fs := certsFlagSet(env, "ca export", "ca export --dir D --passphrase-file F (--serial HEX | --hostname FQDN) --out DIR [--name NAME] [--key-passphrase-file F] [--pfx-passphrase-file F] [--legacy-pfx]")
	dir := fs.String("dir", "", "the CA directory")
	passFile := fs.String("passphrase-file", "", "file holding the CA passphrase")
	serial := fs.String("serial", "", "serial number (hex) of the issued certificate")
	hostname := fs.String("hostname", "", "export the newest certificate issued for this FQDN")
	out := fs.String("out", "", "directory for the sensor's files (created)")
	name := fs.String("name", "", "base name of the files (default: the hostname)")
	keyPassFile := fs.String("key-passphrase-file", "", "encrypt the .key with this passphrase (default: unencrypted)")
	pfxPassFile := fs.String("pfx-passphrase-file", "", "also write a PKCS#12 .pfx with this passphrase")
	legacy := fs.Bool("legacy-pfx", false, "write the .pfx with 3DES and a SHA-1 MAC for old consumers (default AES-256, SHA-256)")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if *dir == "" || *out == "" || (*serial == "") == (*hostname == "") {
		env.Errorf("ca export: give --dir, --out and one of --serial or --hostname")
		return ExitUsage
	}
	pass, ok := caPassphrase(env, "export", *passFile)
	if !ok {
		return ExitUsage
	}
	var o ca.ExportOptions
	var err error
	if *keyPassFile != "" {
		if o.KeyPassphrase, err = certsReadPassphrase(*keyPassFile); err != nil {
			env.Errorf("ca export: key passphrase file: %v", err)
			return ExitUsage
		}
	}
	if *pfxPassFile != "" {
		if o.PFXPassphrase, err = certsReadPassphrase(*pfxPassFile); err != nil {
			env.Errorf("ca export: PKCS#12 passphrase file: %v", err)
			return ExitUsage
		}
	}
	o.LegacyPFX = *legacy
	c, ok := caLoad(env, "export", *dir, pass)
	if !ok {
		return ExitUsage
	}
	base, err := caFindIssued(c, *dir, *serial, *hostname)
	if err != nil {
		env.Errorf("ca export: %s", certsErrText(err))
		return ExitUsage
	}
	cs, err := certs.ReadCertificates(base + ".crt")
	if err != nil {
		env.Errorf("ca export: %s", certsErrText(err))
		return ExitUsage
	}
	for _, r := range c.State.Revoked {
		if n, err := ca.ParseSerial(r.Serial); err == nil && n.Cmp(cs[0].SerialNumber) == 0 {
			env.Errorf("ca export: serial %x (%s) was revoked on %s; issue a new certificate with 'tapline ca issue'",
				n, cs[0].Subject.CommonName, certsDay(r.Time))
			return ExitUsage
		}
	}
	is := &ca.Issued{Cert: cs[0], CertPEM: caPEM(cs[0].Raw), Chain: c.Chain()}
	for _, x := range is.Chain {
		is.ChainPEM = append(is.ChainPEM, caPEM(x.Raw)...)
	}
	if _, err := os.Stat(base + ".key"); err == nil {
		if is.Key, err = certs.ReadPrivateKey(base+".key", pass); err != nil {
			env.Errorf("ca export: %s", certsErrText(err))
			return ExitUsage
		}
	}
	if *name == "" {
		*name = cs[0].Subject.CommonName
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		env.Errorf("ca export: %s", certsErrText(err))
		return ExitUsage
	}
	o.KDFIterations = c.State.KDFIterations
	files, err := ca.Export(*out, *name, is, o)
	if err != nil {
		env.Errorf("ca export: %s", certsErrText(err))
		return ExitUsage
	}
	for _, f := range files {
		fmt.Fprintf(env.Stdout, "wrote %s\n", f)
	}
	return ExitOK
}

func caPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// caReason maps an RFC 5280 §5.3.1 CRLReason name to its code.
func caReason(name string) (int, bool) {
	code, ok := map[string]int{
		"unspecified": 0, "keycompromise": 1, "cacompromise": 2, "affiliationchanged": 3,
		"superseded": 4, "cessationofoperation": 5, "certificatehold": 6, "privilegewithdrawn": 9,
	}[strings.ToLower(name)]
	return code, ok
}

func runCARevoke(env *Env, args []string) int {
	fs := certsFlagSet(env, "ca revoke", "ca revoke --dir D --passphrase-file F (--serial HEX | --cert F) [--reason keyCompromise|superseded|cessationOfOperation|...] [--at RFC3339]")
	dir := fs.String("dir", "", "the CA directory")
	passFile := fs.String("passphrase-file", "", "file holding the CA passphrase")
	serial := fs.String("serial", "", "serial number (hex) to revoke")
	certFile := fs.String("cert", "", "the certificate to revoke, instead of --serial")
	reason := fs.String("reason", "unspecified", "RFC 5280 reason: name or number")
	at := fs.String("at", "", "revocation time (RFC 3339), default now")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if *dir == "" || (*serial == "") == (*certFile == "") {
		env.Errorf("ca revoke: give --dir and one of --serial or --cert")
		return ExitUsage
	}
	code, ok := caReason(*reason)
	if !ok {
		n, err := strconv.Atoi(*reason)
		if err != nil {
			env.Errorf("ca revoke: --reason %q is not an RFC 5280 reason (keyCompromise, superseded, cessationOfOperation, ...)", *reason)
			return ExitUsage
		}
		code = n
	}
	now, err := certsParseAt(env, *at)
	if err != nil {
		env.Errorf("ca revoke: %s", certsErrText(err))
		return ExitUsage
	}
	var sn *big.Int
	if *certFile != "" {
		cs, err := certs.ReadCertificates(*certFile)
		if err != nil {
			env.Errorf("ca revoke: %s", certsErrText(err))
			return ExitUsage
		}
		sn = cs[0].SerialNumber
	} else if sn, err = ca.ParseSerial(*serial); err != nil {
		env.Errorf("ca revoke: %s", certsErrText(err))
		return ExitUsage
	}
	pass, ok := caPassphrase(env, "revoke", *passFile)
	if !ok {
		return ExitUsage
	}
	c, ok := caLoad(env, "revoke", *dir, pass)
	if !ok {
		return ExitUsage
	}
	if !caIssuedSerial(c, sn) {
		env.Errorf("ca revoke: this CA issued no certificate with serial %x (its certificates are listed in %s)", sn, filepath.Join(*dir, ca.StateFile))
		return ExitUsage
	}
	if err := c.Revoke(sn, code, now); err != nil {
		env.Errorf("ca revoke: %s", certsErrText(err))
		return ExitUsage
	}
	if err := c.SaveState(*dir); err != nil {
		env.Errorf("ca revoke: %s", certsErrText(err))
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "revoked serial %x (reason %d); publish a new CRL with 'tapline ca crl'\n", sn, code)
	return ExitOK
}

// caIssuedSerial reports whether c issued the certificate with serial sn
// (its intermediate included): a CRL entry for anything else would be a typo
// that revokes nothing.
func caIssuedSerial(c *ca.CA, sn *big.Int) bool {
	if c.IsIntermediate(sn) {
		return true
	}
	for _, r := range c.State.Issued {
		if n, err := ca.ParseSerial(r.Serial); err == nil && n.Cmp(sn) == 0 {
			return true
		}
	}
	return false
}

func runCACRL(env *Env, args []string) int {
	fs := certsFlagSet(env, "ca crl", "ca crl --dir D --passphrase-file F [--out F] [--root-out F] [--days N] [--der] [--at RFC3339]")
	dir := fs.String("dir", "", "the CA directory")
	passFile := fs.String("passphrase-file", "", "file holding the CA passphrase")
	out := fs.String("out", "", "where to write the issuing CA's CRL, the one sensors fetch (default DIR/crl.pem)")
	rootOut := fs.String("root-out", "", "where to write the root's CRL, when the CA has an intermediate (default DIR/root-crl.pem)")
	days := fs.Int("days", 7, "days until nextUpdate")
	der := fs.Bool("der", false, "write DER instead of PEM")
	at := fs.String("at", "", "thisUpdate (RFC 3339), default now")
	if code, ok := certsParseFlags(env, fs, args); !ok {
		return code
	}
	if *dir == "" || *days < 1 {
		env.Errorf("ca crl: give --dir and --days of at least 1")
		return ExitUsage
	}
	now, err := certsParseAt(env, *at)
	if err != nil {
		env.Errorf("ca crl: %s", certsErrText(err))
		return ExitUsage
	}
	pass, ok := caPassphrase(env, "crl", *passFile)
	if !ok {
		return ExitUsage
	}
	c, ok := caLoad(env, "crl", *dir, pass)
	if !ok {
		return ExitUsage
	}
	validity := time.Duration(*days) * 24 * time.Hour
	files, err := c.CRLs(now, validity, nil)
	if err != nil {
		env.Errorf("ca crl: %s", certsErrText(err))
		return ExitUsage
	}
	if *out == "" {
		*out = filepath.Join(*dir, ca.CRLFileName)
	}
	if *rootOut == "" {
		*rootOut = filepath.Join(*dir, ca.RootCRLFileName)
	}
	paths := []string{*out, *rootOut}
	for i, f := range files {
		data := f.PEM
		if *der {
			rl, err := certs.ParseCRL(f.PEM)
			if err != nil {
				env.Errorf("ca crl: %s", certsErrText(err))
				return ExitUsage
			}
			data = rl.Raw
		}
		if err := os.WriteFile(paths[i], data, 0o644); err != nil {
			env.Errorf("ca crl: %s", certsErrText(err))
			return ExitUsage
		}
	}
	if err := c.SaveState(*dir); err != nil {
		env.Errorf("ca crl: %s", certsErrText(err))
		return ExitUsage
	}
	for i, f := range files {
		revoked := len(c.State.Revoked)
		if i > 0 {
			revoked = len(c.State.RootRevoked)
		}
		fmt.Fprintf(env.Stdout, "CRL number %d of %s, %d revoked, next update %s: %s\n", f.Number, f.Issuer.Subject.CommonName, revoked,
			certsDay(now.Add(validity)), paths[i])
	}
	fmt.Fprintf(env.Stdout, "publish %s at the CRL URL; run 'tapline ca crl' again and publish before %s: after it, sensors with certificate validation refuse the certificates\n",
		*out, certsDay(now.Add(validity)))
	if len(files) > 1 {
		fmt.Fprintf(env.Stdout, "with certificate validation a sensor checks every level of the chain: push both (--crl %s --crl %s)\n", *out, *rootOut)
	}
	return ExitOK
}
