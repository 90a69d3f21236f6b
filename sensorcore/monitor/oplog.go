package monitor

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// The operations log: one record per OT operation (a request, paired with
// its response when one is seen, or a notification a device sends
// unasked), written as JSON lines (docs/monitoring.md "Operations log").
// Records are encoded by hand into reused buffers, so logging allocates
// nothing per operation, and a PDU that is no operation (an IT protocol,
// a malformed run) costs one branch. A request's object (what it
// addresses) is encoded when the request is seen, into its slot's buffer;
// the record is finished when the response comes.

// maxLoggedValues bounds the written values kept per operation.
const maxLoggedValues = 32

// maxLoggedString bounds a name copied from the wire (a CIP tag, a
// PROFINET station name) into a record.
const maxLoggedString = 240

// opSlots is the size of the table of requests waiting for a response
// (a power of two): opSlots/opWays buckets of opWays slots. A request
// takes a free slot of its bucket; only when all are taken (opWays
// requests waiting in one bucket) is the oldest written without a
// response to make room.
const (
	opSlots = 4096
	opWays  = 4
)

// opResponseWait and opSweepEvery: a request waits for its response
// opResponseWait by the traffic's clock (far longer than any industrial
// protocol's timeout); every opSweepEvery the requests that waited longer
// are written without a response, oldest first.
const (
	opResponseWait = time.Minute
	opSweepEvery   = 10 * time.Second
)

// opKey identifies a request/response pair: the client and server ends,
// the protocol and the transaction id.
type opKey struct {
	client, server decode.Addr
	cport, sport   uint16
	proto          uint8
	txn            int32
}

// opEntry is one operation waiting for its response.
type opEntry struct {
	used   bool
	hasMAC bool
	action dissect.Action
	// name is the function's name ("" none), proto the protocol's.
	name, proto string
	key         opKey
	fc          int32
	id          uint64
	at          int64 // request time, unix nanoseconds
	cmac, smac  [6]byte
	// body is the request's fields after "action": transaction, object,
	// values (",\"unit\":1,..."), in a buffer the slot keeps.
	body []byte
}

// opLog pairs requests and responses and writes the records.
//
// A request's bucket is a random place in a table of opSlots (each
// request has a new transaction id, so a new bucket), but a slot holds
// only the number of an entry: entries come from a stack of free ones, so the few
// requests waiting at any time reuse the same few entries and buffers,
// which stay in the CPU's cache, instead of touching a new one in a
// table of several hundred kilobytes each time.
type opLog struct {
	w   io.Writer
	buf []byte
	// slots holds, per slot, 1 + the index in entries of the request
	// waiting there (0: none).
	slots   []uint16
	entries []opEntry
	free    []uint16 // indexes of the unused entries, the last freed on top
	// high is 1 + the highest index of an entry ever taken: entries from
	// high on have never waited.
	high int
	seed uint64
	err  error
	// swept is when (traffic clock) the requests waiting too long were
	// last written.
	swept int64
	// convs caches the protocol and ends of the conversations written
	// lately.
	convs convCache
	// day and dayText cache the formatted date of the last record;
	// dayWord holds dayText's first eight bytes.
	day     int64
	dayText []byte
	dayWord uint64
	// lone is the entry of a record written at once (no pairing).
	lone opEntry
	// memo holds the objects of CIP requests rendered lately.
	memo cipMemo
	// checkMemo renders every object the memo supplies afresh as well
	// and panics if the two differ (the tests and fuzzers set it).
	checkMemo bool
	// Written counts records written.
	Written uint64
}

func newOpLog(w io.Writer) *opLog {
	l := &opLog{w: w, buf: make([]byte, 0, 64<<10), slots: make([]uint16, opSlots), entries: make([]opEntry, opSlots),
		free: make([]uint16, opSlots), seed: rand.Uint64(), day: math.MinInt64}
	for i := range l.free {
		l.free[i] = uint16(opSlots - 1 - i) // entry 0 on top
	}
	return l
}

// bucket is where the pair k waits: a multiply-xor hash of the key's
// words (keyed by a per-log seed, so a sender cannot aim collisions at it
// from one run to the next).
func (l *opLog) bucket(k *opKey) []uint16 {
	const m1, m2, m3, m4 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0xd6e8feb86659fd93
	h := l.seed ^ binary.LittleEndian.Uint64(k.client.B[0:8])*m1 ^ binary.LittleEndian.Uint64(k.client.B[8:16])*m2 ^
		binary.LittleEndian.Uint64(k.server.B[0:8])*m3 ^ binary.LittleEndian.Uint64(k.server.B[8:16])*m4 ^
		(uint64(k.cport)<<48|uint64(k.sport)<<32|uint64(uint32(k.txn)))*m1 ^ uint64(k.proto)*m2
	h ^= h >> 29
	h *= m3
	h ^= h >> 32
	b := int(h&(opSlots/opWays-1)) * opWays
	return l.slots[b : b+opWays : b+opWays]
}

// place is the slot of bucket b where a request for k waits: the earlier
// request of the same pair (its transaction id used again: it got no
// response), else a free one, else the oldest request's.
func (l *opLog) place(b []uint16, k *opKey) *uint16 {
	var free, oldest *uint16
	for i := range b {
		s := &b[i]
		if *s == 0 {
			if free == nil {
				free = s
			}
			continue
		}
		e := &l.entries[*s-1]
		if e.key == *k {
			return s
		}
		if oldest == nil || e.at < l.entries[*oldest-1].at {
			oldest = s
		}
	}
	if free != nil {
		return free
	}
	return oldest
}

// answered is the slot of bucket b where the request of k waits, nil
// when none.
func (l *opLog) answered(b []uint16, k *opKey) *uint16 {
	for i := range b {
		if s := &b[i]; *s != 0 && l.entries[*s-1].key == *k {
			return s
		}
	}
	return nil
}

// expire writes, oldest first, the requests that have waited longer than
// opResponseWait at now (all of them when now is math.MaxInt64) without a
// response.
//
// It looks through the entries ever taken (the free stack hands out the
// same few again, so they are the few hundred a busy poll cycle keeps
// waiting at once) rather than all opSlots slots, and finds a late
// request's slot from its key's bucket.
func (l *opLog) expire(now int64) {
	var late []uint16
	for i := range l.entries[:l.high] {
		if e := &l.entries[i]; e.used && (now == math.MaxInt64 || now-e.at > int64(opResponseWait)) {
			late = append(late, uint16(i))
		}
	}
	// by request time, then id: the same order whatever the seed
	slices.SortFunc(late, func(a, b uint16) int {
		ea, eb := &l.entries[a], &l.entries[b]
		return cmp.Or(cmp.Compare(ea.at, eb.at), cmp.Compare(ea.id, eb.id))
	})
	for _, i := range late {
		e := &l.entries[i]
		l.write(e, resultNoResponse, 0, -1)
		b := l.bucket(&e.key)
		for j := range b {
			if b[j] == i+1 {
				l.release(&b[j])
				break
			}
		}
	}
}

// waiting is the request waiting in slot, nil when none.
func (l *opLog) waiting(slot *uint16) *opEntry {
	if *slot == 0 {
		return nil
	}
	return &l.entries[*slot-1]
}

// release frees the entry waiting in slot.
func (l *opLog) release(slot *uint16) {
	l.entries[*slot-1].used = false
	l.free = append(l.free, *slot-1)
	*slot = 0
}

// logged reports whether the PDU in r, of the protocol d describes, is
// an operation the log records: a request, a response or a notification
// with a function (or, for S7 userdata, a function group) of an
// industrial protocol. The alert engine names operations by the same
// rule.
func logged(r *dissect.Result, d *dissect.Descriptor, malformed bool) bool {
	return !malformed && r.Logged() && d != nil && d.Industrial
}

// observe logs the PDU in r and returns the id of the record it belongs
// to (0 when none): a request waits for its response (or is written at
// once when its protocol pairs nothing), a response completes its
// request or is written alone, a notification is written at once.
func (l *opLog) observe(now int64, pkt *decode.Packet, r *dissect.Result, malformed bool) uint64 {
	// the protocol's descriptor, looked up once for the record's tests
	// and names (dissect.IsIndustrial, Name and FunctionName each looked
	// it up again)
	d := dissect.Default().Snapshot().Protocol(r.Proto)
	if !logged(r, d, malformed) {
		return 0
	}
	if now-l.swept >= int64(opSweepEvery) {
		l.expire(now)
		l.swept = now
	}
	var k opKey
	k.proto, k.txn = r.Proto, int32(r.Txn)
	if r.Request {
		k.client, k.server, k.cport, k.sport = pkt.Src, pkt.Dst, pkt.SrcPort, pkt.DstPort
	} else {
		k.client, k.server, k.cport, k.sport = pkt.Dst, pkt.Src, pkt.DstPort, pkt.SrcPort
	}
	if r.Request && r.Txn >= 0 && !groupMAC(k.server) {
		slot := l.place(l.bucket(&k), &k)
		e := l.waiting(slot)
		if e != nil {
			l.write(e, resultNoResponse, 0, -1) // its response never came, or the bucket is full
		} else {
			i := l.free[len(l.free)-1]
			l.free = l.free[:len(l.free)-1]
			l.high = max(l.high, int(i)+1)
			*slot, e = i+1, &l.entries[i]
		}
		l.fill(e, &k, now, pkt, r, d)
		return e.id
	}
	if r.Response && r.Txn >= 0 {
		if slot := l.answered(l.bucket(&k), &k); slot != nil {
			e := l.waiting(slot)
			if r.Proto == dissect.PNDCP {
				// an Identify response names the device: kept with its request
				e.body = appendStation(e.body, r)
			}
			l.write(e, resultAnswered, now, r.Status)
			id := e.id
			l.release(slot)
			return id
		}
	}
	// written at once: a request nothing answers, a notification, or a
	// response whose request was not seen
	e := &l.lone
	if r.Request {
		k.txn = -1 // pairs with nothing
	}
	l.fill(e, &k, now, pkt, r, d)
	switch {
	case r.Request:
		l.write(e, resultUnpaired, 0, -1)
	case r.Notification:
		l.write(e, resultNotification, 0, r.Status)
	default:
		l.write(e, resultAlone, now, r.Status)
	}
	e.used = false
	return e.id
}

// groupMAC reports whether a is a multicast or broadcast MAC address (a
// link-layer request to it is answered by any number of devices, so it
// pairs with nothing).
func groupMAC(a decode.Addr) bool { return a.Len == 6 && a.B[0]&1 != 0 }

// fill records the operation of r in e: its key, time, id, function and
// action, the MAC addresses, and its fields rendered into e.body.
func (l *opLog) fill(e *opEntry, k *opKey, now int64, pkt *decode.Packet, r *dissect.Result, d *dissect.Descriptor) {
	e.used, e.key, e.at, e.fc, e.action, e.name = true, *k, now, int32(r.Function), r.Action, functionName(r, d)
	e.proto = d.Name
	e.id = dissect.OperationIDOf(now, &k.client, &k.server, k.cport, k.sport, k.proto, r.Function, int(k.txn))
	e.hasMAC = pkt.HasEth
	if r.Request {
		e.cmac, e.smac = pkt.SrcMAC, pkt.DstMAC
	} else {
		e.cmac, e.smac = pkt.DstMAC, pkt.SrcMAC
	}
	e.body = appendTxn(e.body[:0], r)
	if r.Proto == dissect.ENIP && r.Request && len(r.Fields) == 0 {
		e.body = l.memo.appendCIP(e.body, k, r, l.checkMemo)
	} else {
		e.body = appendObjectFields(e.body, r)
	}
}

// functionName names the PDU's function: by its protocol's descriptor d,
// except where the code alone does not say (BACnet unconfirmed services,
// object-specific CIP services).
func functionName(r *dissect.Result, d *dissect.Descriptor) string {
	switch {
	case r.Function < 0:
		return ""
	case r.Unconfirmed:
		return dissect.BACnetUnconfirmedName(r.Function)
	case r.Proto == dissect.ENIP && r.Request:
		return dissect.CIPServiceName(uint8(r.Function), r.Class, r.Tag != nil)
	}
	if d.Functions == nil {
		return ""
	}
	return d.Functions(r.Function)
}

// flush writes the requests still waiting (no response seen) and the
// buffer.
func (l *opLog) flush(final bool) error {
	if final {
		l.expire(math.MaxInt64)
	}
	if len(l.buf) > 0 && l.err == nil {
		_, l.err = l.w.Write(l.buf)
	}
	l.buf = l.buf[:0]
	return l.err
}

// How a record ends.
const (
	resultAnswered     = iota // request and response: result, status, latency
	resultNoResponse          // a request whose response never came
	resultUnpaired            // a request its protocol pairs with nothing
	resultNotification        // sent unasked
	resultAlone               // a response whose request was not seen
)

// write appends the record of e to the buffer, ending as how says; the
// response came at respAt with status (-1: none).
func (l *opLog) write(e *opEntry, how int, respAt int64, status int) {
	b := l.buf
	b = append(b, `{"id":"`...)
	b = appendHex64(b, e.id)
	b = append(b, `","time":"`...)
	b = l.appendTime(b, e.at)
	b = l.convs.append(b, e)
	if e.fc >= 0 {
		b = append(b, `,"function":`...)
		b = appendDec(b, int64(e.fc))
		if e.name != "" {
			b = append(b, `,"function_name"`...) // 16 bytes, copied in place
			b = append(b, ':', '"')
			b = append(b, e.name...) // registry names are plain ASCII (TestNamesPlain)
			b = append(b, '"')
		}
	}
	if e.action != dissect.ActNone {
		b = append(b, `,"action":"`...)
		b = append(b, dissect.ActionName(e.action)...)
		b = append(b, '"')
	}
	b = append(b, e.body...)
	switch how {
	case resultUnpaired:
		b = append(b, `,"result":"unpaired"`...) // nothing pairs with it
	case resultNoResponse:
		b = append(b, `,"result":"no response"`...)
	case resultNotification:
		b = append(b, `,"result":"notification"`...)
	case resultAlone:
		b = append(b, `,"request_seen":false,"result":`...)
		b = appendResult(b, status)
	default:
		if status == 0 {
			// the common answer without appendResult's call, in two
			// appends of at most 16 bytes (the compiler copies those in
			// place; a longer one calls memmove)
			b = append(b, `,"result":"ok"`...)
			b = append(b, `,"latency_us":`...)
		} else {
			b = append(b, `,"result":`...)
			b = appendResult(b, status)
			b = append(b, `,"latency_us":`...)
		}
		b = appendDec(b, (respAt-e.at)/1000)
	}
	if status > 0 && how != resultNotification {
		b = append(b, `,"status":`...)
		b = appendDec(b, int64(status))
	}
	b = append(b, "}\n"...)
	l.buf = b
	l.Written++
	if len(b) > 60<<10 {
		l.flush(false)
	}
}

// appendTxn appends a PDU's transaction id, the first member of its
// object.
func appendTxn(b []byte, r *dissect.Result) []byte {
	if r.Txn >= 0 && r.Proto != dissect.IEC104 {
		b = appendInt(b, `,"transaction":`, int64(r.Txn))
	}
	return b
}

// appendObjectFields appends what a PDU addresses after its transaction
// id, by protocol (the fields of docs/monitoring.md "Operations log"),
// each member starting with a comma.
func appendObjectFields(b []byte, r *dissect.Result) []byte {
	switch r.Proto {
	case dissect.Modbus:
		b = appendInt(b, `,"unit":`, int64(r.Unit))
		b = appendInt(b, `,"address":`, int64(r.Address))
		b = appendInt(b, `,"quantity":`, int64(r.Quantity))
		if len(r.Values) > 0 {
			b = append(b, `,"values":[`...)
			for i, v := range r.Values[:min(len(r.Values), maxLoggedValues)] {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendUdec(b, uint64(v))
			}
			b = append(b, ']')
		}
	case dissect.DNP3:
		b = appendDNP3(b, r)
	case dissect.ENIP:
		b = appendCIPPath(b, r.Class, r.Instance, r.Attribute, r.Tag)
		if ss := r.CIPServices(); len(ss) > 0 {
			b = append(b, `,"services":[`...)
			for i, s := range ss {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"service":`...)
				b = appendUdec(b, uint64(s.Service))
				if n := dissect.CIPServiceName(s.Service, s.Class, s.Tag != nil); n != "" {
					b = append(b, `,"service_name":"`...)
					b = append(b, n...)
					b = append(b, '"')
				}
				b = appendCIPPath(b, s.Class, s.Instance, s.Attribute, s.Tag)
				b = append(b, '}')
			}
			b = append(b, ']')
			if m := r.MoreCIPServices(); m > 0 {
				b = appendInt(b, `,"more_services":`, int64(m))
			}
		}
	case dissect.S7comm:
		b = appendS7(b, r)
	case dissect.IEC104:
		b = appendInt(b, `,"unit":`, int64(r.Unit))
		b = appendInt(b, `,"address":`, int64(r.Address))
		b = appendInt(b, `,"quantity":`, int64(r.Quantity))
		b = appendInt(b, `,"cause":`, int64(r.Cause))
	case dissect.BACnet:
		if r.Unconfirmed {
			b = append(b, `,"unconfirmed":true`...)
		}
		if refs := r.BACnetRefs(); len(refs) > 0 {
			b = append(b, `,"objects":[`...)
			for i, ref := range refs {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"type":`...)
				b = appendUdec(b, uint64(ref.Type))
				if n := dissect.BACnetObjectTypeName(ref.Type); n != "" {
					b = append(b, `,"type_name":"`...)
					b = append(b, n...)
					b = append(b, '"')
				}
				b = append(b, `,"instance":`...)
				b = appendUdec(b, uint64(ref.Instance))
				if ref.Property >= 0 {
					b = append(b, `,"property":`...)
					b = appendDec(b, int64(ref.Property))
					if n := dissect.BACnetPropertyName(ref.Property); n != "" {
						b = append(b, `,"property_name":"`...)
						b = append(b, n...)
						b = append(b, '"')
					}
				}
				b = appendInt(b, `,"index":`, int64(ref.Index))
				b = append(b, '}')
			}
			b = append(b, ']')
		}
	case dissect.PNDCP:
		b = appendStation(b, r)
	default:
		// a protocol plugin: what its operation names, and its fields
		b = appendInt(b, `,"unit":`, int64(r.Unit))
		b = appendInt(b, `,"address":`, int64(r.Address))
		b = appendInt(b, `,"quantity":`, int64(r.Quantity))
	}
	if len(r.Fields) > 0 {
		b = append(b, `,"fields":{`...)
		b = append(b, r.Fields...)
		b = append(b, '}')
	}
	return b
}

// appendStation appends the NameOfStation and IP suite a PROFINET DCP
// PDU names.
func appendStation(b []byte, r *dissect.Result) []byte {
	if len(r.Station) > 0 {
		b = append(b, `,"station":`...)
		b = appendJSONString(b, r.Station)
	}
	if r.HasStationIP {
		b = appendIP4(append(b, `,"ip":"`...), r.StationIP[0:4])
		b = appendIP4(append(b, `","mask":"`...), r.StationIP[4:8])
		b = appendIP4(append(b, `","gateway":"`...), r.StationIP[8:12])
		b = append(b, '"')
	}
	return b
}

// appendDNP3 appends a DNP3 PDU's object headers and CROBs.
func appendDNP3(b []byte, r *dissect.Result) []byte {
	if hs := r.DNP3Headers(); len(hs) > 0 {
		b = append(b, `,"objects":[`...)
		for i, h := range hs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"group":`...)
			b = appendUdec(b, uint64(h.Group))
			b = append(b, `,"variation":`...)
			b = appendUdec(b, uint64(h.Variation))
			b = append(b, `,"qualifier":`...)
			b = appendUdec(b, uint64(h.Qualifier))
			switch h.Range {
			case dissect.DNP3RangeStartStop:
				b = append(b, `,"start":`...)
				b = appendUdec(b, uint64(h.Start))
				b = append(b, `,"stop":`...)
				b = appendUdec(b, uint64(h.Stop))
			case dissect.DNP3RangeCount:
				b = append(b, `,"count":`...)
				b = appendUdec(b, uint64(h.Count))
			case dissect.DNP3RangeAll:
				b = append(b, `,"all":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if cs := r.DNP3Controls(); len(cs) > 0 {
		b = append(b, `,"controls":[`...)
		for i, c := range cs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"index":`...)
			b = appendUdec(b, uint64(c.Index))
			b = append(b, `,"code":`...)
			b = appendUdec(b, uint64(c.Code))
			b = append(b, `,"operation":"`...)
			b = append(b, dissect.DNP3ControlName(c.Code)...)
			b = append(b, `","count":`...)
			b = appendUdec(b, uint64(c.Count))
			b = append(b, `,"on_ms":`...)
			b = appendUdec(b, uint64(c.OnTime))
			b = append(b, `,"off_ms":`...)
			b = appendUdec(b, uint64(c.OffTime))
			if c.Status != 0 {
				b = append(b, `,"status":`...)
				b = appendUdec(b, uint64(c.Status))
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return b
}

// appendCIPPath appends a CIP request path's class, instance, attribute
// and symbolic tag.
func appendCIPPath(b []byte, class, instance, attribute int32, tag []byte) []byte {
	b = appendInt(b, `,"class":`, int64(class))
	b = appendInt(b, `,"instance":`, int64(instance))
	b = appendInt(b, `,"attribute":`, int64(attribute))
	if len(tag) > 0 {
		b = append(b, `,"tag":`...)
		b = appendJSONString(b, tag)
	}
	return b
}

// appendS7 appends an S7 PDU's userdata function, variables and block.
func appendS7(b []byte, r *dissect.Result) []byte {
	if r.Group >= 0 {
		b = append(b, `,"group":`...)
		b = appendDec(b, int64(r.Group))
		b = append(b, `,"subfunction":`...)
		b = appendDec(b, int64(r.Subfunction))
		if n := dissect.S7UserdataName(r.Group, r.Subfunction); n != "" {
			b = append(b, `,"userdata_name":"`...)
			b = append(b, n...)
			b = append(b, '"')
		}
	}
	if its := r.S7Items(); len(its) > 0 {
		b = append(b, `,"items":[`...)
		for i, it := range its {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"area":`...)
			b = appendUdec(b, uint64(it.Area))
			if n := dissect.S7AreaName(it.Area); n != "" {
				b = append(b, `,"area_name":"`...)
				b = append(b, n...)
				b = append(b, '"')
			}
			if it.Area == 0x84 || it.Area == 0x85 {
				b = append(b, `,"db":`...)
				b = appendUdec(b, uint64(it.DB))
			}
			b = append(b, `,"address":`...)
			b = appendUdec(b, uint64(it.Address))
			if it.Bit != 0 {
				b = append(b, `,"bit":`...)
				b = appendUdec(b, uint64(it.Bit))
			}
			b = append(b, `,"size":`...)
			b = appendUdec(b, uint64(it.Size))
			b = append(b, `,"count":`...)
			b = appendUdec(b, uint64(it.Count))
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.Block.Type != 0 {
		b = append(b, `,"block":{"type":"`...)
		b = append(b, dissect.S7BlockTypeName(r.Block.Type)...)
		b = append(b, `","number":`...)
		b = appendDec(b, int64(r.Block.Number))
		b = append(b, '}')
	}
	return b
}

// appendTime appends t (unix nanoseconds) as RFC 3339 UTC with
// nanoseconds, trailing zeros trimmed (time.RFC3339Nano), formatting the
// date once per day. The time of day and the fraction are formatted
// eight bytes at a time (clock8, digits8): a handful of multiplies
// instead of a division and two table lookups per digit pair: about
// half the instructions.
func (l *opLog) appendTime(b []byte, t int64) []byte {
	sec, ns := t/1e9, t%1e9
	if ns < 0 {
		sec, ns = sec-1, ns+1e9
	}
	day, sod := sec/86400, sec%86400
	if sod < 0 {
		day, sod = day-1, sod+86400
	}
	if day != l.day {
		l.day = day
		l.dayText = time.Unix(day*86400, 0).UTC().AppendFormat(l.dayText[:0], "2006-01-02T")
		if len(l.dayText) == 11 {
			l.dayWord = binary.LittleEndian.Uint64(l.dayText)
		}
	}
	if t := l.dayText; len(t) == 11 {
		// a four-digit year: a word and three bytes, stored in place (an
		// append of the slice calls memmove)
		b = binary.LittleEndian.AppendUint64(b, l.dayWord)
		b = append(b, t[8], t[9], t[10])
	} else {
		b = append(b, l.dayText...)
	}
	b = binary.LittleEndian.AppendUint64(b, clock8(uint64(sod)))
	if ns != 0 {
		// the first digit, then the other eight up to the last that is
		// not 0: all eight are stored, the zeros cut off after
		d := digits8(uint64(ns % 1e8))
		b = append(b, '.', byte('0'+ns/1e8))
		n := 8 - bits.LeadingZeros64(d)/8
		b = binary.LittleEndian.AppendUint64(b, d+'0'*ones8)
		b = b[:len(b)-8+n]
	}
	return append(b, 'Z')
}

// ones8 has 1 in each byte.
const ones8 = 0x0101010101010101

// clock8 is "hh:mm:ss" for the second of the day sod (below 86400), the
// first byte in the low byte. The hours, minutes and seconds go to 16-bit
// lanes at bytes 0, 3 and 6; x*103>>10 is x/10 for x below 100 (and
// x*103 fits its lane), so one multiply splits all three into tens and
// units, which go to bytes 0, 1; 3, 4; 6, 7.
func clock8(sod uint64) uint64 {
	const tensMask = 0xf | 0xf<<24 | 0xf<<48
	z := sod/3600 | sod/60%60<<24 | sod%60<<48
	tens := (z * 103 >> 10) & tensMask
	return (tens | (z-tens*10)<<8) + 0x30303a30303a3030 // '0' in the digits' bytes, ':' in bytes 2 and 5
}

// digits8 is the eight decimal digits of v (below 1e8), one per byte as
// a number 0-9, the first in the low byte: the two halves of four digits
// go to 32-bit lanes, split into pairs (x*10486>>20 is x/100 for x below
// 10000) in 16-bit lanes, and those into digits (x*103>>10 is x/10 for x
// below 100); no lane's product reaches the next lane.
func digits8(v uint64) uint64 {
	z := v/10000 | v%10000<<32
	hundreds := (z * 10486 >> 20) & (0x7f | 0x7f<<32)
	z = hundreds | (z-hundreds*100)<<16
	tens := (z * 103 >> 10) & 0x000f000f000f000f
	return tens | (z-tens*10)<<8
}

func appendResult(b []byte, status int) []byte {
	switch {
	case status == 0:
		return append(b, `"ok"`...)
	case status > 0:
		return append(b, `"error"`...)
	}
	return append(b, `"response"`...)
}

func appendInt(b []byte, key string, v int64) []byte {
	if v < 0 {
		return b
	}
	b = append(b, key...)
	return appendUdec(b, uint64(v))
}

// digitPairs holds "00" to "99", for appendUdec.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendUdec appends v in decimal, as strconv.AppendUint(b, v, 10) does,
// but writing the digits in place: most numbers in a record are small,
// and copying each from a scratch buffer costs more than formatting it.
func appendUdec(b []byte, v uint64) []byte {
	switch {
	case v < 10:
		return append(b, byte('0'+v))
	case v < 100:
		return append(b, digitPairs[2*v], digitPairs[2*v+1])
	case v < 1000:
		q, r := v/100, v%100
		return append(b, byte('0'+q), digitPairs[2*r], digitPairs[2*r+1])
	case v < 10000:
		q, r := v/100, v%100
		return append(b, digitPairs[2*q], digitPairs[2*q+1], digitPairs[2*r], digitPairs[2*r+1])
	case v < 100000:
		q, m := v/10000, v%10000
		h, r := m/100, m%100
		return append(b, byte('0'+q), digitPairs[2*h], digitPairs[2*h+1], digitPairs[2*r], digitPairs[2*r+1])
	}
	return strconv.AppendUint(b, v, 10)
}

// appendDec appends v in decimal (strconv.AppendInt(b, v, 10)).
func appendDec(b []byte, v int64) []byte {
	if v < 0 {
		return strconv.AppendInt(b, v, 10)
	}
	return appendUdec(b, uint64(v))
}

// appendJSONString appends s as a JSON string (RFC 8259 §7), at most
// maxLoggedString bytes of it: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s []byte) []byte {
	const hexd = "0123456789abcdef"
	if len(s) > maxLoggedString {
		s = s[:maxLoggedString]
	}
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// convCache holds the middle of the records of the conversations written
// lately, `","protocol":"modbus","client":{...},"server":{...}`, in a
// small direct-mapped table by the ends, protocol and MAC addresses: the
// records of a conversation format it once, and each copies it whole
// (a comparison of seven words and one copy, where formatting it afresh,
// or from each end's text cached apart, cost five appends and two
// lookups).
type convCache struct {
	slots [convSlots]convSlot
}

const convSlots = 256

// convKey is a record's ends, protocol and MAC addresses packed in words
// (compared one by one: a comparison of the fields as a struct costs a
// call).
type convKey struct {
	client0, client1, server0, server1 uint64 // the addresses' bytes
	ports                              uint64 // ports, protocol, address lengths, hasMAC
	macs0, macs1                       uint64 // client MAC, server MAC
}

type convSlot struct {
	key  convKey
	name string // the protocol's name (a plugin's id may be given to another)
	n    uint16 // text length; 0: empty
	text [320]byte
}

// append appends the protocol and ends of e's record.
func (c *convCache) append(b []byte, e *opEntry) []byte {
	var has uint64
	if e.hasMAC {
		has = 1
	}
	le := binary.LittleEndian
	k := convKey{
		client0: le.Uint64(e.key.client.B[0:8]), client1: le.Uint64(e.key.client.B[8:16]),
		server0: le.Uint64(e.key.server.B[0:8]), server1: le.Uint64(e.key.server.B[8:16]),
		ports: uint64(e.key.cport) | uint64(e.key.sport)<<16 | uint64(e.key.proto)<<32 | uint64(e.key.client.Len)<<40 |
			uint64(e.key.server.Len)<<48 | has<<56,
		macs0: uint64(le.Uint32(e.cmac[0:4])) | uint64(le.Uint16(e.cmac[4:6]))<<32 | uint64(le.Uint16(e.smac[0:2]))<<48,
		macs1: uint64(le.Uint32(e.smac[2:6])),
	}
	name := e.proto
	h := (k.client0 ^ k.client1*0x9e3779b97f4a7c15 ^ k.server0*0x165667b19e3779f9 ^ k.server1 ^ k.ports ^ k.macs0 ^ k.macs1<<13) *
		0xc2b2ae3d27d4eb4f
	s := &c.slots[h>>56] // the top eight bits: one of convSlots
	if s.n == 0 || s.key.client0 != k.client0 || s.key.client1 != k.client1 || s.key.server0 != k.server0 ||
		s.key.server1 != k.server1 || s.key.ports != k.ports || s.key.macs0 != k.macs0 || s.key.macs1 != k.macs1 || s.name != name {
		t := appendConv(s.text[:0], name, e)
		if len(t) > len(s.text) {
			s.n = 0 // longer than the slot: not kept
			return append(b, t...)
		}
		s.key, s.name, s.n = k, name, uint16(len(t))
	}
	return append(b, s.text[:s.n]...)
}

// appendConv appends the protocol (by its name) and ends of e's record.
func appendConv(b []byte, name string, e *opEntry) []byte {
	b = append(b, `","protocol":"`...)
	b = append(b, name...)
	b = append(b, `","client":`...)
	b = appendEnd(b, e.key.client, e.key.cport, e.cmac, e.hasMAC)
	b = append(b, `,"server":`...)
	return appendEnd(b, e.key.server, e.key.sport, e.smac, e.hasMAC)
}

// appendEnd appends one end of an operation: its IP address and port,
// and its MAC address on Ethernet; an end of a link-layer protocol
// (PROFINET DCP) has only its MAC address.
func appendEnd(b []byte, a decode.Addr, port uint16, mac [6]byte, hasMAC bool) []byte {
	b = append(b, '{')
	if a.Len == 4 || a.Len == 16 {
		b = append(b, `"ip":"`...)
		if a.Len == 4 {
			b = appendIP4(b, a.B[:4])
		} else {
			b = netip.AddrFrom16(a.B).AppendTo(b)
		}
		b = append(b, `","port":`...)
		b = appendUdec(b, uint64(port))
		if hasMAC {
			b = append(b, ',')
		}
	}
	if hasMAC {
		b = append(b, `"mac":"`...)
		const hexd = "0123456789abcdef"
		for i, c := range mac {
			if i > 0 {
				b = append(b, ':')
			}
			b = append(b, hexd[c>>4], hexd[c&15])
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendIP4 appends a dotted-quad IPv4 address.
func appendIP4(b []byte, a []byte) []byte {
	for i, c := range a[:4] {
		if i > 0 {
			b = append(b, '.')
		}
		switch {
		case c >= 100:
			b = append(b, '0'+c/100, '0'+c/10%10, '0'+c%10)
		case c >= 10:
			b = append(b, '0'+c/10, '0'+c%10)
		default:
			b = append(b, '0'+c)
		}
	}
	return b
}

// appendHex64 appends v as 16 lower-case hex digits, eight at a time:
// each 32-bit half's nibbles are spread one per byte (nibble i to byte
// i), turned into ASCII digits by adding '0', plus 'a'-'0'-10 where the
// nibble is above 9 (nibble+6 carries into bit 4 exactly then), and
// stored big-endian so the high digit comes first. No byte carries into
// the next (15+'0'+39 < 256). It saves a table lookup and a capacity
// check per digit (TestAppendHex64 compares it with strconv).
func appendHex64(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b, hex8(uint32(v>>32))), hex8(uint32(v)))
}

// hex8 is the eight hex digits of v, the last in the low byte.
func hex8(v uint32) uint64 {
	const ones = 0x0101010101010101
	x := uint64(v)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f
	over9 := (x + 6*ones) >> 4 & ones
	return x + '0'*ones + over9*('a'-'0'-10)
}

// cipMemo keeps the objects of CIP requests rendered lately (the members
// after the transaction id: the request path, and every service a
// Multiple Service Packet or Unconnected Send carries). A scanner polls
// the same Multiple Service Packet, up to 14 services and 677 bytes of
// record, on every cycle; only the services' data changes. A request
// whose path and services (codes, paths and tags) equal an earlier one's
// has the same object, which is copied instead of rendered again: the
// comparison costs a few instructions per service where rendering one
// costs a hundred and more. The fields are compared in full, never by a
// hash a sender could aim at; the comparison reads exactly the fields
// appendObjectFields renders for ENIP (a test renders both on every hit:
// checkMemo).
//
// A small set-associative table by the server end: the requests a
// scanner sends one adapter in turn (the benchmark's scanner sends each
// adapter 7 to 10 different ones) share a set of memoWays.
type cipMemo struct {
	ways [memoSets * memoWays]memoWay
	tick uint32 // a clock of lookups, for replacing the least recently used way
}

const (
	memoSets    = 16
	memoWays    = 8
	memoMaxTags = 1024 // requests with more tag bytes are rendered every time
	memoMaxObj  = 4096 // so are longer objects
)

type memoWay struct {
	used                       uint32 // tick of the last use; 0: empty
	class, instance, attribute int32
	more                       int
	tag                        []byte
	services                   []dissect.CIPService // their tags in tags
	tags                       []byte
	text                       []byte // the object
}

// appendCIP appends the object of the CIP request r after its
// transaction id: from the memo when a request to the same server end
// had the same path and services; check renders it afresh too and
// panics if the two differ.
func (m *cipMemo) appendCIP(b []byte, k *opKey, r *dissect.Result, check bool) []byte {
	m.tick++
	ways := m.set(k)
	victim := &ways[0]
	n := len(r.CIPServices())
	for i := range ways {
		w := &ways[i]
		if w.used != 0 && len(w.services) == n && w.class == r.Class && w.matches(r) {
			w.used = m.tick
			if check {
				if fresh := appendObjectFields(nil, r); !bytes.Equal(fresh, w.text) {
					panic("operations log: memoised CIP object " + string(w.text) + " for a request rendered " + string(fresh))
				}
			}
			return append(b, w.text...)
		}
		if w.used < victim.used {
			victim = w
		}
	}
	start := len(b)
	b = appendObjectFields(b, r)
	victim.keep(m.tick, r, b[start:])
	return b
}

// matches reports whether r's path and services are the ones w was
// rendered from.
func (w *memoWay) matches(r *dissect.Result) bool {
	ss := r.CIPServices()
	if w.class != r.Class || w.instance != r.Instance || w.attribute != r.Attribute || len(w.services) != len(ss) ||
		w.more != r.MoreCIPServices() || !bytes.Equal(w.tag, r.Tag) {
		return false
	}
	for i := range ss {
		s, t := &ss[i], &w.services[i]
		if s.Service != t.Service || s.Class != t.Class || s.Instance != t.Instance || s.Attribute != t.Attribute ||
			len(s.Tag) != len(t.Tag) || len(s.Tag) > 0 && !bytes.Equal(s.Tag, t.Tag) {
			return false
		}
	}
	return true
}

// keep stores in w the object text rendered from r, unless its tags or
// text are longer than the way holds (then w is left empty).
func (w *memoWay) keep(tick uint32, r *dissect.Result, text []byte) {
	w.used = 0
	ss := r.CIPServices()
	n := len(r.Tag)
	for i := range ss {
		n += len(ss[i].Tag)
	}
	if n > memoMaxTags || len(text) > memoMaxObj {
		return
	}
	if w.tags == nil {
		// allocated once, at their largest, so the memo allocates
		// nothing once its ways are in use (and the tags slices into
		// w.tags stay valid)
		w.tags, w.text = make([]byte, 0, memoMaxTags), make([]byte, 0, memoMaxObj)
		w.services = make([]dissect.CIPService, 0, dissect.MaxCIPServices)
	}
	w.tags = append(w.tags[:0], r.Tag...)
	w.tag = w.tags[:len(r.Tag)]
	w.services = append(w.services[:0], ss...)
	for i := range w.services {
		if t := &w.services[i]; len(t.Tag) > 0 {
			at := len(w.tags)
			w.tags = append(w.tags, t.Tag...)
			t.Tag = w.tags[at:len(w.tags)]
		}
	}
	w.class, w.instance, w.attribute, w.more = r.Class, r.Instance, r.Attribute, r.MoreCIPServices()
	w.text = append(w.text[:0], text...)
	w.used = tick
}

// set is the set of ways where the requests to k's server end are kept.
func (m *cipMemo) set(k *opKey) []memoWay {
	h := (binary.LittleEndian.Uint64(k.server.B[0:8]) ^ binary.LittleEndian.Uint64(k.server.B[8:16])*0x9e3779b97f4a7c15 ^
		uint64(k.sport)<<48) * 0xc2b2ae3d27d4eb4f
	i := int(h>>60) * memoWays // the top four bits: one of memoSets sets
	return m.ways[i : i+memoWays : i+memoWays]
}
