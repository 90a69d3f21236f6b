package uplink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tapline/tapline/sensorcore/site"
)

// publisher sends the outbox to one site's servers, oldest first.
// States go out pipelined (the outbox holds at most one per key, so none
// overtakes a newer one); operations batches go one at a time, each
// stating the sequence it expects last on the sensor's operations
// subject, so the stream holds every batch once and in order whatever
// was lost or repeated on the way.
type publisher struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	out    *Outbox
	subj   site.Subjects
	opsStr string // the operations stream's name
	// synced says lastSubj and lastStored reflect the stream: set from
	// the last batch it holds on our subject, kept by each
	// acknowledgement, cleared by any doubt.
	synced     bool
	lastSubj   uint64 // the stream's sequence of the last batch on our subject
	lastStored uint64 // its outbox sequence, when it is this outbox's
	ackWait    time.Duration
}

// window bounds the state messages in flight.
const window = 256

// errWrongLast is the stream's answer to a batch whose expected last
// sequence is not the last: someone (this sensor, earlier) got there.
var errWrongLast = errors.New("uplink: the stream holds a later batch than expected")

// sync asks the stream for the last operations batch on our subject.
func (p *publisher) sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.ackWait)
	defer cancel()
	m, err := p.nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+p.opsStr+"."+p.subj.Ops(), nil)
	if err != nil {
		return fmt.Errorf("uplink: asking for the last operations batch: %w", err)
	}
	switch st := m.Header.Get("Status"); st {
	case "404":
		p.lastSubj, p.lastStored = 0, 0
	case "":
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return fmt.Errorf("uplink: the last operations batch has no sequence")
		}
		p.lastSubj, p.lastStored = seq, 0
		if m.Header.Get(site.HeaderOutbox) == p.out.ID() {
			p.lastStored, _ = strconv.ParseUint(m.Header.Get(site.HeaderSeq), 10, 64)
		}
	default:
		return fmt.Errorf("uplink: asking for the last operations batch: status %s %s", st, m.Header.Get("Description"))
	}
	p.synced = true
	return nil
}

func (p *publisher) msg(s Stored) *nats.Msg {
	m := nats.NewMsg(s.Subject)
	m.Data = s.Data
	m.Header.Set(jetstream.MsgIDHeader, site.MsgID(p.out.ID(), s.Seq))
	m.Header.Set(site.HeaderOutbox, p.out.ID())
	m.Header.Set(site.HeaderSeq, strconv.FormatUint(s.Seq, 10))
	return m
}

// send publishes batch in order and returns the sequences the servers
// acknowledged (or already held), and the first error.
func (p *publisher) send(ctx context.Context, batch []Stored) ([]uint64, error) {
	var done []uint64
	type inflight struct {
		seq uint64
		f   jetstream.PubAckFuture
	}
	var fl []inflight
	flush := func() error {
		defer func() { fl = fl[:0] }()
		timer := time.NewTimer(p.ackWait)
		defer timer.Stop()
		for _, x := range fl {
			select {
			case <-x.f.Ok():
				done = append(done, x.seq)
			case err := <-x.f.Err():
				return err
			case <-timer.C:
				return errors.New("uplink: no acknowledgement from the servers")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	for _, s := range batch {
		if s.Ops == 0 {
			f, err := p.js.PublishMsgAsync(p.msg(s))
			if err != nil {
				flush()
				return done, err
			}
			fl = append(fl, inflight{s.Seq, f})
			if len(fl) >= window {
				if err := flush(); err != nil {
					return done, err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			return done, err
		}
		if !p.synced {
			if err := p.sync(ctx); err != nil {
				return done, err
			}
		}
		if s.Seq <= p.lastStored {
			done = append(done, s.Seq) // the stream has it already
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, p.ackWait)
		ack, err := p.js.PublishMsg(pctx, p.msg(s), jetstream.WithExpectLastSequencePerSubject(p.lastSubj))
		cancel()
		if err != nil {
			p.synced = false
			var apiErr *jetstream.APIError
			if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
				return done, errWrongLast
			}
			return done, err
		}
		if ack.Duplicate {
			// Stored before, its acknowledgement lost: where it is now is
			// not the last sequence; ask again before the next batch.
			p.synced = false
		} else {
			p.lastSubj, p.lastStored = ack.Sequence, s.Seq
		}
		done = append(done, s.Seq)
	}
	return done, flush()
}

// state is the uplink's state for status and the console.
type state struct {
	mu sync.Mutex
	st site.UplinkState
}

func (s *state) set(f func(*site.UplinkState)) {
	s.mu.Lock()
	f(&s.st)
	s.mu.Unlock()
}

func (s *state) get() site.UplinkState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}
