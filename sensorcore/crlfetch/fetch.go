package crlfetch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tapline/tapline/sensorcore/netconf"
)

// Unreachable is the message the sensor shows when the CRL cannot be fetched.
const Unreachable = "The CRL (Certificate Revocation List) location is not reachable. Verify the URL can be accessed from this appliance"

// MaxSize bounds a fetched CRL.
const MaxSize = 8 << 20

// UnreachableError is a failed fetch: the URL, attempts and the last cause.
type UnreachableError struct {
	URL      string
	Attempts int
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s (%s, %d attempts: %v)", Unreachable, e.URL, e.Attempts, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Options configure a fetch. Zero Timeout means 3 s; Retries is the number of
// extra attempts after the first.
type Options struct {
	Proxy   netconf.Proxy
	Timeout time.Duration
	Retries int
}

// Fetch downloads the CRL at rawURL (http:// only).
func Fetch(ctx context.Context, rawURL string, o Options) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || u.Host == "" {
		return nil, fmt.Errorf("crlfetch: %q is not an http:// URL; a CRL distribution point must be http://", rawURL)
	}
	if o.Timeout <= 0 {
		o.Timeout = netconf.DefaultCRLTimeout
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: o.Timeout}).DialContext,
		TLSHandshakeTimeout: o.Timeout,
		DisableKeepAlives:   true,
	}
	if o.Proxy.Enabled {
		pu := &url.URL{Scheme: "http", Host: net.JoinHostPort(o.Proxy.Host, strconv.Itoa(o.Proxy.Port))}
		if o.Proxy.Username != "" {
			pu.User = url.UserPassword(o.Proxy.Username, o.Proxy.Password)
		}
		tr.Proxy = http.ProxyURL(pu)
	}
	client := &http.Client{Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var last error
	attempts := 0
	for i := 0; i <= o.Retries; i++ {
		attempts++
		b, err := get(ctx, client, u.String())
		if err == nil {
			return b, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &UnreachableError{URL: rawURL, Attempts: attempts, Err: last}
}

func get(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("CRL larger than %d bytes", MaxSize)
	}
	return b, nil
}
