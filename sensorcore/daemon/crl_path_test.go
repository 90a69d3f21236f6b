package daemon

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/internal/testkit"
)

// crlFiles serves files of a directory by name, as a plant's CRL web server
// does, counting requests; a name mapped to another file serves that one.
type crlFiles struct {
	dir  string
	mu   sync.Mutex
	as   map[string]string
	hits atomic.Int32
}

func (c *crlFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.hits.Add(1)
	name := filepath.Base(r.URL.Path)
	c.mu.Lock()
	if v, ok := c.as[name]; ok {
		name = v
	}
	c.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

func (c *crlFiles) serve(m map[string]string) {
	c.mu.Lock()
	c.as = m
	c.mu.Unlock()
}

// TestApplyChecksEveryLevelOfThePath: with certificate validation on, apply
// checks the revocation of every certificate of the path (as `openssl verify
// -crl_check_all`), on a PKI made by OpenSSL whose issuing CAs name the
// root's CRL as their distribution point, served over HTTP on loopback:
// the CRLs of both levels in the bundle (crls.pem), or one of them with the
// other fetched from its distribution point (a single-CRL bundle as earlier
// laptops made). A revoked issuing CA, and a root CRL that is stale, forged
// or another CA's, are refused with the laptop's code, naming the
// certificate, and nothing on the appliance changes; OpenSSL, given the
// same CRLs, decides the same each time.
func TestApplyChecksEveryLevelOfThePath(t *testing.T) {
	needs.Tool(t, "openssl", "openssl")
	now := time.Now().UTC().Truncate(time.Second)
	srv := &crlFiles{}
	ln := listen(t, srv)
	base := "http://" + ln.Addr().String()
	d := t.TempDir()
	script, _ := filepath.Abs(filepath.Join("..", "..", "certs", "testdata", "crlchain.sh"))
	if out, err := exec.Command("bash", script, d, base+"/issuing.crl", base+"/root.crl").CombinedOutput(); err != nil {
		t.Fatalf("crlchain.sh: %v\n%s", err, out)
	}
	srv.dir = d
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(d, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	k := testkit.New(t, now, "")
	e := newEngine(t, k, &fakeClock{now})
	ctx := context.Background()
	cases := []struct {
		name    string
		leaf    string            // leaf or leaf-rv, with its key and chain
		bundle  []string          // CRL files in the bundle
		served  map[string]string // what the distribution points serve
		fetched []string          // the files apply fetches (for OpenSSL)
		code    string            // the refusal; "" applied
		mention []string
	}{
		{"both levels in the bundle", "leaf", []string{"inter.crl", "root.crl"}, nil, nil, "", nil},
		{"a single-CRL bundle: the root's fetched", "leaf", []string{"inter.crl"}, nil, []string{"root.crl"}, "", nil},
		{"no CRL in the bundle: both fetched", "leaf", nil, map[string]string{"issuing.crl": "inter.crl"}, []string{"inter.crl", "root.crl"}, "", nil},
		{"revoked issuing CA, both levels in the bundle", "leaf-rv", []string{"inter-rv.crl", "root.crl"}, nil, nil, certs.CodeRevoked,
			[]string{"CA certificate CN=Plant Example Issuing CA 2", "keyCompromise", "of CN=Plant Example Root CA", "crls.pem, CRL 2 of 2"}},
		{"revoked issuing CA, the root's CRL fetched", "leaf-rv", []string{"inter-rv.crl"}, nil, []string{"root.crl"}, certs.CodeRevoked,
			[]string{"CA certificate CN=Plant Example Issuing CA 2", "fetched from " + base + "/root.crl"}},
		{"stale root CRL in the bundle", "leaf", []string{"inter.crl", "root-old.crl"}, nil, nil, certs.CodeCRLNotCurrent, []string{"Issuing CA"}},
		{"forged root CRL in the bundle", "leaf", []string{"inter.crl", "root-forged.crl"}, nil, nil, certs.CodeCRLSignature, []string{"Issuing CA"}},
		{"forged root CRL at the distribution point", "leaf", []string{"inter.crl"}, map[string]string{"root.crl": "root-forged.crl"}, []string{"root-forged.crl"}, certs.CodeCRLSignature, []string{"Issuing CA"}},
		{"another CA's CRL at the root's distribution point", "leaf", []string{"inter.crl", "other-root.crl"}, map[string]string{"root.crl": "other-root.crl"}, []string{"other-root.crl"},
			certs.CodeCRLUndetermined, []string{"CA certificate CN=Plant Example Issuing CA"}},
		{"the root's distribution point does not answer", "leaf", []string{"inter.crl"}, map[string]string{"root.crl": "gone.crl"}, []string{"gone.crl"}, CodeCRLUnreachable, []string{"not reachable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chain, inter := "chain.pem", "inter.crt"
			if c.leaf == "leaf-rv" {
				chain, inter = "chain-rv.pem", "inter-revoked.crt"
			}
			spec := testkit.Spec{Sensor: "sensor-01", CertValidation: true, Cert: read(c.leaf + ".crt"), Key: read(c.leaf + ".key"), Chain: read(chain)}
			args := []string{"verify", "-crl_check_all", "-attime", strconv.FormatInt(now.Unix(), 10), "-CAfile", filepath.Join(d, "root.crt"), "-untrusted", filepath.Join(d, inter)}
			for _, f := range c.bundle {
				spec.CRLs = append(spec.CRLs, read(f))
				args = append(args, "-CRLfile", filepath.Join(d, f))
			}
			srv.serve(c.served)
			srv.hits.Store(0)
			b := k.Bundle(t, t.TempDir(), spec)
			before, _ := testkit.TreeHash(e.Layout.Root)
			res, err := e.Apply(ctx, ApplyOptions{Path: b.Archive})
			if got := srv.hits.Load(); int(got) != len(c.fetched) && c.code != CodeCRLUnreachable {
				t.Errorf("apply made %d CRL requests, want %d", got, len(c.fetched))
			}
			var r *Refusal
			switch {
			case c.code == "" && (err != nil || !res.OK):
				t.Fatalf("refused: %v %+v", err, res.Findings)
			case c.code != "" && (!errors.As(err, &r) || r.Code != c.code):
				t.Fatalf("apply: %v, want the refusal %s (%+v)", err, c.code, res.Findings)
			case c.code != "":
				msg := err.Error()
				for _, f := range res.Findings {
					if f.Code == c.code {
						msg += " " + f.Message
					}
				}
				for _, m := range c.mention {
					if !strings.Contains(msg, m) {
						t.Errorf("the refusal does not name %q: %s", m, msg)
					}
				}
				if after, _ := testkit.TreeHash(e.Layout.Root); after != before {
					t.Fatal("a refused bundle changed the appliance")
				}
			}
			if c.code == CodeCRLUnreachable {
				return // nothing for OpenSSL to decide without the CRL
			}
			// OpenSSL, given the CRLs the appliance had (the bundle's and
			// what it fetched), decides the same.
			for _, f := range c.fetched {
				args = append(args, "-CRLfile", filepath.Join(d, f))
			}
			out, oerr := exec.Command("openssl", append(args, filepath.Join(d, c.leaf+".crt"))...).CombinedOutput()
			if (oerr == nil) != (c.code == "") {
				t.Errorf("openssl verify -crl_check_all disagrees (accepted: %v): %s", oerr == nil, out)
			}
		})
	}
}
