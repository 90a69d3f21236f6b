package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/sensorcore/site"
)

// Config is the current generation's uplink.
type Config struct {
	Sensor, SensorID string
	Site             string
	Client           site.Client
}

func (c *Config) digest() [32]byte {
	b, _ := json.Marshal(c)
	return sha256.Sum256(b)
}

// Options configure the uplink.
type Options struct {
	Dir string // its state folder: the outbox (0700)
	// Config returns the current generation's uplink; nil when it has
	// none (then nothing is collected or sent).
	Config func() (*Config, error)
	// Monitor is the monitoring engine's handler (its socket, through
	// serve): /api/v1/assets, /api/v1/alerts, /api/v1/stats. Nil: no
	// monitoring.
	Monitor http.Handler
	// Capture is the capture line of sanity (the engine's health).
	Capture func() (string, error)
	// Status is the sensor's status message, without the devices and
	// uplink parts, which the uplink fills in.
	Status func() (site.Status, error)
	// Every bounds: assets and alerts are compared with what was sent
	// every Collect (10 s); health goes out every Collect; status when it
	// changes and every StatusEvery (1 min); an asset that did not change
	// is sent again after Refresh (15 min) so the site sees it is still
	// there.
	Collect, StatusEvery, Refresh time.Duration
	// OpsEvery is how often the operations log is read onward from the
	// outbox's cursor (1 s).
	OpsEvery    time.Duration
	MaxMessages int
	MaxBytes    int64
	AckWait     time.Duration // default 10 s
	Now         func() time.Time
	Log         func(format string, args ...any)
}

// Uplink runs the site stream of one sensor.
type Uplink struct {
	o     Options
	out   *Outbox
	st    state
	wake  chan struct{}
	again chan struct{} // collect now (an alert acknowledged from the site)
	// linked is signalled when the client (re)connects: a publish backing
	// off after failures tries again at once instead of at the end of its
	// wait (up to 30 s after the site came back).
	linked chan struct{}
	mu     sync.Mutex
	// alerts are the monitor's alerts at the last look, by site key.
	alerts map[string]alertRef
	devs   int // assets discovered at the last look
	sent   map[string]sentState
	lastS  time.Time
	lastB  []byte // the last status sent, without its time
	prevP  uint64 // packets at the last health message
	prevT  time.Time
	// opsErr is the last failure reading the operations feed, logged
	// once (Run's goroutine only).
	opsErr string
}

type sentState struct {
	digest [32]byte
	at     time.Time // last_seen sent (assets) or when sent (alerts)
}

// New opens the outbox in o.Dir.
func New(o Options) (*Uplink, error) {
	if o.Collect <= 0 {
		o.Collect = 10 * time.Second
	}
	if o.StatusEvery <= 0 {
		o.StatusEvery = time.Minute
	}
	if o.Refresh <= 0 {
		o.Refresh = 15 * time.Minute
	}
	if o.AckWait <= 0 {
		o.AckWait = 10 * time.Second
	}
	if o.OpsEvery <= 0 {
		o.OpsEvery = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	out, err := OpenOutbox(o.Dir, o.MaxMessages, o.MaxBytes)
	if err != nil {
		return nil, err
	}
	u := &Uplink{o: o, out: out, wake: make(chan struct{}, 1), again: make(chan struct{}, 1), linked: make(chan struct{}, 1), sent: map[string]sentState{}, devs: -1,
		alerts: map[string]alertRef{}}
	u.st.set(func(s *site.UplinkState) { s.Outbox = out.Len(); s.Dropped = out.Dropped() })
	return u, nil
}

// Close closes the outbox; call it after Run returned.
func (u *Uplink) Close() error { return u.out.Close() }

// Outbox is the uplink's outbox.
func (u *Uplink) Outbox() *Outbox { return u.out }

// State is the uplink as status shows it.
func (u *Uplink) State() site.UplinkState {
	s := u.st.get()
	s.Outbox, s.Dropped = u.out.Len(), u.out.Dropped()
	return s
}

// Devices is how many assets the monitor had at the last look (-1
// before the first).
func (u *Uplink) Devices() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.devs
}

// Run collects and publishes until ctx ends. It never returns early: a
// missing or broken uplink is retried at each collection.
func (u *Uplink) Run(ctx context.Context) {
	var (
		cfg    *Config
		dig    [32]byte
		nc     *nats.Conn
		cancel context.CancelFunc = func() {}
		done   chan struct{}
	)
	stop := func() {
		cancel()
		if done != nil {
			<-done
			done = nil
		}
		if nc != nil {
			nc.Close()
			nc = nil
		}
	}
	defer stop()
	t := time.NewTicker(u.o.Collect)
	defer t.Stop()
	ot := time.NewTicker(u.o.OpsEvery)
	defer ot.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-ot.C:
				if cfg != nil {
					u.pumpOperations(cfg)
				}
				continue
			case <-t.C:
			case <-u.again:
			}
		}
		c, err := u.o.Config()
		if err != nil {
			u.o.Log("uplink: %v", err)
			c = nil
		}
		switch {
		case c == nil && cfg != nil:
			stop()
			cfg = nil
			u.st.set(func(s *site.UplinkState) { *s = site.UplinkState{} })
		case c != nil && (cfg == nil || c.digest() != dig):
			stop()
			cfg, dig = c, c.digest()
			nc, err = u.connect(c)
			if err != nil {
				u.o.Log("uplink: %v", err)
				u.st.set(func(s *site.UplinkState) { s.Connected, s.Error = false, err.Error() })
				cfg = nil // retried at the next collection
				break
			}
			pctx, pcancel := context.WithCancel(ctx)
			cancel = pcancel
			done = make(chan struct{})
			js, _ := jetstream.New(nc)
			p := &publisher{nc: nc, js: js, out: u.out, subj: site.Subjects{Site: c.Site, Sensor: c.Sensor}, opsStr: site.OpsStream(c.Site), ackWait: u.o.AckWait}
			go func() {
				defer close(done)
				acks := make(chan struct{})
				go func() { defer close(acks); u.followAcks(pctx, js, c) }()
				u.publish(pctx, nc, p)
				<-acks
			}()
		}
		if err := u.collect(ctx, cfg); err != nil {
			u.o.Log("uplink: %v", err)
		}
		if cfg != nil {
			u.pumpOperations(cfg)
		}
	}
}

func (u *Uplink) connect(c *Config) (*nats.Conn, error) {
	var server string
	// Only the servers the bundle names: a plant's firewall lets the
	// sensor reach those, and no server's gossip adds others.
	nc, err := c.Client.Connect(nats.RetryOnFailedConnect(true), nats.ReconnectBufSize(-1), nats.IgnoreDiscoveredServers(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			msg := "disconnected"
			if err != nil {
				msg = err.Error()
			}
			u.st.set(func(s *site.UplinkState) { s.Connected, s.Error = false, msg })
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			server = nc.ConnectedUrlRedacted()
			u.st.set(func(s *site.UplinkState) { s.Connected, s.Server, s.Error = true, server, "" })
			u.kick()
			u.relinked()
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			u.st.set(func(s *site.UplinkState) { s.Connected, s.Server, s.Error = true, nc.ConnectedUrlRedacted(), "" })
			u.kick()
			u.relinked()
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			// A server refusing the sensor, or refused by it (its
			// certificate does not chain to the bundle's CA), says so here.
			if err != nil {
				u.st.set(func(s *site.UplinkState) { s.Connected, s.Error = false, err.Error() })
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			u.o.Log("uplink: %v", err)
			u.st.set(func(s *site.UplinkState) { s.Error = err.Error() })
		}))
	if err != nil {
		return nil, fmt.Errorf("connecting to %v: %w", c.Client.Servers, err)
	}
	return nc, nil
}

// kickCollect asks Run for a collection now.
func (u *Uplink) kickCollect() {
	select {
	case u.again <- struct{}{}:
	default:
	}
}

func (u *Uplink) kick() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// relinked tells a publish backing off that the client is connected again.
func (u *Uplink) relinked() {
	select {
	case u.linked <- struct{}{}:
	default:
	}
}

// publish drains the outbox while connected, backing off after a
// failure (200 ms doubling to 30 s; a new connection ends the wait).
func (u *Uplink) publish(ctx context.Context, nc *nats.Conn, p *publisher) {
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			case <-u.linked:
				backoff = 0
			}
		}
		batch, err := u.out.Peek(1024)
		if err != nil {
			u.o.Log("uplink: %v", err)
		}
		if len(batch) == 0 || !nc.IsConnected() {
			select {
			case <-ctx.Done():
				return
			case <-u.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		done, err := p.send(ctx, batch)
		if derr := u.out.Done(done...); derr != nil {
			u.o.Log("uplink: %v", derr)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, errWrongLast) {
				u.st.set(func(s *site.UplinkState) { s.Error = err.Error() })
			}
			switch {
			case backoff == 0:
				backoff = 200 * time.Millisecond
				select {
				case <-u.linked: // the connection this failure happened on
				default:
				}
			case backoff < 30*time.Second:
				backoff *= 2
			}
			continue
		}
		backoff = 0
	}
}

// get asks the monitor for path and decodes its JSON answer into v.
func (u *Uplink) get(path string, v any) error {
	if u.o.Monitor == nil {
		return errNoMonitor
	}
	r := httptest.NewRequest(http.MethodGet, path, nil)
	w := &capped{max: maxAnswer, h: http.Header{}}
	u.o.Monitor.ServeHTTP(w, r)
	if w.code != 0 && w.code != http.StatusOK {
		return fmt.Errorf("the monitor answered %s with %d", path, w.code)
	}
	if w.over {
		return fmt.Errorf("the monitor's answer to %s is over %d bytes", path, maxAnswer)
	}
	if err := json.Unmarshal(w.buf.Bytes(), v); err != nil {
		return fmt.Errorf("the monitor's answer to %s: %v", path, err)
	}
	return nil
}

var errNoMonitor = errors.New("no monitor")

// maxAnswer bounds what the uplink reads of the monitor (12,000 assets
// are about 6 MiB of JSON).
const maxAnswer = 64 << 20

// capped is a ResponseWriter that keeps at most max bytes.
type capped struct {
	h    http.Header
	code int
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *capped) Header() http.Header { return c.h }
func (c *capped) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}
func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		c.over = true
		return 0, errors.New("answer too large")
	}
	return c.buf.Write(p)
}

// stats is the part of the monitor's /api/v1/stats the health message
// carries.
type stats struct {
	Packets     uint64 `json:"packets"`
	KernelDrops uint64 `json:"kernel_drops"`
	Protocols   map[string]struct {
		PDUs      uint64 `json:"pdus"`
		Malformed uint64 `json:"malformed"`
	} `json:"protocols"`
}

// collect looks at the monitor and the sensor, and puts what changed in
// the outbox (when an uplink is configured).
func (u *Uplink) collect(ctx context.Context, cfg *Config) error {
	now := u.o.Now().UTC()
	var assets []site.Asset
	aerr := u.get("/api/v1/assets", &assets)
	if aerr == nil {
		u.mu.Lock()
		u.devs = len(assets)
		u.mu.Unlock()
	}
	if cfg == nil {
		if errors.Is(aerr, errNoMonitor) {
			return nil
		}
		return aerr
	}
	hdr := func(kind string) site.Header {
		return site.Header{Type: kind, Site: cfg.Site, Sensor: cfg.Sensor, SensorID: cfg.SensorID, Time: now}
	}
	subj := site.Subjects{Site: cfg.Site, Sensor: cfg.Sensor}
	var msgs []Message
	add := func(subject, key string, v any, asset bool) {
		b, err := json.Marshal(v)
		if err == nil {
			msgs = append(msgs, Message{Subject: subject, Data: b, Key: key, Asset: asset})
		}
	}
	u.mu.Lock()
	for _, a := range assets {
		last := a.LastSeen
		a.LastSeen = time.Time{}
		b, _ := json.Marshal(a)
		d := sha256.Sum256(b)
		a.LastSeen = last
		k := "asset:" + a.ID
		if s, ok := u.sent[k]; ok && s.digest == d && last.Sub(s.at) < u.o.Refresh {
			continue
		}
		u.sent[k] = sentState{d, last}
		add(subj.Asset(a.ID), k, site.AssetMessage{Header: hdr(site.KindAsset), Asset: a}, true)
	}
	var alerts []site.Alert
	lerr := u.get("/api/v1/alerts", &alerts)
	if lerr == nil {
		clear(u.alerts)
	}
	for _, a := range alerts {
		a.Key = site.AlertKey(a)
		u.alerts[a.Key] = alertRef{a.ID, a.Status}
		b, _ := json.Marshal(struct {
			Count  uint64
			Status string
		}{a.Count, a.Status})
		d := sha256.Sum256(b)
		k := "alert:" + a.Key
		s, ok := u.sent[k]
		// A repeat (the count only) is sent at most every Collect*3: a
		// flood of one alert does not flood the site.
		if ok && (s.digest == d || a.Status == "new" && now.Sub(s.at) < 3*u.o.Collect && a.Count != 1) {
			continue
		}
		u.sent[k] = sentState{d, now}
		add(subj.Alert(a.Key), k, site.AlertMessage{Header: hdr(site.KindAlert), Alert: a}, false)
	}
	u.mu.Unlock()
	h := site.Health{Header: hdr(site.KindHealth), Monitoring: u.o.Monitor != nil}
	if u.o.Capture != nil {
		if line, err := u.o.Capture(); err != nil {
			h.Error = err.Error()
		} else {
			h.Capture = line
		}
	}
	var st stats
	if err := u.get("/api/v1/stats", &st); err == nil {
		h.Packets, h.Drops = st.Packets, st.KernelDrops
		h.Protocols = map[string]uint64{}
		for name, p := range st.Protocols {
			if p.PDUs > 0 {
				h.Protocols[name] = p.PDUs
			}
			h.Malformed += p.Malformed
		}
		if !u.prevT.IsZero() && now.After(u.prevT) && st.Packets >= u.prevP {
			h.Rate = float64(st.Packets-u.prevP) / now.Sub(u.prevT).Seconds()
		}
		u.prevP, u.prevT = st.Packets, now
	}
	add(subj.Health(), "health", h, false)
	if u.o.Status != nil {
		if s, err := u.o.Status(); err == nil {
			s.Header = hdr(site.KindStatus)
			s.Devices.Discovered = u.Devices()
			s.Uplink = u.State()
			s.Uplink.Outbox = 0 // changes all the time; health carries the flow
			cmp := s
			cmp.Time = time.Time{}
			cb, _ := json.Marshal(cmp)
			if !bytes.Equal(cb, u.lastB) || now.Sub(u.lastS) >= u.o.StatusEvery {
				s.Uplink.Outbox = u.out.Len()
				add(subj.Status(), "status", s, false)
				u.lastB, u.lastS = cb, now
			}
		}
	}
	if err := u.out.Put(msgs, nil); err != nil {
		return err
	}
	u.kick()
	if aerr != nil && !errors.Is(aerr, errNoMonitor) {
		return aerr
	}
	if lerr != nil && !errors.Is(lerr, errNoMonitor) {
		return lerr
	}
	_ = ctx
	return nil
}

// PutOperations puts a batch of operations log records (JSON objects,
// in the order logged) in the outbox.
func (u *Uplink) PutOperations(cfg *Config, records []json.RawMessage) error {
	if len(records) == 0 {
		return nil
	}
	err := u.out.Put(nil, u.opsBuilder(cfg, records))
	u.kick()
	return err
}

// opsBuilder makes the operations batch message of records.
func (u *Uplink) opsBuilder(cfg *Config, records []json.RawMessage) OpsBuilder {
	now := u.o.Now().UTC()
	subj := site.Subjects{Site: cfg.Site, Sensor: cfg.Sensor}
	return func(dropped uint64) (Message, error) {
		b, err := json.Marshal(site.Ops{Header: site.Header{Type: site.KindOps, Site: cfg.Site, Sensor: cfg.Sensor, SensorID: cfg.SensorID, Time: now},
			Dropped: dropped, Operations: records})
		return Message{Subject: subj.Ops(), Data: b, Ops: len(records)}, err
	}
}

// feedPage is what the monitor's operations feed answers
// (GET /api/v1/operations/feed, docs/site.md).
type feedPage struct {
	Records []json.RawMessage `json:"records"`
	Cursor  string            `json:"cursor"`
	More    bool              `json:"more"`
	Gap     bool              `json:"gap"`
	Skipped int               `json:"skipped"`
}

// Bounds of the operations feed: a page's records stay well inside one
// site message (site.MaxMessage), one record inside maxRecord, and one
// pump reads at most maxPages pages before the next collection.
const (
	feedPageBytes = 512 << 10
	maxRecord     = 16 << 10
	maxPages      = 64
)

// pumpOperations reads the monitor's operations log onward from the
// outbox's cursor and puts each page in the outbox as one batch, with the
// cursor after it in the same transaction: every record goes out once, in
// the order logged, whatever restarts in between. The engine's records are
// input like any other: one that is not a JSON object with an id, or is
// over maxRecord, is not sent (counted in the log line).
func (u *Uplink) pumpOperations(cfg *Config) {
	for page := 0; page < maxPages; page++ {
		cursor := u.out.Cursor()
		var f feedPage
		err := u.get("/api/v1/operations/feed?cursor="+url.QueryEscape(cursor)+"&max="+strconv.Itoa(feedPageBytes), &f)
		if errors.Is(err, errNoMonitor) {
			return
		}
		if err != nil {
			if msg := err.Error(); msg != u.opsErr {
				u.o.Log("uplink: operations log: %v", err) // once, until it changes
				u.opsErr = msg
			}
			return
		}
		u.opsErr = ""
		if f.Gap {
			u.o.Log("uplink: the operations log was rotated past what the site received: records were lost before the next batch")
		}
		recs := make([]json.RawMessage, 0, len(f.Records))
		refused := 0
		for _, r := range f.Records {
			if c, ok := checkRecord(r); ok {
				recs = append(recs, c)
			} else {
				refused++
			}
		}
		if refused > 0 || f.Skipped > 0 {
			u.o.Log("uplink: %d operations log records were not JSON objects with an id (or over %d bytes), %d lines too long: not sent", refused, maxRecord, f.Skipped)
		}
		if f.Cursor == cursor && len(recs) == 0 {
			return
		}
		var b OpsBuilder
		if len(recs) > 0 {
			b = u.opsBuilder(cfg, recs)
		}
		if err := u.out.PutOperations(b, f.Cursor); err != nil {
			u.o.Log("uplink: %v", err)
			return
		}
		u.kick()
		if !f.More {
			return
		}
	}
}

// checkRecord returns r compacted when it is a JSON object of at most
// maxRecord bytes with a string id (the operations log's stable id).
func checkRecord(r json.RawMessage) (json.RawMessage, bool) {
	if len(r) > maxRecord {
		return nil, false
	}
	var head struct {
		ID *string `json:"id"`
	}
	if json.Unmarshal(r, &head) != nil || head.ID == nil || *head.ID == "" || len(*head.ID) > 64 {
		return nil, false
	}
	var b bytes.Buffer
	if json.Compact(&b, r) != nil || b.Len() == 0 || b.Bytes()[0] != '{' {
		return nil, false
	}
	return b.Bytes(), true
}
