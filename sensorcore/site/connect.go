package site

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tapline/tapline/certs"
)

// Client is what a sensor or the app needs to reach a site's servers.
type Client struct {
	Name       string   // the connection's name, as the servers show it
	Servers    []string // tls://host:port
	CA         []byte   // the CA the servers' certificates chain to (PEM or DER)
	Cert, Key  []byte   // the client certificate and its key
	Passphrase []byte   // for an encrypted key
	Credential []byte   // NKEY user seed or NATS user credentials
	// InboxPrefix replaces _INBOX (a sensor's own, Subjects.InboxPrefix).
	InboxPrefix string
}

// TLSConfig is the client's TLS: TLS 1.2 or later, the servers'
// certificates verified against the CA given and nothing else (never the
// system's roots), the client certificate shown.
func (c Client) TLSConfig() (*tls.Config, error) {
	pool, _, err := ParseCA(c.CA)
	if err != nil {
		return nil, fmt.Errorf("site: the servers' CA %v", err)
	}
	cs, err := certs.ParseCertificates(c.Cert)
	if err != nil || len(cs) == 0 {
		return nil, errors.New("site: the client certificate is not a certificate (PEM or DER)")
	}
	key, err := certs.ParsePrivateKey(c.Key, c.Passphrase)
	if err != nil {
		return nil, fmt.Errorf("site: the client key: %v", err)
	}
	if !certs.KeyMatches(key, cs[0]) {
		return nil, errors.New("site: the client key is not the client certificate's")
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: cs[0]}
	for _, x := range cs {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{tc}}, nil
}

// Options are the nats.go options that connect as c: TLS as TLSConfig
// says, the credential signing the server's nonce, the inbox prefix, and
// reconnection forever (a sensor's uplink comes back by itself).
func (c Client) Options() ([]nats.Option, error) {
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	cred, err := ParseCredential(c.Credential)
	if err != nil {
		return nil, fmt.Errorf("site: the credential: %v", err)
	}
	opts := []nats.Option{nats.Name(c.Name), nats.Secure(tc), nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second), nats.ReconnectJitter(500*time.Millisecond, time.Second),
		nats.Timeout(5 * time.Second), nats.PingInterval(20 * time.Second), nats.MaxPingsOutstanding(3)}
	switch cred.Kind {
	case CredentialNKey:
		opts = append(opts, nats.Nkey(cred.Public, cred.Sign))
	case CredentialCreds:
		opts = append(opts, nats.UserJWT(func() (string, error) { return cred.JWT, nil }, cred.Sign))
	}
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	return opts, nil
}

// Connect connects to the first server that answers.
func (c Client) Connect(extra ...nats.Option) (*nats.Conn, error) {
	if len(c.Servers) == 0 {
		return nil, errors.New("site: no server to connect to")
	}
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	url := ""
	for i, s := range c.Servers {
		if i > 0 {
			url += ","
		}
		url += s
	}
	return nats.Connect(url, append(opts, extra...)...)
}
