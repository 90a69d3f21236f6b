package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestVerifyConsolePinsExactLeaf(t *testing.T) {
	t.Parallel()
	var fp string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/health" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	srv.StartTLS()
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	fp = hex.EncodeToString(sum[:])
	addr := strings.TrimPrefix(srv.URL, "https://")
	ctx := context.Background()

	served, err := VerifyConsole(ctx, addr, strings.ToUpper(fp), time.Second, 10*time.Millisecond)
	if err != nil || served != fp {
		t.Fatalf("pinned leaf: %s %v", served, err)
	}
	wrong := strings.Repeat("ab", 32)
	served, err = VerifyConsole(ctx, addr, wrong, time.Second, 10*time.Millisecond)
	var ve *VerifyError
	if !errors.As(err, &ve) || served != fp || Transient(err) {
		t.Fatalf("wrong pin: served %s err %v", served, err)
	}
	// Nothing listening: gives up after the wait, not a VerifyError.
	srv.Close()
	start := time.Now()
	if _, err := VerifyConsole(ctx, addr, fp, 200*time.Millisecond, 20*time.Millisecond); err == nil || errors.As(err, &ve) || time.Since(start) > 5*time.Second {
		t.Fatalf("closed console: %v", err)
	}
}

func TestRemoteName(t *testing.T) {
	at := time.Date(2026, 11, 21, 8, 5, 9, 0, time.FixedZone("x", 3600))
	if got := remoteName("sensor-01", at); got != "sensor-01-20261121T070509Z.tapbundle" {
		t.Fatalf("remoteName = %s", got)
	}
}
