package uplink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/sensorcore/site"
)

// Acknowledgements from the site: an operator who acknowledges one of
// this sensor's alerts in the app (or `tapline site alerts --ack`)
// publishes an ack message on the sensor's ack subject; the sensor reads
// those through a durable consumer of its own on the state stream (its
// permissions allow that consumer, filtered to its own ack subjects, and
// nothing else) and acknowledges the alert in the monitoring engine, the
// way the console's Acknowledge button does. The alert's new status then
// goes out with the next collection, so every viewer and the console
// agree.

// alertRef is what the uplink knows of one of the monitor's alerts.
type alertRef struct {
	id     uint64
	status string
}

// followAcks reads the operators' acknowledgements until ctx ends,
// starting again after a failure (a server refusing the consumer, say,
// because its configuration predates it) with a growing pause.
func (u *Uplink) followAcks(ctx context.Context, js jetstream.JetStream, cfg *Config) {
	if u.o.Monitor == nil {
		return
	}
	pause, said := time.Second, ""
	for {
		err := u.readAcks(ctx, js, cfg)
		if ctx.Err() != nil {
			return
		}
		if msg := err.Error(); msg != said {
			u.o.Log("uplink: %v", err)
			said = msg
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Minute)
	}
}

// readAcks creates (or finds) the sensor's ack consumer and applies what
// it delivers until ctx ends or something fails.
func (u *Uplink) readAcks(ctx context.Context, js jetstream.JetStream, cfg *Config) error {
	subj := site.Subjects{Site: cfg.Site, Sensor: cfg.Sensor}
	cctx, cancel := context.WithTimeout(ctx, u.o.AckWait)
	c, err := js.CreateOrUpdateConsumer(cctx, site.StateStream(cfg.Site), jetstream.ConsumerConfig{
		Durable: site.AckConsumer(cfg.Sensor), FilterSubject: subj.AckFilter(), AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, AckWait: 30 * time.Second, MaxAckPending: 256,
		Description: "sensor " + cfg.Sensor + ": the operators' acknowledgements of its alerts"})
	cancel()
	if err != nil {
		return fmt.Errorf("following the site's acknowledgements: %w (a site configuration from before they were followed: run tapline site init on its folder again and reload the servers)", err)
	}
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := c.Fetch(64, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			return fmt.Errorf("following the site's acknowledgements: %w", err)
		}
		for m := range b.Messages() {
			u.applyAck(cfg, m)
		}
		err = b.Error()
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("following the site's acknowledgements: %w", err)
		}
	}
	return nil
}

// applyAck acknowledges in the monitor the alert an ack message names.
// A message that is not this sensor's acknowledgement is terminated
// unread; one naming an alert the monitor does not hold (yet: a
// collection may still be on its way) is tried again later, three times.
func (u *Uplink) applyAck(cfg *Config, m jetstream.Msg) {
	p, ok := site.Parse(m.Subject())
	if !ok || p.Kind != site.KindAck || p.Site != cfg.Site || p.Sensor != cfg.Sensor {
		m.Term()
		return
	}
	v, err := site.Decode(p, m.Data())
	if err != nil {
		u.o.Log("uplink: an acknowledgement on %s: %v", m.Subject(), err)
		m.Term()
		return
	}
	ack := v.(*site.Ack)
	u.mu.Lock()
	ref, known := u.alerts[ack.Key]
	u.mu.Unlock()
	switch {
	case !known:
		if md, err := m.Metadata(); err == nil && md.NumDelivered < 3 {
			m.NakWithDelay(u.o.Collect)
			return
		}
		m.Ack() // an alert the monitor no longer holds
		return
	case ref.status == "acknowledged":
		m.Ack()
		return
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/"+strconv.FormatUint(ref.id, 10)+"/ack", nil)
	w := &capped{max: 4096, h: http.Header{}}
	u.o.Monitor.ServeHTTP(w, r)
	switch w.code {
	case 0, http.StatusOK, http.StatusNoContent, http.StatusSeeOther:
		u.o.Log("uplink: alert %d (%s) acknowledged from the site by %s", ref.id, ack.Key, ack.By)
		u.mu.Lock()
		u.alerts[ack.Key] = alertRef{ref.id, "acknowledged"}
		u.mu.Unlock()
		m.Ack()
		u.kickCollect()
	case http.StatusNotFound:
		m.Ack() // gone from the monitor meanwhile
	default:
		m.NakWithDelay(10 * time.Second) // the engine restarting, say
	}
}
