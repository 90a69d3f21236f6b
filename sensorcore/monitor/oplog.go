package monitor

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// The operations log: one record per OT operation (a request, paired with
// its response when one is seen), written as JSON lines (docs/monitoring.md
// "Operations log"). Records are encoded by hand into a reused buffer, so
// logging allocates nothing per operation, and a PDU that is no operation
// (an IT protocol, a malformed run) costs one branch.

// maxLoggedValues bounds the written values kept per operation.
const maxLoggedValues = 32

// opSlots is the size of the table of requests waiting for a response
// (a power of two). A request whose slot is taken by a newer one is
// written without a response.
const opSlots = 4096

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
	used     bool
	key      opKey
	id       uint64
	at       int64 // request time, unix nanoseconds
	fc       int32
	action   dissect.Action
	unit     int32
	address  int32
	quantity int32
	object   int32
	cause    int16
	nvals    uint8
	vals     [maxLoggedValues]uint16
	cmac     [6]byte
	smac     [6]byte
	hasMAC   bool
	// fields are a plugin request's logged fields (dissect.Result.Fields),
	// in a buffer the slot keeps from request to request.
	fields []byte
}

// opLog pairs requests and responses and writes the records.
type opLog struct {
	w     io.Writer
	buf   []byte
	slots []opEntry
	seed  uint64
	err   error
	// ends cache the last client and server objects formatted.
	ends [2]endCache
	// sec and secText cache the formatted second of the last record.
	sec     int64
	secText []byte
	// Written counts records written.
	Written uint64
}

func newOpLog(w io.Writer) *opLog {
	return &opLog{w: w, buf: make([]byte, 0, 64<<10), slots: make([]opEntry, opSlots), seed: rand.Uint64(), sec: -1}
}

// slot is where the pair k waits: a multiply-xor hash of the key's words
// (keyed by a per-log seed, so a sender cannot aim collisions at it from
// one run to the next).
func (l *opLog) slot(k *opKey) *opEntry {
	const m1, m2, m3, m4 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0xd6e8feb86659fd93
	h := l.seed ^ binary.LittleEndian.Uint64(k.client.B[0:8])*m1 ^ binary.LittleEndian.Uint64(k.client.B[8:16])*m2 ^
		binary.LittleEndian.Uint64(k.server.B[0:8])*m3 ^ binary.LittleEndian.Uint64(k.server.B[8:16])*m4 ^
		(uint64(k.cport)<<48|uint64(k.sport)<<32|uint64(uint32(k.txn)))*m1 ^ uint64(k.proto)*m2
	h ^= h >> 29
	h *= m3
	h ^= h >> 32
	return &l.slots[h&(opSlots-1)]
}

// observe logs the PDU in r: a request waits for its response (or is
// written at once when its protocol pairs nothing), a response completes
// its request or is written alone.
func (l *opLog) observe(now int64, pkt *decode.Packet, r *dissect.Result, malformed bool) {
	if malformed || r.Function < 0 || !dissect.IsIndustrial(r.Proto) || (!r.Request && !r.Response) {
		return
	}
	var k opKey
	k.proto, k.txn = r.Proto, int32(r.Txn)
	if r.Request {
		k.client, k.server, k.cport, k.sport = pkt.Src, pkt.Dst, pkt.SrcPort, pkt.DstPort
	} else {
		k.client, k.server, k.cport, k.sport = pkt.Dst, pkt.Src, pkt.DstPort, pkt.SrcPort
	}
	if r.Request {
		e := l.slot(&k)
		if e.used {
			l.write(e, true, 0, -1) // its response never came, or the slot is wanted
		}
		fields := append(e.fields[:0], r.Fields...)
		*e = opEntry{fields: fields, used: true, key: k, at: now, fc: int32(r.Function), action: r.Action,
			unit: int32(r.Unit), address: int32(r.Address), quantity: int32(r.Quantity), object: int32(r.Object), cause: int16(r.Cause)}
		e.id = dissect.OperationID(now, k.client, k.server, k.cport, k.sport, k.proto, r.Function, int(k.txn))
		e.nvals = uint8(copy(e.vals[:], r.Values))
		if pkt.HasEth {
			e.cmac, e.smac, e.hasMAC = pkt.SrcMAC, pkt.DstMAC, true
		}
		if r.Txn < 0 {
			l.write(e, true, 0, -1) // nothing to pair on
			e.used = false
		}
		return
	}
	if r.Txn >= 0 {
		if e := l.slot(&k); e.used && e.key == k {
			l.write(e, true, now, r.Status)
			e.used = false
			return
		}
	}
	// a response whose request was not seen
	e := opEntry{fields: r.Fields, key: k, at: now, fc: int32(r.Function), action: r.Action, unit: int32(r.Unit),
		address: int32(r.Address), quantity: int32(r.Quantity), object: int32(r.Object), cause: int16(r.Cause)}
	e.id = dissect.OperationID(now, k.client, k.server, k.cport, k.sport, k.proto, r.Function, int(k.txn))
	if pkt.HasEth {
		e.cmac, e.smac, e.hasMAC = pkt.DstMAC, pkt.SrcMAC, true
	}
	l.write(&e, false, now, r.Status)
}

// flush writes the requests still waiting (no response seen) and the
// buffer.
func (l *opLog) flush(final bool) error {
	if final {
		for i := range l.slots {
			if e := &l.slots[i]; e.used {
				l.write(e, true, 0, -1)
				e.used = false
			}
		}
	}
	if len(l.buf) > 0 && l.err == nil {
		_, l.err = l.w.Write(l.buf)
	}
	l.buf = l.buf[:0]
	return l.err
}

// write appends the record of e to the buffer: its request was seen or
// not, its response came at respAt (0: none) with status (-1: none).
func (l *opLog) write(e *opEntry, requested bool, respAt int64, status int) {
	b := l.buf
	b = append(b, `{"id":"`...)
	b = appendHex64(b, e.id)
	b = append(b, `","time":"`...)
	b = l.appendTime(b, e.at)
	b = append(b, `","protocol":"`...)
	b = append(b, dissect.Name(e.key.proto)...)
	b = append(b, `","client":`...)
	b = l.ends[0].append(b, e.key.client, e.key.cport, e.cmac, e.hasMAC)
	b = append(b, `,"server":`...)
	b = l.ends[1].append(b, e.key.server, e.key.sport, e.smac, e.hasMAC)
	if e.fc >= 0 {
		b = append(b, `,"function":`...)
		b = strconv.AppendInt(b, int64(e.fc), 10)
		if n := dissect.FunctionName(e.key.proto, int(e.fc)); n != "" {
			b = append(b, `,"function_name":"`...)
			b = append(b, n...) // registry names are plain ASCII (TestNamesPlain)
			b = append(b, '"')
		}
	}
	if e.action != dissect.ActNone {
		b = append(b, `,"action":"`...)
		b = append(b, dissect.ActionName(e.action)...)
		b = append(b, '"')
	}
	b = appendInt(b, `,"transaction":`, int64(e.key.txn))
	b = appendInt(b, `,"unit":`, int64(e.unit))
	b = appendInt(b, `,"address":`, int64(e.address))
	b = appendInt(b, `,"quantity":`, int64(e.quantity))
	if e.object > 0 {
		b = append(b, `,"object":{"group":`...)
		b = strconv.AppendInt(b, int64(e.object>>8), 10)
		b = append(b, `,"variation":`...)
		b = strconv.AppendInt(b, int64(e.object&0xff), 10)
		b = append(b, '}')
	}
	b = appendInt(b, `,"cause":`, int64(e.cause))
	if len(e.fields) > 0 {
		b = append(b, `,"fields":{`...)
		b = append(b, e.fields...)
		b = append(b, '}')
	}
	if e.nvals > 0 {
		b = append(b, `,"values":[`...)
		for i := 0; i < int(e.nvals); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(e.vals[i]), 10)
		}
		b = append(b, ']')
	}
	switch {
	case requested && respAt == 0 && e.key.txn < 0:
		b = append(b, `,"result":"unpaired"`...) // the protocol carries no transaction id to pair on
	case requested && respAt == 0:
		b = append(b, `,"result":"no response"`...)
	case !requested:
		b = append(b, `,"request_seen":false,"result":`...)
		b = appendResult(b, status)
	default:
		b = append(b, `,"result":`...)
		b = appendResult(b, status)
		b = append(b, `,"latency_us":`...)
		b = strconv.AppendInt(b, (respAt-e.at)/1000, 10)
	}
	if status > 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	b = append(b, "}\n"...)
	l.buf = b
	l.Written++
	if len(b) > 60<<10 {
		l.flush(false)
	}
}

// appendTime appends t (unix nanoseconds) as RFC 3339 UTC with
// nanoseconds, trailing zeros trimmed (time.RFC3339Nano), formatting the
// date and time of day once per second.
func (l *opLog) appendTime(b []byte, t int64) []byte {
	sec, ns := t/1e9, t%1e9
	if ns < 0 {
		sec, ns = sec-1, ns+1e9
	}
	if sec != l.sec {
		l.sec = sec
		l.secText = time.Unix(sec, 0).UTC().AppendFormat(l.secText[:0], "2006-01-02T15:04:05")
	}
	b = append(b, l.secText...)
	if ns != 0 {
		var d [10]byte
		d[0] = '.'
		for i := 9; i >= 1; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, 'Z')
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
	return strconv.AppendInt(b, v, 10)
}

// endCache holds the last end formatted, so the records of one
// conversation format its ends once.
type endCache struct {
	addr   decode.Addr
	port   uint16
	mac    [6]byte
	hasMAC bool
	text   []byte
}

func (c *endCache) append(b []byte, a decode.Addr, port uint16, mac [6]byte, hasMAC bool) []byte {
	if c.text == nil || c.addr != a || c.port != port || c.mac != mac || c.hasMAC != hasMAC {
		c.addr, c.port, c.mac, c.hasMAC = a, port, mac, hasMAC
		c.text = appendEnd(c.text[:0], a, port, mac, hasMAC)
	}
	return append(b, c.text...)
}

func appendEnd(b []byte, a decode.Addr, port uint16, mac [6]byte, hasMAC bool) []byte {
	b = append(b, `{"ip":"`...)
	switch a.Len {
	case 4:
		b = netip.AddrFrom4([4]byte(a.B[:4])).AppendTo(b)
	case 16:
		b = netip.AddrFrom16(a.B).AppendTo(b)
	}
	b = append(b, `","port":`...)
	b = strconv.AppendUint(b, uint64(port), 10)
	if hasMAC {
		b = append(b, `,"mac":"`...)
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

func appendHex64(b []byte, v uint64) []byte {
	const hexd = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hexd[v>>uint(i)&15])
	}
	return b
}
