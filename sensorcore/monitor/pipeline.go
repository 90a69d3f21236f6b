package monitor

import (
	"errors"
	"sort"
	"time"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
	"github.com/tapline/tapline/sensorcore/inventory"
)

// flowMemo is the pipeline's state for one TCP stream (decode.Stream.Aux):
// what the inventory and the alert engine already hold for the stream's
// source and destination, so repeated packets skip their map lookups.
type flowMemo struct {
	gen uint32 // the Stream's Gen this memo is for
	inv inventory.Flow
	eng alert.Flow
}

// maxTries is how many data segments of a stream content matching sees
// before it gives the stream up as "not a dissected protocol".
const maxTries = 4

// Pipeline decodes packets and dispatches PDUs; it is not safe for
// concurrent use (Monitor serialises it).
type Pipeline struct {
	reg     *dissect.Registry
	snap    *dissect.Snapshot // the registry the protocol lists come from
	dec     decode.Decoder
	streams *decode.StreamTable
	tcp     []dissect.TCPProtocol
	tcpByID [dissect.MaxProtocols]*dissect.TCPProtocol
	udp     []dissect.UDPProtocol
	// tcpPort and udpPort are the same protocols in the order a port
	// match tries them: plugins first (dissect.Descriptor.Plugin).
	tcpPort  []dissect.TCPProtocol
	udpPort  []dissect.UDPProtocol
	l2       []dissect.L2Protocol
	res      dissect.Result
	Counters [dissect.MaxProtocols]dissect.Counter
	obs      *Monitor
	lastTS   int64
	sweepTS  int64
	// Unclassified counts TCP streams given up by content matching.
	Unclassified uint64
	// Truncated counts packets the capture's snapshot length cut short.
	Truncated uint64
	// noMemo reports TCP packets through Host and PDU instead of the
	// stream memo (tests compare the two).
	noMemo bool
	// Packets per link type: the current run in curLink/curLinkN (one
	// compare per packet), earlier runs in links.
	curLink  int
	curLinkN uint64
	links    map[int]uint64
	// ops is the operations log, nil when off.
	ops *opLog
	ts  int64 // the current packet's time, unix nanoseconds
	// identity holds the CIP Get_Attributes_All requests to the Identity
	// object waiting for their replies (which do not name the object).
	identity identityWait
}

// NewPipeline makes a pipeline that reports hosts and PDUs to obs (which
// may be nil). pkt and the dissect.Result are reused after each call, so
// the Monitor copies what it keeps.
func NewPipeline(obs *Monitor) *Pipeline {
	streams := decode.NewStreamTable(65536)
	streams.Expire = streamIdle
	p := &Pipeline{
		streams: streams,
		reg:     dissect.Default(),
		obs:     obs,
		res:     dissect.Result{Extra: make([]int, 0, 256)},
	}
	p.use(p.reg.Snapshot())
	return p
}

// use takes the protocol lists of a registry snapshot and indexes the TCP
// protocols by id. Streams, counters and classifications stay: a protocol
// registered while packets flow is used from the next packet on.
func (p *Pipeline) use(s *dissect.Snapshot) {
	if old := p.snap; old != nil {
		// An id given to another protocol starts counting afresh.
		for id := uint8(1); id < dissect.MaxProtocols; id++ {
			if a, b := old.Protocol(id), s.Protocol(id); a != nil && (b == nil || b.Name != a.Name) {
				p.Counters[id] = dissect.Counter{}
			}
		}
	}
	p.snap, p.tcp, p.udp, p.l2 = s, s.TCP, s.UDP, s.L2
	p.tcpByID = [dissect.MaxProtocols]*dissect.TCPProtocol{}
	for i := range p.tcp {
		if id := p.tcp[i].ID; id < dissect.MaxProtocols && p.tcpByID[id] == nil {
			p.tcpByID[id] = &p.tcp[i]
		}
	}
	p.tcpPort = portOrder(s, p.tcp, func(t *dissect.TCPProtocol) uint8 { return t.ID })
	p.udpPort = portOrder(s, p.udp, func(u *dissect.UDPProtocol) uint8 { return u.ID })
	// A plugin on an EtherType takes it from a built-in dissector, as on
	// a port.
	p.l2 = portOrder(s, s.L2, func(l *dissect.L2Protocol) uint8 { return l.ID })
}

// portOrder lists the protocols in the order a port match tries them:
// plugins first (a plant's plugin on its own ports takes them from a
// built-in dissector), then the built-in ones, each in id order.
func portOrder[T any](s *dissect.Snapshot, ps []T, id func(*T) uint8) []T {
	out := make([]T, 0, len(ps))
	for _, plugin := range [2]bool{true, false} {
		for i := range ps {
			if d := s.Protocol(id(&ps[i])); (d != nil && d.Plugin) == plugin {
				out = append(out, ps[i])
			}
		}
	}
	return out
}

// refresh picks up protocols registered since the pipeline's snapshot
// (one atomic load when nothing changed).
func (p *Pipeline) refresh() {
	if s := p.reg.Snapshot(); s != p.snap {
		p.use(s)
	}
}

// setOps turns the operations log on (l non-nil): the dissectors then
// decode every object it records.
func (p *Pipeline) setOps(l *opLog) {
	p.ops = l
	p.res.Log = l != nil
}

// Decoder exposes the link/network counters.
func (p *Pipeline) Decoder() *decode.Decoder { return &p.dec }

// streamIdle is how long a TCP stream may be silent: after that its next
// segment starts it afresh (decode.StreamTable.Expire), and the sweep
// removes it.
const streamIdle = int64(10 * time.Minute)

// sweepEvery is how often (in capture time) idle streams are removed: a
// stream goes after 10 to 15 minutes of silence. Each sweep walks the whole
// table, so not every minute.
const sweepEvery = streamIdle / 2

// Packet runs one captured frame through the pipeline.
func (p *Pipeline) Packet(data []byte, ci capture.Info) { p.packet(data, &ci) }

func (p *Pipeline) packet(data []byte, ci *capture.Info) {
	if ci.LinkType != p.curLink {
		p.switchLink(ci.LinkType)
	}
	p.curLinkN++
	ts := ci.UnixNano
	p.ts = ts
	if ts > p.lastTS {
		p.lastTS = ts
	}
	// Cut by the snapshot length: counted as truncated; its partial PDUs
	// are neither dissected nor malformed, and the stream moves past it.
	cut := ci.Length > ci.CaptureLen && ci.CaptureLen > 0
	if cut {
		p.Truncated++
	}
	if err := p.dec.Decode(data, ci.LinkType); err != nil && !p.dec.Pkt.HasTransport {
		if p.obs != nil && (p.dec.Pkt.IPVersion != 0 || p.dec.Pkt.IsARP) {
			p.obs.Host(time.Unix(0, ts), &p.dec.Pkt)
		}
		return
	}
	pkt := &p.dec.Pkt
	if pkt.Proto == decode.ProtoTCP && pkt.HasTransport && !pkt.Fragment {
		// The stream first, so its memo serves the host observation too.
		s := p.streams.GetPacket(pkt, ts)
		m := memoOf(s)
		if p.noMemo {
			m = nil
		}
		if p.obs != nil {
			if m != nil {
				p.obs.hostFlow(ts, pkt, m)
			} else {
				p.obs.Host(time.Unix(0, ts), pkt)
			}
		}
		if cut && pkt.Cut > 0 {
			s.SegmentLost(pkt.Seq, pkt.Ack, pkt.TCPFlags, len(pkt.Payload)+pkt.Cut)
		} else {
			p.tcpSegment(pkt, s, m)
		}
	} else {
		if p.obs != nil && (pkt.IPVersion != 0 || pkt.IsARP) {
			p.obs.Host(time.Unix(0, ts), pkt)
		}
		if pkt.HasTransport && pkt.Proto == decode.ProtoUDP && (!pkt.Fragment || pkt.FragFirst) && !(cut && pkt.Cut > 0) {
			p.udpDatagram(pkt)
		} else if pkt.IPVersion == 0 && len(pkt.Payload) > 0 && len(p.l2) > 0 && !cut {
			p.l2Frame(pkt)
		}
	}
	if p.lastTS-p.sweepTS > sweepEvery {
		p.streams.Sweep(p.lastTS, streamIdle)
		p.sweepTS = p.lastTS
	}
}

// switchLink starts counting packets of another link type.
func (p *Pipeline) switchLink(lt int) {
	if p.curLinkN > 0 {
		if p.links == nil {
			p.links = map[int]uint64{}
		}
		p.links[p.curLink] += p.curLinkN
	}
	p.curLink, p.curLinkN = lt, 0
}

// LinkTypeReport counts the packets of one link type and says whether
// they were decoded; a link type sensorcore cannot decode is never
// silent.
type LinkTypeReport struct {
	LinkType int    `json:"link_type"`
	Name     string `json:"name"`
	Packets  uint64 `json:"packets"`
	Decoded  bool   `json:"decoded"`
}

// linkTypeReports lists the link types seen, by number.
func (p *Pipeline) linkTypeReports() []LinkTypeReport {
	counts := make(map[int]uint64, len(p.links)+1)
	for lt, n := range p.links {
		counts[lt] += n
	}
	if p.curLinkN > 0 {
		counts[p.curLink] += p.curLinkN
	}
	out := make([]LinkTypeReport, 0, len(counts))
	for lt, n := range counts {
		out = append(out, LinkTypeReport{LinkType: lt, Name: decode.LinkTypeName(lt), Packets: n, Decoded: decode.Decodable(lt)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LinkType < out[j].LinkType })
	return out
}

// memoOf returns the stream's memo, emptied when the stream was recycled
// for another flow.
func memoOf(s *decode.Stream) *flowMemo {
	m, _ := s.Aux.(*flowMemo)
	if m == nil {
		m = &flowMemo{gen: s.Gen}
		s.Aux = m
	} else if m.gen != s.Gen {
		*m = flowMemo{gen: s.Gen}
	}
	return m
}

// tcpSegment runs one TCP segment (fragments are not reassembled, so a
// first fragment never gets here) through its stream.
func (p *Pipeline) tcpSegment(pkt *decode.Packet, s *decode.Stream, m *flowMemo) {
	data, gap := pkt.Payload, false // the common case inlined (InOrder)
	if !s.InOrder(pkt.Seq, pkt.Ack, pkt.TCPFlags, len(data)) {
		data, gap = s.SegmentAck(pkt.Seq, pkt.Ack, pkt.TCPFlags, pkt.Payload)
	}
	if len(data) == 0 || s.Dead {
		return
	}
	if s.Dir == decode.DirUnknown {
		s.Dir = guessDir(pkt, p.streams.Peer(pkt.Key()))
	}
	if s.App == 0 {
		peer := p.streams.Peer(pkt.Key())
		if peer != nil && peer.App != 0 {
			s.App = peer.App
		} else {
			s.App = p.classifyTCP(pkt, data)
		}
		if s.App == 0 {
			s.Tries++
			if s.Tries >= maxTries {
				s.Dead = true
				p.Unclassified++
			}
			return
		}
	}
	proto := p.tcpProto(s.App)
	if proto == nil {
		// Its protocol was unregistered (a plugin removed): classify the
		// stream afresh from its next segment.
		s.App, s.Tries = 0, 0
		s.Drop()
		return
	}
	buf := s.Take(data)
	for len(buf) > 0 {
		n := proto.Len(buf)
		if n == 0 {
			break
		}
		if n < 0 {
			// Lost framing: after a gap this is expected; otherwise the
			// stream carried bytes that are not this protocol's PDU.
			if !gap {
				p.Counters[s.App].Malformed++
				p.Counters[s.App].PDUs++
				if p.obs != nil {
					p.res.Reset(s.App)
					p.report(pkt, true, m)
				}
			}
			buf = resync(proto, buf)
			gap = true
			continue
		}
		p.pdu(pkt, proto.Decode, s.App, buf[:n], s.Dir, m)
		buf = buf[n:]
	}
	s.Keep(buf)
}

// pdu decodes and counts one PDU and reports it; m is the TCP stream's
// memo, nil for UDP.
func (p *Pipeline) pdu(pkt *decode.Packet, dec func([]byte, decode.Direction, *dissect.Result) error, id uint8, b []byte, dir decode.Direction, m *flowMemo) {
	err := dec(b, dir, &p.res)
	if err != nil && errors.Is(err, dissect.ErrNoPDU) {
		return
	}
	c := &p.Counters[id]
	c.PDUs++
	bad := err != nil
	if bad {
		c.Malformed++
		if err == dissect.ErrPluginLimit {
			c.PluginLimit++
		}
	}
	if f := p.res.Function; f >= 0 && f < 256 {
		c.Functions[f]++
	} else if f >= 256 {
		c.Function(f)
	}
	// Embedded services (a CIP Multiple Service Packet's) come in runs of
	// one code: a run is added at once, not as a chain of increments of
	// one counter in memory, each waiting for the one before.
	for extra := p.res.Extra; len(extra) > 0; {
		f, n := extra[0], 1
		for n < len(extra) && extra[n] == f {
			n++
		}
		if f >= 0 && f < 256 {
			c.Functions[f] += uint64(n)
		}
		extra = extra[n:]
	}
	if len(p.res.Tallies) > 0 {
		c.AddTallies(p.res.Tallies)
	}
	if id == dissect.ENIP && (p.res.IdentityRequest || p.res.Function == 1 && p.res.ReplyData != nil) && !bad {
		p.identity.pair(pkt, &p.res, p.ts)
	}
	if p.ops != nil {
		p.res.Op = p.ops.observe(p.ts, pkt, &p.res, bad)
	}
	if p.obs != nil {
		p.report(pkt, bad, m)
	}
}

// l2Frame dissects a frame of a protocol carried directly over Ethernet
// (PROFINET DCP): its ends are its MAC addresses.
func (p *Pipeline) l2Frame(pkt *decode.Packet) {
	for i := range p.l2 {
		for _, et := range p.l2[i].EtherTypes {
			if et == pkt.EtherType {
				pkt.Src, pkt.Dst = decode.MACAddr(pkt.SrcMAC), decode.MACAddr(pkt.DstMAC)
				p.pdu(pkt, p.l2[i].Decode, p.l2[i].ID, pkt.Payload, decode.DirUnknown, nil)
				return
			}
		}
	}
}

// identityWait pairs CIP Get_Attributes_All requests to the Identity
// object with their replies: a few recent requests, by ends and
// transaction.
type identityWait struct {
	next int
	reqs [16]identityReq
}

type identityReq struct {
	used           bool
	client, server decode.Addr
	cport, sport   uint16
	txn            int
	op             uint64
}

// pair remembers an identity request, or reads the reply to one into
// r.Ident (and names the request's operation in r.Op).
func (w *identityWait) pair(pkt *decode.Packet, r *dissect.Result, now int64) {
	if r.Request {
		w.reqs[w.next] = identityReq{used: true, client: pkt.Src, server: pkt.Dst, cport: pkt.SrcPort, sport: pkt.DstPort, txn: r.Txn,
			op: dissect.OperationID(now, pkt.Src, pkt.Dst, pkt.SrcPort, pkt.DstPort, r.Proto, r.Function, r.Txn)}
		w.next = (w.next + 1) % len(w.reqs)
		return
	}
	for i := range w.reqs {
		q := &w.reqs[i]
		if q.used && q.txn == r.Txn && q.client == pkt.Dst && q.server == pkt.Src && q.cport == pkt.DstPort && q.sport == pkt.SrcPort {
			q.used = false
			if r.Status == 0 && dissect.ParseCIPIdentity(r.ReplyData, r) == nil {
				r.Op = q.op
			}
			return
		}
	}
}

// report hands the PDU in p.res to the Monitor, through the stream memo m
// when there is one.
func (p *Pipeline) report(pkt *decode.Packet, malformed bool, m *flowMemo) {
	if m != nil {
		p.obs.pduFlow(p.ts, pkt, &p.res, malformed, m)
	} else {
		p.obs.PDU(time.Unix(0, p.ts), pkt, &p.res, malformed)
	}
}

// classifyTCP tries the protocols registered on either port first, then
// every other protocol, by content.
func (p *Pipeline) classifyTCP(pkt *decode.Packet, data []byte) uint8 {
	for i := range p.tcpPort {
		if hasPort(p.tcpPort[i].Ports, pkt) && (p.tcpPort[i].Match(data) || frames(p.tcpPort[i].Len, data)) {
			return p.tcpPort[i].ID
		}
	}
	for i := range p.tcp {
		if !hasPort(p.tcp[i].Ports, pkt) && p.tcp[i].Match(data) {
			return p.tcp[i].ID
		}
	}
	return 0
}

// tcpProto is the TCP protocol with this id, nil when none is registered.
func (p *Pipeline) tcpProto(id uint8) *dissect.TCPProtocol {
	if id < dissect.MaxProtocols {
		return p.tcpByID[id]
	}
	return nil
}

func (p *Pipeline) udpDatagram(pkt *decode.Packet) {
	b := pkt.Payload
	if len(b) == 0 {
		return
	}
	var proto *dissect.UDPProtocol
	for i := range p.udpPort {
		if hasPort(p.udpPort[i].Ports, pkt) && p.udpPort[i].Match(b) {
			proto = &p.udpPort[i]
			break
		}
	}
	if proto == nil {
		for i := range p.udp {
			if !p.udp[i].PortOnly && p.udp[i].Match(b) {
				proto = &p.udp[i]
				break
			}
		}
	}
	if proto == nil {
		return
	}
	dir := decode.DirToServer
	if hasSrcPort(proto.Ports, pkt) && !hasDstPort(proto.Ports, pkt) {
		dir = decode.DirToClient
	}
	if proto.Len == nil {
		p.pdu(pkt, proto.Decode, proto.ID, b, dir, nil)
		return
	}
	for len(b) > 0 {
		n := proto.Len(b)
		if n <= 0 {
			p.Counters[proto.ID].Malformed++
			p.Counters[proto.ID].PDUs++
			return
		}
		p.pdu(pkt, proto.Decode, proto.ID, b[:n], dir, nil)
		b = b[n:]
	}
}

func hasPort(ports []uint16, pkt *decode.Packet) bool {
	return hasSrcPort(ports, pkt) || hasDstPort(ports, pkt)
}

func hasSrcPort(ports []uint16, pkt *decode.Packet) bool {
	for _, x := range ports {
		if pkt.SrcPort == x {
			return true
		}
	}
	return false
}

func hasDstPort(ports []uint16, pkt *decode.Packet) bool {
	for _, x := range ports {
		if pkt.DstPort == x {
			return true
		}
	}
	return false
}

// guessDir decides a stream's direction when its SYN was not seen: the
// opposite of its peer's if known, else toward the lower (service) port.
func guessDir(pkt *decode.Packet, peer *decode.Stream) decode.Direction {
	if peer != nil && peer.Dir != decode.DirUnknown {
		if peer.Dir == decode.DirToServer {
			return decode.DirToClient
		}
		return decode.DirToServer
	}
	if pkt.DstPort < pkt.SrcPort {
		return decode.DirToServer
	}
	return decode.DirToClient
}

// frames reports whether data is a run of whole PDUs, possibly ending with
// the start of one: the looser test applied on a protocol's own port.
func frames(length func([]byte) int, data []byte) bool {
	for len(data) > 0 {
		n := length(data)
		if n < 0 {
			return false
		}
		if n == 0 {
			return true
		}
		data = data[n:]
	}
	return true
}

// resync skips to the next offset where a PDU header matches, or drops the
// bytes when none does.
func resync(proto *dissect.TCPProtocol, buf []byte) []byte {
	for i := 1; i < len(buf); i++ {
		if n := proto.Len(buf[i:]); n > 0 && proto.Match(buf[i:]) {
			return buf[i:]
		}
	}
	return nil
}
