package certs_test

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

// pkitsDataDirs are where Debian's python3-cryptography-vectors installs the
// NIST PKITS certificates and CRLs (tools/ensure-deps.sh, test profile).
var pkitsDataDirs = []string{
	"/usr/lib/python3/dist-packages/cryptography_vectors/x509/PKITS_data",
	"/usr/share/python3-cryptography-vectors/x509/PKITS_data",
}

// pkitsSections are the PKITS sections run: signatures, validity, name
// chaining, basic revocation, self-issued certificates and key rollover,
// basic constraints, key usage, distribution points, delta CRLs and unknown
// extensions (NIST PKITS §4.1-4.7, 4.14-4.16).
var pkitsSections = []string{"4.1.", "4.2.", "4.3.", "4.4.", "4.5.", "4.6.", "4.7.", "4.14.", "4.15.", "4.16."}

// pkitsNow is inside every PKITS certificate's and CRL's validity
// (2010-2030); the tests of dates use certificates outside it.
var pkitsNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// pkitsVector is one case of Go's crypto/x509/testdata/nist-pkits/vectors.json:
// the certificates from the trust anchor down to the end entity (with any
// other certificate the case needs, such as a CRL issuer), the CRLs, and
// whether the end entity validates.
type pkitsVector struct {
	Name                        string   `json:"Name"`
	CertPath                    []string `json:"CertPath"`
	CRLPath                     []string `json:"CRLPath"`
	ShouldValidate              bool     `json:"ShouldValidate"`
	InitialPolicySet            []string `json:"InitialPolicySet"`
	InitialPolicyMappingInhibit bool     `json:"InitialPolicyMappingInhibit"`
	InitialExplicitPolicy       bool     `json:"InitialExplicitPolicy"`
	InitialAnyPolicyInhibit     bool     `json:"InitialAnyPolicyInhibit"`
}

// pkitsVectorsPath is the expected results in Go's own source tree.
func pkitsVectorsPath() string {
	root := runtime.GOROOT()
	if root == "" {
		if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		}
	}
	return filepath.Join(root, "src", "crypto", "x509", "testdata", "nist-pkits", "vectors.json")
}

// TestPKITS runs NIST PKITS through Verify with RequireCRL (PKITS expects
// every certificate's revocation status to be decided): at least 97%
// agreement, and no case PKITS calls invalid may validate. Every
// disagreement must be listed in testdata/pkits-exceptions.txt with its
// reason; a listed case that starts agreeing fails the test too.
func TestPKITS(t *testing.T) {
	vectorsPath := pkitsVectorsPath()
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		needInput(t, "the PKITS expected results in Go's source tree (%s)", vectorsPath)
	}
	dir := ""
	for _, d := range pkitsDataDirs {
		if _, err := os.Stat(filepath.Join(d, "certs", "TrustAnchorRootCertificate.crt")); err == nil {
			dir = d
		}
	}
	if dir == "" {
		needInput(t, "the PKITS certificates and CRLs of Debian's python3-cryptography-vectors (%s)", pkitsDataDirs[0])
	}
	var vectors []pkitsVector
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	exceptions := readExceptions(t, filepath.Join("testdata", "pkits-exceptions.txt"))
	seen := map[string]bool{}
	agree, total := 0, 0
	var disagreements []string
	for _, v := range vectors {
		if !pkitsInScope(v.Name) {
			continue
		}
		id := pkitsID(v.Name)
		seen[id] = true
		total++
		if len(v.InitialPolicySet) != 1 || v.InitialPolicySet[0] != "anyPolicy" || v.InitialPolicyMappingInhibit || v.InitialExplicitPolicy || v.InitialAnyPolicyInhibit {
			t.Errorf("%s: asks for initial policy settings this test does not pass on", v.Name)
			continue
		}
		err := runPKITS(t, dir, v)
		ok := (err == nil) == v.ShouldValidate
		_, excepted := exceptions[id]
		switch {
		case err == nil && !v.ShouldValidate:
			t.Errorf("%s: validates, but PKITS says it is invalid", v.Name)
			disagreements = append(disagreements, id)
		case ok:
			agree++
			if excepted {
				t.Errorf("%s: now agrees; remove it from pkits-exceptions.txt", id)
			}
		case !excepted:
			t.Errorf("%s: refused (%v), but PKITS says it is valid (new disagreement)", v.Name, err)
			disagreements = append(disagreements, id)
		default:
			disagreements = append(disagreements, id)
		}
	}
	for id := range exceptions {
		if !seen[id] {
			t.Errorf("exception %s names no PKITS case in the sections run", id)
		}
	}
	pct := 100 * float64(agree) / float64(total)
	t.Logf("PKITS %s: %d/%d agree (%.1f%%)", strings.Join(pkitsSections, " "), agree, total, pct)
	if pct < 97 {
		sort.Strings(disagreements)
		t.Errorf("agreement %.1f%% < 97%%; disagreements: %s", pct, strings.Join(disagreements, " "))
	}
}

func pkitsInScope(name string) bool {
	for _, s := range pkitsSections {
		if strings.HasPrefix(name, s) {
			return true
		}
	}
	return false
}

// pkitsID is the case's number, "4.14.3".
func pkitsID(name string) string { id, _, _ := strings.Cut(name, " "); return id }

// runPKITS validates one vector: the first certificate is the trust anchor,
// the last the end entity, the others intermediates (or CRL issuers).
// A certificate that does not parse fails the case; a CRL that does not
// parse is left out (its certificates' status is then undetermined).
func runPKITS(t *testing.T, dir string, v pkitsVector) error {
	var path []*x509.Certificate
	for _, name := range v.CertPath {
		data, err := os.ReadFile(filepath.Join(dir, "certs", name))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		c, err := certs.ParseCertificate(data)
		if err != nil {
			return err
		}
		path = append(path, c)
	}
	if len(path) < 2 {
		return errors.New("no path")
	}
	o := certs.VerifyOptions{Anchors: path[:1], Intermediates: path[1 : len(path)-1], Time: pkitsNow, RequireCRL: true}
	for _, name := range v.CRLPath {
		data, err := os.ReadFile(filepath.Join(dir, "crls", name))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if c, err := certs.ParseCRLIndex(data); err == nil {
			o.CRLs = append(o.CRLs, c)
		}
	}
	_, err := certs.Verify(path[len(path)-1], o)
	return err
}
