package certs_test

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/certs"
)

// limboPath is the x509-limbo snapshot shared by the repository checkouts.
const limboPath = "../../shared/conformance/limbo-2023-12-02.json"

type limboCase struct {
	ID                     string   `json:"id"`
	TrustedCerts           []string `json:"trusted_certs"`
	UntrustedIntermediates []string `json:"untrusted_intermediates"`
	PeerCertificate        string   `json:"peer_certificate"`
	ValidationTime         *string  `json:"validation_time"`
	ExpectedResult         string   `json:"expected_result"`
	ExpectedPeerName       *struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	} `json:"expected_peer_name"`
	MaxChainDepth *int `json:"max_chain_depth"`
}

// limboNow is the time for cases without a validation_time: the snapshot's
// date, so results do not drift with the clock.
var limboNow = time.Date(2023, 12, 2, 0, 0, 0, 0, time.UTC)

// TestLimbo runs every x509-limbo case through Verify with Strict (the
// certificate profile, anchors included, which x509-limbo's web-PKI cases
// assume). It must agree with
// expected_result on at least 95%; every disagreement must be listed in
// testdata/limbo-exceptions.txt with its reason, and an exception that
// starts agreeing fails the test too (remove it from the file).
func TestLimbo(t *testing.T) {
	data, err := os.ReadFile(limboPath)
	if err != nil {
		needInput(t, "the x509-limbo snapshot at %s (the shared conformance directory)", limboPath)
	}
	var doc struct {
		Testcases []limboCase `json:"testcases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	exceptions := readExceptions(t, filepath.Join("testdata", "limbo-exceptions.txt"))
	agree := 0
	var disagreements []string
	for _, c := range doc.Testcases {
		got := runLimbo(c)
		ok := got == c.ExpectedResult
		_, excepted := exceptions[c.ID]
		switch {
		case ok:
			agree++
			if excepted {
				t.Errorf("%s: now agrees (%s); remove it from limbo-exceptions.txt", c.ID, got)
			}
		case !excepted:
			t.Errorf("%s: got %s, want %s (new disagreement)", c.ID, got, c.ExpectedResult)
			disagreements = append(disagreements, c.ID)
		default:
			disagreements = append(disagreements, c.ID)
		}
	}
	for id := range exceptions {
		found := false
		for _, c := range doc.Testcases {
			found = found || c.ID == id
		}
		if !found {
			t.Errorf("exception %s names no test case", id)
		}
	}
	pct := 100 * float64(agree) / float64(len(doc.Testcases))
	t.Logf("limbo: %d/%d agree (%.1f%%)", agree, len(doc.Testcases), pct)
	if pct < 95 {
		sort.Strings(disagreements)
		t.Errorf("agreement %.1f%% < 95%%; disagreements: %s", pct, strings.Join(disagreements, " "))
	}
}

func runLimbo(c limboCase) string {
	parse := func(ss []string) []*x509.Certificate {
		var out []*x509.Certificate
		for _, s := range ss {
			cs, err := certs.ParseCertificates([]byte(s))
			if err == nil {
				out = append(out, cs...)
			}
		}
		return out
	}
	leafs := parse([]string{c.PeerCertificate})
	if len(leafs) != 1 {
		return "FAILURE"
	}
	o := certs.VerifyOptions{Anchors: parse(c.TrustedCerts), Intermediates: parse(c.UntrustedIntermediates), Time: limboNow, Strict: true}
	if c.ValidationTime != nil {
		if t, err := time.Parse(time.RFC3339, *c.ValidationTime); err == nil {
			o.Time = t
		}
	}
	if c.MaxChainDepth != nil {
		o = o.WithMaxDepth(*c.MaxChainDepth)
	}
	if n := c.ExpectedPeerName; n != nil {
		if n.Kind == "IP" {
			o.IP, _ = netip.ParseAddr(n.Value)
		} else {
			o.DNSName = n.Value
		}
	}
	if _, err := certs.Verify(leafs[0], o); err != nil {
		return "FAILURE"
	}
	return "SUCCESS"
}

// readExceptions reads "case-id  reason" lines; # starts a comment.
func readExceptions(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			t.Errorf("exception %s has no reason", id)
		}
		out[id] = strings.TrimSpace(reason)
	}
	return out
}
