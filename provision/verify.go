package provision

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// VerifyConsole opens TLS to the console at addr (host:port), requires the
// served leaf certificate's SHA-256 to equal wantFP, and asks
// /api/v1/health whether the console is up (that answer, open without
// sign-in, says nothing else; the sensor's name, activation and generation
// come over SSH, see verifyStatus). A wrong certificate, a refused
// connection or a bad answer is retried until wait has passed (the console
// may still be reloading), first after `every`, then backing off to at most
// 500 ms. It returns the last served fingerprint even when it is the wrong
// one, and its error names it.
//
// Why InsecureSkipVerify is safe here: the console's certificate is issued
// by the plant's CA (or Tapline's local CA), which the laptop's system roots
// do not hold, and the name the laptop dials is a bare IP. Instead of chain
// and name validation, VerifyConnection pins the exact leaf: a SHA-256 of its
// DER taken from the bundle the engineer checked. Only the holder of that
// certificate's private key can complete the handshake, which is a stronger
// statement than any chain check. VerifyConnection runs on every handshake,
// resumed ones included.
func VerifyConsole(ctx context.Context, addr, wantFP string, wait, every time.Duration) (string, error) {
	wantFP = strings.ToLower(wantFP)
	var served string
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // see the doc comment: replaced by exact pinning
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate served")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			served = hex.EncodeToString(sum[:])
			if served != wantFP {
				return &VerifyError{Reason: fmt.Sprintf("console at %s serves certificate %s, the bundle holds %s", addr, served, wantFP)}
			}
			return nil
		},
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true, TLSHandshakeTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(wait)
	for {
		// A mismatch is retried too: the console may still serve the
		// previous certificate while it reloads.
		err := health(ctx, client, addr)
		var ve *VerifyError
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil && !errors.As(err, &ve) {
				err = fmt.Errorf("provision: verify: console at %s: %w", addr, err)
			}
			return served, err
		}
		pause := min(every, time.Until(deadline))
		if every < 500*time.Millisecond {
			every = min(2*every, 500*time.Millisecond)
		}
		select {
		case <-ctx.Done():
		case <-time.After(max(pause, time.Millisecond)):
		}
	}
}

func health(ctx context.Context, c *http.Client, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/api/v1/health", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) {
			return ve
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health answered %s", resp.Status)
	}
	var h Health
	if err := json.Unmarshal(body, &h); err != nil {
		return &VerifyError{Reason: "health JSON: " + err.Error()}
	}
	if h.Status != "ok" {
		return fmt.Errorf("health status %q", h.Status)
	}
	return nil
}
