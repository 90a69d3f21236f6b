package monitor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
)

// Replay: capture files fed to the monitor as if captured live, for labs
// and demonstrations (sensorcore serve --monitor-replay). Packets keep
// their recorded spacing (scaled by the speed) and are stamped with the
// time they are replayed at, so the inventory, the alerts and the
// operations log read as live traffic, and each pass over the files makes
// new operations (their ids include the time) rather than repeating the
// last pass's. Each pass moves the TCP sequence and acknowledgement
// numbers of its segments back by PassShift (as tcprewrite can): a
// connection that came again with the very numbers it had would be a
// retransmission of the last pass's, and a capture of short connections
// would show only its first pass; data and acknowledgement both behind
// is a new connection on the same ends (decode.Stream).

// ReplaySource is one capture file to replay.
type ReplaySource struct {
	Name string      // for messages
	R    io.ReaderAt // its bytes (an *os.File serve handed over)
	Size int64
}

// ReplayOptions shape a replay.
type ReplayOptions struct {
	// Speed scales the recorded pace: 1 replays at the pace recorded, 10
	// ten times faster. At most MaxReplaySpeed; 0 is 1.
	Speed float64
	// Loops is how many passes over the files (0: until ctx ends).
	Loops int
	// MaxGap shortens the recorded silences longer than it (default 1 s
	// of recorded time): a capture with an hour's pause replays on.
	MaxGap time.Duration
	// Now and Sleep are the clock (default: the wall clock).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// MaxReplaySpeed bounds ReplayOptions.Speed.
const MaxReplaySpeed = 1000

// PassShift is how far back each pass moves TCP sequence and
// acknowledgement numbers: more than decode.ReuseJump, so no sender could
// be retransmitting from that far back.
const PassShift = 4 * decode.ReuseJump

// RunReplay feeds the sources through the pipeline, pass after pass, at
// the recorded pace times Speed, until Loops passes are done (then it
// writes the operations still waiting and saves the state) or ctx ends
// (nil either way). A file that cannot be read to its end is replayed as
// far as it goes; a pass that finds no packet at all is an error.
func (m *Monitor) RunReplay(ctx context.Context, src []ReplaySource, o ReplayOptions) error {
	if len(src) == 0 {
		return errors.New("monitor: nothing to replay")
	}
	if o.Speed == 0 {
		o.Speed = 1
	}
	if o.Speed < 0 || o.Speed > MaxReplaySpeed {
		return fmt.Errorf("monitor: replay speed %g: choose more than 0 and at most %d", o.Speed, MaxReplaySpeed)
	}
	if o.MaxGap <= 0 {
		o.MaxGap = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if m.opts.StateDir != "" {
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); m.saveEvery(sctx) }()
		defer func() { stop(); <-done }()
	}
	start := o.Now()
	var virtual time.Duration // recorded time replayed so far, gaps shortened
	var dec decode.Decoder    // finds the TCP header to shift
	files := "1 capture file"
	if len(src) > 1 {
		files = fmt.Sprintf("%d capture files", len(src))
	}
	for pass := 1; o.Loops == 0 || pass <= o.Loops; pass++ {
		m.mu.Lock()
		m.replay = fmt.Sprintf("replaying %s at %gx (pass %d)", files, o.Speed, pass)
		m.mu.Unlock()
		packets := 0
		for _, s := range src {
			n, err := m.replayFile(ctx, s, o, start, &virtual, &dec, uint32(pass-1)*PassShift)
			packets += n
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				m.mu.Lock()
				m.capErr = fmt.Errorf("replay %s: %w", s.Name, err)
				m.mu.Unlock()
			}
		}
		if packets == 0 {
			return fmt.Errorf("monitor: replay: no packet in %s", files)
		}
	}
	m.mu.Lock()
	m.replay = fmt.Sprintf("replayed %s %d times", files, o.Loops)
	m.mu.Unlock()
	if err := m.FlushOperations(true); err != nil {
		return err
	}
	return m.Save()
}

// replayFile replays one file on the timeline that began at start, of
// which virtual (recorded time, gaps shortened) has passed, moving TCP
// sequence and acknowledgement numbers back by shift.
func (m *Monitor) replayFile(ctx context.Context, s ReplaySource, o ReplayOptions, start time.Time, virtual *time.Duration, dec *decode.Decoder, shift uint32) (int, error) {
	r, err := capture.NewReader(io.NewSectionReader(s.R, 0, s.Size))
	if err != nil {
		return 0, err
	}
	var frame []byte
	var prev time.Time
	n := 0
	for {
		data, ci, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if !prev.IsZero() {
			gap := ci.Timestamp().Sub(prev)
			*virtual += min(max(gap, 0), o.MaxGap)
		}
		prev = ci.Timestamp()
		at := start.Add(time.Duration(float64(*virtual) / o.Speed))
		if d := at.Sub(o.Now()); d > time.Millisecond {
			if err := o.Sleep(ctx, d); err != nil {
				return n, nil
			}
		}
		ci.UnixNano = at.UnixNano()
		if shift != 0 {
			frame = append(frame[:0], data...)
			data = shiftTCP(dec, frame, ci.LinkType, shift)
		}
		m.Packet(data, ci)
		n++
	}
}

// shiftTCP moves the sequence and acknowledgement numbers of the TCP
// segment in frame back by shift (in place); other frames stay as they
// are. The checksum is left: the monitor never checks it (offloading
// makes captured checksums unreliable anyway).
func shiftTCP(dec *decode.Decoder, frame []byte, linkType int, shift uint32) []byte {
	if dec.Decode(frame, linkType) != nil || !dec.Pkt.HasTransport || dec.Pkt.Proto != decode.ProtoTCP {
		return frame
	}
	h := frame[dec.Pkt.L4Offset:]
	if len(h) < 12 {
		return frame
	}
	binary.BigEndian.PutUint32(h[4:8], dec.Pkt.Seq-shift)
	if dec.Pkt.TCPFlags&decode.TCPAck != 0 {
		binary.BigEndian.PutUint32(h[8:12], dec.Pkt.Ack-shift)
	}
	return frame
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
