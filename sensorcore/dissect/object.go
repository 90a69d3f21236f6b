package dissect

import (
	"strconv"
	"sync"
)

// What an operation addresses (its "object"), for the operations log and
// the evidence of alerts. Each protocol fills the part that is its own;
// the arrays live in the Result and are reused PDU after PDU, so decoding
// objects allocates nothing. Fields that alerts need (CROB points, the CIP
// class of a firmware transfer, the S7 block of a download) are filled on
// every PDU that carries them; the rest only when Result.Log is set (the
// operations log is on), so analysis without the log does not pay for it.

// Bounds of the objects kept per PDU; a PDU holding more is still decoded
// and validated, only the first ones are kept.
const (
	MaxDNP3Headers  = 8
	MaxDNP3Controls = 8
	MaxCIPServices  = 32
	MaxS7Items      = 8
	MaxBACnetRefs   = 8
)

// DNP3 range kinds of an object header (IEEE 1815-2012 §4.2.2.7.3, table
// 4-10): indexes Start..Stop, a Count of objects, or all objects.
const (
	DNP3RangeStartStop = iota + 1
	DNP3RangeCount
	DNP3RangeAll
)

// DNP3Header is one object header of a DNP3 application fragment:
// group, variation and qualifier (IEEE 1815-2012 §4.2.2.7), with the
// range the qualifier's range specifier gives.
type DNP3Header struct {
	Group, Variation, Qualifier uint8
	Range                       uint8 // DNP3RangeStartStop, DNP3RangeCount or DNP3RangeAll
	Start, Stop                 uint32
	Count                       uint32
}

// DNP3Control is one Control Relay Output Block (group 12 variation 1,
// IEEE 1815-2012 §A.8.1): the point index and its control code (bits 0-3
// operation type, 0x10 queue, 0x20 clear, bits 6-7 trip/close code),
// count, on and off times (ms) and status.
type DNP3Control struct {
	Index           uint32
	Code, Count     uint8
	Status          uint8
	OnTime, OffTime uint32
}

// CIPService is one CIP request: its service and the logical segments of
// its request path (CIP Vol 1 appendix C-1.4.2): class, instance and
// attribute, -1 when the path does not name them. Tag is a symbolic
// segment's name (ANSI extended symbol 0x91), aliasing the PDU.
type CIPService struct {
	Service                    uint8
	Class, Instance, Attribute int32
	Tag                        []byte
}

// S7Item is one variable of a read-var or write-var job (any-pointer
// syntax 0x10, s7comm.c "dissect_param_item"): area (0x84 data block,
// 0x81 inputs, 0x82 outputs, 0x83 flags, ...), data block number, start
// byte address and bit, transport size and count.
type S7Item struct {
	Area    uint8
	Size    uint8 // transport size (1 bit, 2 byte, 4 word, ...)
	Bit     uint8
	DB      uint16
	Count   uint16
	Address uint32 // byte address
}

// S7Block is the block a download, upload or PI service names: type
// ('8' OB, 'A' DB, 'B' SDB, 'C' FC, 'D' SFC, 'E' FB, 'F' SFB, s7comm.c
// "blocktype_names") and number, from a file name such as "_0A00001P".
type S7Block struct {
	Type   byte
	Number int32
}

// BACnetRef is one object and property a BACnet service names
// (ANSI/ASHRAE 135-2020 §21: BACnetObjectIdentifier, 10-bit type and
// 22-bit instance; property identifier; array index, -1 when none).
// Property is -1 when the service names only the object.
type BACnetRef struct {
	Type     uint16
	Instance uint32
	Property int32
	Index    int32
}

// objCounts are how many of each object array are in use.
type objCounts struct{ headers, controls, services, items, refs uint8 }

// objects holds a Result's object arrays and their counts.
type objects struct {
	n objCounts
	// MoreServices counts CIP services beyond MaxCIPServices.
	moreServices int
	headers      [MaxDNP3Headers]DNP3Header
	controls     [MaxDNP3Controls]DNP3Control
	services     [MaxCIPServices]CIPService
	items        [MaxS7Items]S7Item
	refs         [MaxBACnetRefs]BACnetRef
}

// DNP3Headers are the object headers the PDU holds (all of them, up to
// MaxDNP3Headers).
func (r *Result) DNP3Headers() []DNP3Header { return r.obj.headers[:r.obj.n.headers] }

// DNP3Controls are the CROBs a control request or its response holds.
func (r *Result) DNP3Controls() []DNP3Control { return r.obj.controls[:r.obj.n.controls] }

// CIPServices are the requests a CIP Multiple Service Packet or
// Unconnected Send carries (nested ones flattened), up to MaxCIPServices;
// MoreCIPServices counts the rest.
func (r *Result) CIPServices() []CIPService { return r.obj.services[:r.obj.n.services] }

// MoreCIPServices is how many embedded CIP requests were not kept.
func (r *Result) MoreCIPServices() int { return r.obj.moreServices }

// S7Items are the variables a read-var or write-var job names.
func (r *Result) S7Items() []S7Item { return r.obj.items[:r.obj.n.items] }

// BACnetRefs are the objects and properties a BACnet request names.
func (r *Result) BACnetRefs() []BACnetRef { return r.obj.refs[:r.obj.n.refs] }

// put stores v in the next free slot of arr, one of r's object arrays, n
// counting the slots in use, and reports whether there was one: the
// object arrays keep the first ones a PDU names and count no further (no
// allocation, whatever the PDU says). It marks the object arrays written
// (groupObjects), so that Reset clears their counts only after a PDU
// that named objects.
func put[T any](r *Result, arr []T, n *uint8, v T) bool {
	r.writes(groupObjects)
	if int(*n) >= len(arr) {
		return false
	}
	arr[*n] = v
	*n++
	return true
}

func (r *Result) addHeader(h DNP3Header) { put(r, r.obj.headers[:], &r.obj.n.headers, h) }

func (r *Result) addControl(c DNP3Control) { put(r, r.obj.controls[:], &r.obj.n.controls, c) }

func (r *Result) addItem(it S7Item) { put(r, r.obj.items[:], &r.obj.n.items, it) }

func (r *Result) addRef(ref BACnetRef) { put(r, r.obj.refs[:], &r.obj.n.refs, ref) }

// serviceSlot is the next free slot of the services array, for a service
// to be written into, or nil once MaxCIPServices are kept (the rest are
// counted).
func (r *Result) serviceSlot() *CIPService {
	r.writes(groupObjects)
	if n := r.obj.n.services; int(n) < len(r.obj.services) {
		r.obj.n.services++
		return &r.obj.services[n]
	}
	r.obj.moreServices++
	return nil
}

// DNP3ControlName names a CROB control code (IEEE 1815-2012 §A.8.1.3:
// operation type, then the trip/close code when set, then QUEUE and
// CLEAR): "PULSE_ON", "LATCH_OFF", "PULSE_ON CLOSE", "NUL TRIP CLEAR".
func DNP3ControlName(code uint8) string {
	return dnp3ControlNames()[code]
}

// dnp3ControlNames is every control code's name, made on first use (at
// start-up it cost 449 allocations at every start of sensorcore).
var dnp3ControlNames = sync.OnceValue(func() *[256]string {
	var out [256]string
	ops := [...]string{"NUL", "PULSE_ON", "PULSE_OFF", "LATCH_ON", "LATCH_OFF"}
	tcc := [...]string{"", " CLOSE", " TRIP", " RESERVED"}
	for c := 0; c < 256; c++ {
		op := "OP_" + strconv.Itoa(c&0x0f)
		if c&0x0f < len(ops) {
			op = ops[c&0x0f]
		}
		s := op + tcc[c>>6]
		if c&0x10 != 0 {
			s += " QUEUE"
		}
		if c&0x20 != 0 {
			s += " CLEAR"
		}
		out[c] = s
	}
	return &out
})

// S7AreaName names an S7 memory area (s7comm.c "item_areanames").
func S7AreaName(a uint8) string {
	switch a {
	case 0x03:
		return "SYSINFO"
	case 0x05:
		return "SYSFLAGS"
	case 0x06:
		return "ANAIN"
	case 0x07:
		return "ANAOUT"
	case 0x1c:
		return "C"
	case 0x1d:
		return "T"
	case 0x1e:
		return "IEC counter"
	case 0x1f:
		return "IEC timer"
	case 0x80:
		return "P"
	case 0x81:
		return "I"
	case 0x82:
		return "Q"
	case 0x83:
		return "M"
	case 0x84:
		return "DB"
	case 0x85:
		return "DI"
	case 0x86:
		return "L"
	case 0x87:
		return "V"
	}
	return ""
}

// S7BlockTypeName names an S7 block type ('8' OB ... 'F' SFB).
func S7BlockTypeName(t byte) string {
	switch t {
	case '8':
		return "OB"
	case 'A':
		return "DB"
	case 'B':
		return "SDB"
	case 'C':
		return "FC"
	case 'D':
		return "SFC"
	case 'E':
		return "FB"
	case 'F':
		return "SFB"
	}
	return ""
}
