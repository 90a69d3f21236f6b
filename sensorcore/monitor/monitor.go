package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/inventory"
	"github.com/tapline/tapline/sensorcore/store"
)

// DefaultLearning is the learning period when none is configured: two
// weeks, the short end of the 2-6 weeks OT sensors use.
const DefaultLearning = 14 * 24 * time.Hour

// StateSubdir is where the daemon keeps monitor state under its root.
const StateSubdir = "var/lib/sensorcore/monitor"

// Options configure a Monitor.
type Options struct {
	// StateDir holds monitor.db; empty keeps everything in memory.
	StateDir string
	// Learning is the learning period from the first packet: 0 picks
	// DefaultLearning, a negative value learns forever (only always-on
	// rules fire).
	Learning time.Duration
	// OUI resolves MAC vendors; nil leaves vendors empty.
	OUI *inventory.OUI
	// Syslog receivers for alert forwarding.
	Syslog []alert.SyslogOptions
	// ModbusMasters are hosts allowed to write to Modbus servers.
	ModbusMasters []netip.Addr
	// SaveEvery is how often live monitoring saves state (default 30 s).
	SaveEvery time.Duration
	// Filter is a classic BPF program for live capture, in `tcpdump -ddd`
	// text form; empty captures everything.
	Filter string
	// NoRing makes live capture read one packet per system call instead
	// of through a TPACKET_V3 ring.
	NoRing bool
	// Operations, when set, receives the operations log as JSON lines
	// (docs/monitoring.md). Records are buffered: FlushOperations and
	// Close write them out. With none and a StateDir, the log goes to
	// the store (StateDir/operations.jsonl), at most OperationsCap bytes.
	Operations    io.Writer
	OperationsCap int64
}

// Monitor runs the pipeline and holds its results. It is safe for
// concurrent use.
type Monitor struct {
	mu     sync.Mutex
	opts   Options
	pipe   *Pipeline
	inv    *inventory.Inventory
	eng    *alert.Engine
	sinks  []*alert.Syslog
	ev     alert.Event
	lives  []*capture.Live
	ifaces int
	// ports are the live monitoring ports' health counters (ports.go);
	// cur is the one whose packet the pipeline is processing.
	ports  []*port
	cur    *port
	capErr error
	replay string // what a replay (RunReplay) is doing, for Health
	files  []FileReport
	// opsFile is the store's operations log, when the Monitor opened it.
	opsFile *store.Operations
}

// New makes a Monitor, loading saved state from opts.StateDir when present
// and starting the syslog forwarders.
func New(opts Options) (*Monitor, error) {
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = 30 * time.Second
	}
	learning := opts.Learning
	switch {
	case learning == 0:
		learning = DefaultLearning
	case learning < 0:
		learning = 0 // alert.Options: never ends
	}
	m := &Monitor{opts: opts, inv: inventory.New(opts.OUI)}
	var sink alert.Sink
	for _, so := range opts.Syslog {
		s, err := alert.NewSyslog(so)
		if err != nil {
			m.closeSinks()
			return nil, err
		}
		m.sinks = append(m.sinks, s)
	}
	if len(m.sinks) > 0 {
		sink = multiSink(m.sinks)
	}
	m.eng = alert.New(alert.Options{Learning: learning, ModbusMasters: opts.ModbusMasters, Sink: sink})
	m.pipe = NewPipeline(m)
	if opts.Operations == nil && opts.StateDir != "" {
		f, err := store.OpenOperations(opts.StateDir, opts.OperationsCap)
		if err != nil {
			m.closeSinks()
			return nil, err
		}
		m.opsFile, opts.Operations = f, f
	}
	if opts.Operations != nil {
		m.pipe.setOps(newOpLog(opts.Operations))
	}
	if opts.StateDir != "" {
		st, err := store.Load(opts.StateDir)
		switch {
		case errors.Is(err, store.ErrNoState):
		case err != nil:
			m.closeSinks()
			return nil, err
		default:
			if err := m.inv.Restore(st.Assets); err != nil {
				m.closeSinks()
				return nil, fmt.Errorf("%s: %w", store.Path(opts.StateDir), err)
			}
			m.eng.Restore(st.Alerts)
			m.eng.Baseline().Load(st.Baseline)
		}
	}
	return m, nil
}

type multiSink []*alert.Syslog

func (ms multiSink) Send(a alert.Alert) {
	for _, s := range ms {
		s.Send(a)
	}
}

func (m *Monitor) closeSinks() {
	for _, s := range m.sinks {
		s.Close()
	}
	m.sinks = nil
}

// PDU records one PDU (UDP, or a malformed run) in the inventory and the
// alert engine.
func (m *Monitor) PDU(now time.Time, pkt *decode.Packet, r *dissect.Result, malformed bool) {
	m.seenOn(r.Proto, now.UnixNano())
	prev := m.firmwareBefore(pkt, r)
	m.inv.ObservePDU(now, pkt, r)
	ev := m.event(now, pkt, r, malformed)
	m.eng.Observe(ev)
	m.firmwareAfter(ev, r, prev)
}

// event fills the Monitor's reused alert event for the PDU in r.
func (m *Monitor) event(now time.Time, pkt *decode.Packet, r *dissect.Result, malformed bool) *alert.Event {
	ev := &m.ev
	*ev = alert.Event{Time: now, Src: pkt.Src, Dst: pkt.Dst, SrcPort: pkt.SrcPort, DstPort: pkt.DstPort, Proto: r.Proto, Txn: r.Txn,
		Function: r.Function, Action: r.Action, Request: r.Request, Malformed: malformed, Unit: r.Unit,
		Notification: r.Notification, Op: r.Op, Address: r.Address, Quantity: r.Quantity, PDU: r, Detail: r.Detail}
	return ev
}

// firmwareBefore is the firmware the inventory holds for the source of a
// PDU that reveals one ("" otherwise), read before the PDU is recorded.
func (m *Monitor) firmwareBefore(pkt *decode.Packet, r *dissect.Result) string {
	if !r.HasIdent || r.Ident.Firmware == "" {
		return ""
	}
	return m.inv.Firmware(pkt.Src)
}

// firmwareAfter raises firmware-changed when the PDU in ev reported
// another firmware than prev, the one known before.
func (m *Monitor) firmwareAfter(ev *alert.Event, r *dissect.Result, prev string) {
	if prev != "" && r.HasIdent && r.Ident.Firmware != "" && r.Ident.Firmware != prev {
		m.eng.FirmwareChanged(ev, prev, r.Ident.Firmware)
	}
}

// pduFlow is PDU for a PDU of a TCP stream, through the stream's memo, at
// ts in Unix nanoseconds (the time.Time is made only for an event).
func (m *Monitor) pduFlow(ts int64, pkt *decode.Packet, r *dissect.Result, malformed bool, f *flowMemo) {
	if r.HasIdent {
		m.PDU(time.Unix(0, ts), pkt, r, malformed) // rare: identity and firmware checks
		return
	}
	m.seenOn(r.Proto, ts)
	m.inv.ObservePDUFlow(ts, pkt, r, &f.inv)
	if m.eng.Known(&f.eng, r.Proto, r.Function, r.Action, malformed) || r.Action == dissect.ActModbusWrite && !malformed && m.eng.KnownWrite(&f.eng, ts, r) {
		return
	}
	m.eng.ObserveFlow(m.event(time.Unix(0, ts), pkt, r, malformed), &f.eng)
}

// hostFlow is Host for a packet of a TCP stream, through its memo, at ts
// in Unix nanoseconds.
func (m *Monitor) hostFlow(ts int64, pkt *decode.Packet, f *flowMemo) {
	m.inv.ObserveFlow(ts, pkt, &f.inv)
	if m.eng.Known(&f.eng, dissect.None, -1, dissect.ActNone, false) {
		return // the common case first: a source the baseline knows
	}
	if pkt.Src.Len == 4 && (pkt.Src.B[0] == 0 || pkt.Src.B[0] >= 224) {
		return // unspecified or multicast source: not a device
	}
	ev := &m.ev
	*ev = alert.Event{Time: time.Unix(0, ts), Src: pkt.Src, Dst: pkt.Dst, Function: -1, Unit: -1}
	m.eng.ObserveFlow(ev, &f.eng)
}

// Host records the hosts of one packet in the inventory and the alert
// engine.
func (m *Monitor) Host(now time.Time, pkt *decode.Packet) {
	m.inv.Observe(now, pkt)
	if pkt.IPVersion == 0 {
		return
	}
	ev := &m.ev
	*ev = alert.Event{Time: now, Src: pkt.Src, Dst: pkt.Dst, Function: -1, Unit: -1}
	if pkt.Src.Len == 4 && (pkt.Src.B[0] == 0 || pkt.Src.B[0] >= 224) {
		return // unspecified or multicast source: not a device
	}
	m.eng.Observe(ev)
}

// Packet runs one frame through the pipeline.
func (m *Monitor) Packet(data []byte, ci capture.Info) {
	m.mu.Lock()
	defer m.mu.Unlock() // a fault surfaces as itself, never as a held lock
	m.pipe.refresh()
	m.pipe.Packet(data, ci)
}

// RunReader feeds every packet of r through the pipeline. A pcap file,
// the common case, is read by a loop of its own: no call through an
// interface per packet, and the Info filled in place.
func (m *Monitor) RunReader(r capture.Reader) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pipe.refresh()
	if pr, ok := r.(*capture.PcapReader); ok {
		var ci capture.Info
		for {
			data, err := pr.NextInfo(&ci)
			if err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			m.pipe.packet(data, &ci)
		}
	}
	for {
		data, ci, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		m.pipe.Packet(data, ci)
	}
}

// RunFiles runs the pipeline over capture files in order, stopping at the
// first file that cannot be read to its end. Errors name the file.
func (m *Monitor) RunFiles(paths ...string) error {
	for _, p := range paths {
		if fr := m.RunFile(p); fr.err != nil {
			return fr.err
		}
	}
	return nil
}

// File statuses in FileReport.
const (
	FileComplete   = "complete"   // read to its end
	FilePartial    = "partial"    // damaged or cut short: what came before was read
	FileUnreadable = "unreadable" // not opened, or not a capture: nothing read
)

// FileReport says how much of one capture file was read.
type FileReport struct {
	Path    string `json:"path"`
	Packets uint64 `json:"packets"`
	Status  string `json:"status"`
	// Error is why the file is partial or unreadable, one sentence naming
	// no file (Path does).
	Error string `json:"error,omitempty"`
	err   error
}

// Err is the error that ended the file early (nil when complete), with
// the file's name.
func (f FileReport) Err() error { return f.err }

// RunFile runs the pipeline over one capture file and reports what was
// read: everything up to damage is kept (a partial file), and the report
// (Files) keeps the file's outcome.
func (m *Monitor) RunFile(path string) FileReport {
	fr := FileReport{Path: path, Status: FileComplete}
	f, err := capture.Open(path)
	if err != nil {
		fr.Status, fr.Error, fr.err = FileUnreadable, openReason(path, err), err
		m.addFile(fr)
		return fr
	}
	before := m.packets()
	// the reader itself: one dynamic call per packet, not two; Guard turns
	// a mapped file cut short by another program meanwhile into an error
	err = f.Guard(func() error { return m.RunReader(f.Reader) })
	f.Close()
	fr.Packets = m.packets() - before
	if err != nil {
		fr.Status, fr.Error, fr.err = FilePartial, err.Error(), fmt.Errorf("%s: %w", path, err)
	}
	m.addFile(fr)
	return fr
}

// openReason is the reason an open failed, without the path that
// FileReport.Path already holds.
func openReason(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), path+": ")
}

func (m *Monitor) packets() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pipe.dec.Counters.Packets
}

func (m *Monitor) addFile(fr FileReport) {
	m.mu.Lock()
	m.files = append(m.files, fr)
	m.mu.Unlock()
}

// RunLive captures on each interface until ctx is cancelled, saving state
// every SaveEvery. It returns nil on cancellation.
func (m *Monitor) RunLive(ctx context.Context, ifaces ...string) error {
	if len(ifaces) == 0 {
		return errors.New("monitor: no monitor interface given")
	}
	var lives []*capture.Live
	for _, name := range ifaces {
		l, err := capture.OpenLive(name, capture.LiveOptions{Filter: m.opts.Filter, NoRing: m.opts.NoRing})
		if err != nil {
			for _, o := range lives {
				o.Close()
			}
			m.mu.Lock()
			m.capErr = err
			m.mu.Unlock()
			return err
		}
		lives = append(lives, l)
	}
	ports := make([]*port, len(lives))
	for i, l := range lives {
		ports[i] = &port{name: l.Name, drops: l.Drops, live: l, started: time.Now().Unix()}
	}
	m.mu.Lock()
	m.lives = append(m.lives, lives...)
	m.ports = append(m.ports, ports...)
	m.ifaces += len(lives)
	m.capErr = nil
	m.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, len(lives))
	for _, p := range ports {
		wg.Add(1)
		go func(p *port) {
			defer wg.Done()
			for {
				data, ci, err := p.live.NextContext(ctx)
				if err != nil {
					if ctx.Err() == nil {
						err = fmt.Errorf("capture %s: %w", p.live.Name, err)
						m.mu.Lock()
						p.err = err.Error()
						m.mu.Unlock()
						errs <- err
					}
					return
				}
				m.packetOn(p, data, ci)
			}
		}(p)
	}
	if m.opts.StateDir != "" {
		wg.Add(1)
		go func() { defer wg.Done(); m.saveEvery(ctx) }()
	}
	wg.Wait()
	close(errs)
	err := <-errs
	m.mu.Lock()
	for _, l := range lives {
		l.Close()
	}
	if err != nil {
		m.capErr = err
	}
	m.mu.Unlock()
	if m.opts.StateDir != "" {
		if serr := m.Save(); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// saveEvery writes the operations log and saves the state every
// SaveEvery until ctx ends; a failure shows in Health.
func (m *Monitor) saveEvery(ctx context.Context) {
	t := time.NewTicker(m.opts.SaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.FlushOperations(false); err != nil {
				m.mu.Lock()
				m.capErr = err
				m.mu.Unlock()
			}
			if err := m.Save(); err != nil {
				m.mu.Lock()
				m.capErr = err
				m.mu.Unlock()
			}
		}
	}
}

// SetOUI sets the MAC vendor registry after New, for callers that load it
// while the first packets are processed.
func (m *Monitor) SetOUI(o *inventory.OUI) {
	m.mu.Lock()
	m.inv.SetOUI(o)
	m.mu.Unlock()
}

// Assets returns the inventory.
func (m *Monitor) Assets() []inventory.Asset {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inv.Assets()
}

// Alerts returns every alert, oldest first.
func (m *Monitor) Alerts() []alert.Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eng.Alerts()
}

// Ack acknowledges an alert.
func (m *Monitor) Ack(id uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eng.Ack(id)
}

// Stats are the monitor's counters.
type Stats struct {
	Packets     uint64                    `json:"packets"`
	Bytes       uint64                    `json:"bytes"`
	KernelDrops uint64                    `json:"kernel_drops"`
	Interfaces  int                       `json:"interfaces"`
	Decode      decode.Counters           `json:"decode"`
	Protocols   map[string]ProtocolReport `json:"protocols"`
	Streams     int                       `json:"tcp_streams"`
	Learning    bool                      `json:"learning"`
	LearningEnd time.Time                 `json:"learning_ends,omitempty"`
}

// Stats returns the counters: packets, bytes, kernel drops and the
// per-protocol PDU, function and malformed counts (industrial and IT).
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.pipe.dec.Counters
	s := Stats{Packets: c.Packets, Bytes: c.Bytes, Interfaces: m.ifaces, Decode: c,
		Protocols: allProtocolReports(&m.pipe.Counters), Streams: m.pipe.streams.Len(),
		LearningEnd: m.eng.LearningEnds()}
	s.Learning = s.LearningEnd.IsZero() || time.Unix(0, m.pipe.lastTS).Before(s.LearningEnd)
	for _, l := range m.lives {
		s.KernelDrops += l.Drops()
	}
	return s
}

// Health is the capture line of `sensorcore sanity`: "capture: N
// interfaces, N packets, N drops", or an error when capture failed.
func (m *Monitor) Health() (string, error) {
	s := m.Stats()
	m.mu.Lock()
	err := m.capErr
	m.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("capture: %w", err)
	}
	m.mu.Lock()
	replay := m.replay
	m.mu.Unlock()
	if replay != "" {
		return fmt.Sprintf("capture: %s, %d packets, %d drops", replay, s.Packets, s.KernelDrops), nil
	}
	return fmt.Sprintf("capture: %d interfaces, %d packets, %d drops", s.Interfaces, s.Packets, s.KernelDrops), nil
}

// Report is the output of `sensorcore analyze --json` (the contract in
// docs/monitoring.md).
type Report struct {
	// Complete is false when a file was damaged, cut short or unreadable,
	// or held packets of a link type that is not decoded: the counts are
	// then those of what could be read.
	Complete bool   `json:"complete"`
	Packets  uint64 `json:"packets"`
	Bytes    uint64 `json:"bytes"`
	// Truncated counts packets the capture's snapshot length cut short:
	// their PDUs are not dissected (nor counted malformed).
	Truncated uint64                    `json:"truncated"`
	Files     []FileReport              `json:"files"`
	LinkTypes []LinkTypeReport          `json:"link_types"`
	Protocols map[string]ProtocolReport `json:"protocols"`
	Assets    []inventory.Asset         `json:"assets"`
	Alerts    []alert.Alert             `json:"alerts"`
}

// Report returns the analyze report.
func (m *Monitor) Report() Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := Report{Complete: true, Packets: m.pipe.dec.Counters.Packets, Bytes: m.pipe.dec.Counters.Bytes, Truncated: m.pipe.Truncated,
		Files: append([]FileReport{}, m.files...), LinkTypes: m.pipe.linkTypeReports(),
		Protocols: protocolReports(&m.pipe.Counters), Assets: m.inv.Assets(), Alerts: m.eng.Alerts()}
	for _, f := range r.Files {
		r.Complete = r.Complete && f.Status == FileComplete
	}
	for _, lt := range r.LinkTypes {
		r.Complete = r.Complete && lt.Decoded
	}
	if r.Assets == nil {
		r.Assets = []inventory.Asset{}
	}
	if r.Alerts == nil {
		r.Alerts = []alert.Alert{}
	}
	return r
}

// Operations returns the last max records of the stored operations log
// (StateDir) whose client or server is ip, oldest first; every record
// when ip is the zero Addr. Records still buffered are written first.
func (m *Monitor) Operations(ip netip.Addr, max int) ([]json.RawMessage, error) {
	if m.opts.StateDir == "" {
		return nil, nil
	}
	if err := m.FlushOperations(false); err != nil {
		return nil, err
	}
	var keep func([]byte) bool
	if ip.IsValid() {
		needle := []byte(`{"ip":"` + ip.String() + `"`)
		keep = func(l []byte) bool { return bytes.Contains(l, needle) }
	}
	lines, err := store.ReadOperations(m.opts.StateDir, max, keep)
	out := make([]json.RawMessage, len(lines))
	for i, l := range lines {
		out[i] = l
	}
	return out, err
}

// Save writes the state to StateDir (no-op without one).
func (m *Monitor) Save() error {
	if m.opts.StateDir == "" {
		return nil
	}
	m.mu.Lock()
	st := &store.State{Assets: m.inv.Assets(), Alerts: m.eng.Alerts(), Baseline: m.eng.Baseline().Record()}
	m.mu.Unlock()
	return store.Save(m.opts.StateDir, st)
}

// FlushOperations writes the buffered operations log records; with final
// set, the requests still waiting for a response are written as such
// (at the end of a capture). It returns the writer's first error.
func (m *Monitor) FlushOperations(final bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pipe.ops == nil {
		return nil
	}
	return m.pipe.ops.flush(final)
}

// Close writes the rest of the operations log, saves the state and stops
// the syslog forwarders.
func (m *Monitor) Close() error {
	oerr := m.FlushOperations(true)
	err := m.Save()
	if err == nil {
		err = oerr
	}
	if m.opsFile != nil {
		if cerr := m.opsFile.Close(); err == nil {
			err = cerr
		}
	}
	m.mu.Lock()
	m.closeSinks()
	m.mu.Unlock()
	return err
}
