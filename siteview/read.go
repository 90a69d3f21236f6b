package siteview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/sensorcore/site"
)

// Reader reads a site's streams into a Model.
type Reader struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	Site  string
	Model *Model
	// next is, per stream Load read, the first sequence it did not:
	// Follow goes on from there, so nothing stored between the two is
	// missed.
	next map[string]uint64
}

// Open connects as the client (the app's user of site.json).
func Open(c site.Client, siteName string, maxOps int) (*Reader, error) {
	nc, err := c.Connect(nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("connecting to %v: %w", c.Servers, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &Reader{nc: nc, js: js, Site: siteName, Model: NewModel(siteName, maxOps), next: map[string]uint64{}}, nil
}

// Close closes the connection.
func (r *Reader) Close() { r.nc.Close() }

// Load reads the state stream whole and the operations stream's last
// opsBatches batches (0: all), then returns: the model holds the site as
// the servers hold it now.
func (r *Reader) Load(ctx context.Context, opsBatches uint64) error {
	if err := r.drain(ctx, site.StateStream(r.Site), 0); err != nil {
		return err
	}
	return r.drain(ctx, site.OpsStream(r.Site), opsBatches)
}

func (r *Reader) drain(ctx context.Context, stream string, last uint64) error {
	s, err := settle(ctx, func(ctx context.Context) (jetstream.Stream, error) { return r.js.Stream(ctx, stream) })
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %s: %w (tapline site streams creates it)", stream, err)
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := settle(ctx, func(ctx context.Context) (*jetstream.StreamInfo, error) { return s.Info(ctx) })
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	st := info.State
	r.next[stream] = st.LastSeq + 1
	if st.Msgs == 0 {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{}
	if last > 0 && st.LastSeq >= last && st.LastSeq-last+1 > st.FirstSeq {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, st.LastSeq-last+1
	}
	c, err := settle(ctx, func(ctx context.Context) (jetstream.Consumer, error) { return r.js.OrderedConsumer(ctx, stream, cfg) })
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	for {
		b, err := c.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		n := 0
		var lastSeq uint64
		for m := range b.Messages() {
			n++
			r.Model.Apply(m.Subject(), m.Data())
			if md, err := m.Metadata(); err == nil {
				lastSeq = md.Sequence.Stream
				r.next[stream] = max(r.next[stream], lastSeq+1)
			}
		}
		if err := b.Error(); err != nil && err != jetstream.ErrNoMessages {
			return err
		}
		if lastSeq >= st.LastSeq || n == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Follow applies every new message of both streams until ctx ends,
// calling changed (may be nil) after each: after Load, every message
// stored since Load read its stream; without Load, those stored from now.
func (r *Reader) Follow(ctx context.Context, changed func()) error {
	var ccs []jetstream.ConsumeContext
	defer func() {
		for _, cc := range ccs {
			cc.Stop()
		}
	}()
	for _, stream := range []string{site.StateStream(r.Site), site.OpsStream(r.Site)} {
		cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
		if n := r.next[stream]; n > 0 {
			cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: n}
		}
		c, err := settle(ctx, func(ctx context.Context) (jetstream.Consumer, error) { return r.js.OrderedConsumer(ctx, stream, cfg) })
		if err != nil {
			return fmt.Errorf("stream %s: %w", stream, err)
		}
		cc, err := c.Consume(func(m jetstream.Msg) {
			r.Model.Apply(m.Subject(), m.Data())
			if changed != nil {
				changed()
			}
		})
		if err != nil {
			return err
		}
		ccs = append(ccs, cc)
	}
	<-ctx.Done()
	return nil
}

// Ack acknowledges a sensor's alert from the site: the acknowledgement
// is kept in the state stream, beside the alert, for every viewer.
func (r *Reader) Ack(ctx context.Context, sensor, key, by, note string, now time.Time) error {
	a := site.Ack{Header: site.Header{Type: site.KindAck, Site: r.Site, Sensor: sensor, Time: now.UTC()}, Key: key, By: by, Note: note}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	subj := site.Subjects{Site: r.Site, Sensor: sensor}.Ack(key)
	if _, err := r.js.Publish(ctx, subj, b); err != nil {
		return fmt.Errorf("acknowledging %s of %s: %w", key, sensor, err)
	}
	r.Model.Apply(subj, b)
	return nil
}

// A JetStream request the site's cluster cannot answer yet: while it
// starts, or while fewer than a majority of its nodes run, a request gets
// no responder, a "temporarily unavailable" error, or no answer at all
// (and a request sent then is not answered once the leader is elected).
// settle asks again, each attempt bounded by settleAttempt, until ctx
// ends; what the last attempt got is said then.
const (
	settleAttempt = 3 * time.Second
	settlePause   = 250 * time.Millisecond
	// clusterNotAvailable is the server's "JetStream system temporarily
	// unavailable" (no meta leader).
	clusterNotAvailable jetstream.ErrorCode = 10008
)

func settle[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	for {
		actx, cancel := context.WithTimeout(ctx, settleAttempt)
		v, err := f(actx)
		cancel()
		if err == nil || !unsettled(err) {
			return v, err
		}
		if ctx.Err() == nil {
			t := time.NewTimer(settlePause)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
			}
		}
		return v, fmt.Errorf("the site's servers gave no JetStream answer in %v (a majority of the site's nodes must run): %w", time.Since(start).Round(time.Second), err)
	}
}

// unsettled reports whether err is one the cluster gives while it has no
// leader.
func unsettled(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.As(err, &api) && api.ErrorCode == clusterNotAvailable
}
