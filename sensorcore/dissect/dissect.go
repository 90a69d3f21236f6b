package dissect

import (
	"errors"

	"github.com/tapline/tapline/sensorcore/decode"
)

// Built-in protocol identifiers; each protocol's file registers its
// Descriptor under its id (registry.go).
const (
	None uint8 = iota
	Modbus
	DNP3
	S7comm
	ENIP
	BACnet
	IEC104
	DHCP
	DNS
	NTP
	TLS
	HTTP
	PNDCP
	NumProtocols // built-in ids end here; plugins get ids up to MaxProtocols
)

// Malformed-PDU errors. Every one wraps ErrMalformed.
var (
	ErrMalformed = errors.New("dissect: malformed PDU")
	errShort     = malformed("dissect: PDU shorter than its header")
	errLength    = malformed("dissect: length field disagrees with PDU size")
	errField     = malformed("dissect: invalid field value")
	errCRC       = malformed("dissect: CRC mismatch")
)

// ErrPluginLimit marks a PDU a plugin gave up on because it reached one
// of its bounds (steps, repeat cap, expression cost): the PDU counts as
// malformed, and as malformed by plugin (Counter.PluginLimit).
var ErrPluginLimit = malformed("dissect: the PDU exceeds a bound of its plugin")

// Malformed returns an error that wraps ErrMalformed, for dissectors
// outside this package (plugins) to make their predeclared errors.
func Malformed(msg string) error { return malformed(msg) }

type malformedError struct{ msg string }

func malformed(msg string) error               { return &malformedError{msg} }
func (e *malformedError) Error() string        { return e.msg }
func (e *malformedError) Unwrap() error        { return ErrMalformed }
func (e *malformedError) Is(target error) bool { return target == ErrMalformed }

// Roles of the built-in protocols (see ClientRole and ServerRole).
const (
	RoleModbusClient      Role = 1 << (2 * Modbus)
	RoleModbusServer      Role = 1 << (2*Modbus + 1)
	RoleS7Client          Role = 1 << (2 * S7comm)
	RoleS7PLC             Role = 1 << (2*S7comm + 1)
	RoleDNP3Master        Role = 1 << (2 * DNP3)
	RoleDNP3Outstation    Role = 1 << (2*DNP3 + 1)
	RoleIEC104Controlling Role = 1 << (2 * IEC104)
	RoleIEC104Controlled  Role = 1 << (2*IEC104 + 1)
	RoleENIPScanner       Role = 1 << (2 * ENIP)
	RoleENIPAdapter       Role = 1 << (2*ENIP + 1)
	RoleBACnetClient      Role = 1 << (2 * BACnet)
	RoleBACnetDevice      Role = 1 << (2*BACnet + 1)
	RoleDHCPServer        Role = 1 << (2*DHCP + 1)
	RoleDNSServer         Role = 1 << (2*DNS + 1)
	RoleNTPServer         Role = 1 << (2*NTP + 1)
	RoleTLSServer         Role = 1 << (2*TLS + 1)
	RoleHTTPServer        Role = 1 << (2*HTTP + 1)
)

// Action is a security-relevant operation a PDU performs; alert rules key
// on it.
type Action uint8

// Actions.
const (
	ActNone Action = iota
	ActModbusWrite
	ActModbusRestart // diagnostics 0x08 sub-function 0x0001, restart communications
	ActS7Stop
	ActS7Start
	ActS7Download
	ActS7Upload
	ActDNP3ColdRestart
	ActDNP3WarmRestart
	ActDNP3StopApp
	ActDNP3DirectOperate
	ActIEC104Command
	ActCIPReset
	ActCIPStart
	ActCIPStop
	ActBACnetWrite
	ActBACnetReinit
	ActDNP3Select
	ActDNP3Operate
	ActCIPFirmware // a firmware transfer to a CIP device (NVS object update or transfer)
	ActS7Stopped   // an S7 PLC reports it went to STOP (mode-transition push)
	ActPNDCPSet    // a PROFINET DCP Set (re-addressing or renaming a device)
	numActions     // built-in actions end here
)

// Identity is what a PDU reveals about the device that sent it.
type Identity struct {
	Vendor   string
	VendorID int // protocol vendor id (CIP, BACnet), 0 when unknown
	Model    string
	Firmware string
	Serial   string
	Name     string
	Instance int // BACnet device instance, -1 when unknown
	// VendorClass is DHCP option 60 (RFC 2132 §9.13).
	VendorClass string
	// DeviceType and ProductCode are CIP identity attributes (0 unknown).
	DeviceType, ProductCode int
	// DeviceID is a PROFINET device id (DCP DeviceID, 0 unknown).
	DeviceID int
}

// Result is a decoded PDU's summary, reused from PDU to PDU. The fields
// of the groups Reset skips when clean (groupName...) are written only by
// the built-in dissectors that declare them.
type Result struct {
	Proto    uint8
	Function int  // function, service or type code; -1 when none
	Request  bool // sent by the client, master or controlling side
	Response bool
	SrcRole  Role
	DstRole  Role
	Action   Action
	HasIdent bool
	// Ident is written through WriteIdent, so Reset clears it only after
	// a PDU that wrote it (most PDUs never do, and clearing its strings on
	// each one cost more than a CIP service's decoding).
	Ident Identity
	clean uint8 // the field groups that hold Reset's values (groupName...)
	// Extra holds further function codes found in the same PDU (CIP
	// Multiple Service Packet and Unconnected Send payloads). Its backing
	// array survives Reset, so steady-state decoding does not allocate.
	Extra []int
	// Unit is the Modbus unit identifier (MB-TCP §3.1.3) or the IEC-104
	// common address (101 §7.2.4); Cause the IEC-104 cause of
	// transmission (101 §7.2.3). -1 when absent.
	Unit, Cause int
	// Name is a host name an IT protocol revealed (DHCP option 12, DNS
	// answer, TLS SNI, HTTP Host). It aliases the packet or nameBuf.
	Name []byte
	// Subject is the address Name belongs to when it is not the sender's
	// (the DHCP client's requested address, a DNS answer's address, the
	// server a TLS or HTTP client names).
	Subject    decode.Addr
	HasSubject bool
	nameBuf    [256]byte

	// The operation's object, for the operations log; -1 when the PDU
	// does not carry it.
	//
	// Txn pairs a request with its response (Modbus transaction id, DNP3
	// application sequence, ...). Status is a response's result: 0
	// success, else the protocol's code (Modbus exception code, ...).
	// Address and Quantity are the first data address and how many items
	// (Modbus start address and quantity, IEC-104 information object
	// address). Values are written values, aliasing valueBuf.
	Txn, Status       int
	Address, Quantity int
	Values            []uint16
	valueBuf          [maxValues]uint16

	// Notification marks a PDU sent unasked that the operations log keeps
	// as an operation of its own (a DNP3 unsolicited response, an IEC-104
	// spontaneous or periodic ASDU, an S7 push, a PROFINET DCP Identify
	// response): Response is set, and the client is its destination.
	Notification bool
	// Unconfirmed marks a BACnet unconfirmed service (whose choice codes
	// name other services than the confirmed ones).
	Unconfirmed bool
	// Class, Instance and Attribute are a CIP request's path (top level),
	// -1 when absent.
	Class, Instance, Attribute int32
	// Tag is a CIP request path's symbolic segment, aliasing the PDU.
	Tag []byte
	// Block is the S7 block a download, upload or PI service names (Type
	// 0 when none).
	Block S7Block
	// Group and Subfunction are an S7 userdata PDU's function group and
	// subfunction (-1 for other PDUs).
	Group, Subfunction int
	// Station, StationIP are a PROFINET DCP Identify response's or Set
	// request's NameOfStation (aliasing the PDU) and IP address
	// (HasStationIP).
	Station      []byte
	StationIP    [12]byte // address, mask, gateway
	HasStationIP bool
	// Op is the id of the operations log record this PDU belongs to (its
	// own, or its request's), set by the pipeline; 0 when not known.
	Op uint64
	// Log asks the dissectors for every object the operations log
	// records; it survives Reset (the pipeline sets it once).
	Log bool
	// IdentityRequest marks a CIP Get_Attributes_All to the Identity
	// object (class 1), whose reply describes the device; ReplyData is a
	// CIP reply's data (aliasing the PDU), for ParseCIPIdentity.
	IdentityRequest bool
	ReplyData       []byte
	obj             objects
	// Fields is a plugin PDU's fields for the operations log: a JSON
	// object's members (`"idcode":7,"command":1`), aliasing the plugin's
	// buffer until the next PDU. Empty for built-in protocols. Written
	// through SetFields, like Tallies through AddTally and Detail through
	// SetDetail, so that Reset clears them only after a plugin's PDU.
	Fields []byte
	// Tallies are a plugin PDU's counted field values (Descriptor.Counts).
	Tallies  []TallyKey
	tallyBuf [maxTallies]TallyKey
	// Detail is the rendered text of the alert a plugin's rule raised for
	// this PDU (with Action), nil otherwise.
	Detail *ActionDetail
	// Aux is scratch state a dissector keeps from PDU to PDU of one
	// pipeline (a plugin interpreter's values); it survives Reset.
	Aux any
}

// Logged reports whether the PDU is an operation the operations log
// records (given that its protocol is industrial and it is not
// malformed): a request, response or notification with a function (or,
// for S7 userdata, a function group), or a response that carries no
// function but answers a request by its transaction id (an S7 Ack, a
// BACnet Reject or Abort).
func (r *Result) Logged() bool {
	return (r.Request || r.Response) && (r.Function >= 0 || r.Group >= 0 || r.Response && r.Txn >= 0)
}

// TallyKey is one counted value: the field's index in Descriptor.Counts
// and its value (an integer, or a string of up to 8 bytes packed big
// endian).
type TallyKey struct {
	Field uint8
	Value int64
}

// maxTallies bounds the counted values per PDU.
const maxTallies = 8

// AddTally records a counted value, up to 8 per PDU.
func (r *Result) AddTally(field uint8, v int64) {
	r.writes(groupPlugin)
	if len(r.Tallies) < maxTallies {
		if r.Tallies == nil {
			r.Tallies = r.tallyBuf[:0]
		}
		r.Tallies = append(r.Tallies, TallyKey{field, v})
	}
}

// SetFields sets Fields, the plugin PDU's fields for the operations log.
func (r *Result) SetFields(b []byte) {
	r.writes(groupPlugin)
	r.Fields = b
}

// SetDetail sets Detail, the alert text a plugin's rule rendered.
func (r *Result) SetDetail(d *ActionDetail) {
	r.writes(groupPlugin)
	r.Detail = d
}

// ActionDetail is an alert's title and message as a plugin rule rendered
// them for one PDU, per language.
type ActionDetail struct {
	Title, Message Texts
}

// maxValues bounds the written values kept per PDU (a Modbus Write
// Multiple Registers carries at most 123).
const maxValues = 128

// addValue appends a written value, up to maxValues.
func (r *Result) addValue(v uint16) {
	if len(r.Values) < maxValues {
		if r.Values == nil {
			r.Values = r.valueBuf[:0]
		}
		r.Values = append(r.Values, v)
	}
}

// WriteIdent is Ident, for a dissector to fill.
func (r *Result) WriteIdent() *Identity {
	r.clean &^= groupIdent
	return &r.Ident
}

// Reset clears r for the next PDU.
func (r *Result) Reset(proto uint8) {
	// Field by field: clearing nameBuf on every PDU would cost more than
	// the decoding.
	//
	// The slices keep their arrays (Values and Tallies point into
	// valueBuf and tallyBuf from their first value on, Fields into the
	// plugin's buffer) and are cut to length 0, each in a statement of its
	// own: Go compiles that to a store of the length alone, where storing
	// the pointer too costs a write barrier check per slice. The object
	// arrays' counts and a plugin's fields (Fields, Tallies, Detail) are
	// field groups: most PDUs write neither.
	r.Extra = r.Extra[:0]
	r.Values = r.Values[:0]
	r.Proto, r.Function, r.Request, r.Response = proto, -1, false, false
	r.SrcRole, r.DstRole, r.Action, r.HasIdent = 0, 0, ActNone, false
	r.Op = 0
	r.Unit, r.Cause = -1, -1
	r.Txn, r.Status, r.Address, r.Quantity = -1, -1, -1, -1
	r.Notification, r.Unconfirmed = false, false
	if r.clean != allGroups {
		if r.clean&groupIdent == 0 {
			r.Ident = Identity{Instance: -1}
		}
		if r.clean&groupName == 0 {
			r.Name, r.Subject, r.HasSubject = nil, decode.Addr{}, false
		}
		if r.clean&groupCIP == 0 {
			r.Class, r.Instance, r.Attribute, r.Tag = -1, -1, -1, nil
			r.IdentityRequest, r.ReplyData = false, nil
		}
		if r.clean&groupS7 == 0 {
			r.Block, r.Group, r.Subfunction = S7Block{}, -1, -1
		}
		if r.clean&groupStation == 0 {
			r.Station, r.StationIP, r.HasStationIP = nil, [12]byte{}, false
		}
		if r.clean&groupObjects == 0 {
			r.obj.n, r.obj.moreServices = objCounts{}, 0
		}
		if r.clean&groupPlugin == 0 {
			r.Tallies = r.Tallies[:0]
			r.Fields = r.Fields[:0]
			r.Detail = nil
		}
		r.clean = allGroups
	}
}

// Groups of Result fields that only some dissectors write. Reset clears a
// group only when a dissector may have written it since the last Reset
// (Result.clean), so a PDU of any other protocol does not pay for
// clearing it: each dissector that writes one says so (writes), right
// after its Reset or where it writes the group (ENIP and S7comm, whose
// commonest PDUs write none); the identity is marked by WriteIdent,
// which plugins use too.
const (
	groupName    uint8 = 1 << iota // Name, Subject, HasSubject (DHCP, DNS, TLS, HTTP)
	groupCIP                       // Class, Instance, Attribute, Tag, IdentityRequest, ReplyData (ENIP)
	groupS7                        // Block, Group, Subfunction (S7comm)
	groupStation                   // Station, StationIP, HasStationIP (PROFINET DCP)
	groupIdent                     // Ident (through WriteIdent)
	groupObjects                   // the object arrays' counts (DNP3 headers and controls, CIP services, S7 items, BACnet references)
	groupPlugin                    // Fields, Tallies, Detail (through SetFields, AddTally, SetDetail)
	allGroups    = groupName | groupCIP | groupS7 | groupStation | groupIdent | groupObjects | groupPlugin
)

// writes says that the dissector decoding r may write the field groups
// groups, which the next Reset must then clear.
func (r *Result) writes(groups uint8) { r.clean &^= groups }

// maxExtra bounds Extra against a hostile PDU.
const maxExtra = 4096

func (r *Result) addExtra(fc int) {
	if len(r.Extra) < maxExtra {
		r.Extra = append(r.Extra, fc)
	}
}

// Counter counts one protocol's PDUs.
type Counter struct {
	PDUs      uint64
	Malformed uint64
	Functions [256]uint64
	// Wide counts function codes above 255 (a plugin's, such as an OPC UA
	// service node id); nil until one is seen.
	Wide map[int]uint64
	// PluginLimit counts the malformed PDUs a plugin gave up on at one of
	// its bounds (ErrPluginLimit).
	PluginLimit uint64
	// Tally counts a plugin's counted field values; nil until one is seen.
	Tally map[TallyKey]uint64
}

// Function counts one function code.
func (c *Counter) Function(fc int) {
	switch {
	case fc >= 0 && fc < 256:
		c.Functions[fc]++
	case fc >= 256:
		if c.Wide == nil {
			c.Wide = map[int]uint64{}
		}
		c.Wide[fc]++
	}
}

// AddTallies counts a PDU's tallied values.
func (c *Counter) AddTallies(ts []TallyKey) {
	if c.Tally == nil {
		c.Tally = map[TallyKey]uint64{}
	}
	for _, t := range ts {
		c.Tally[t]++
	}
}

// TCPProtocol frames and decodes one protocol carried over TCP.
type TCPProtocol struct {
	ID    uint8
	Ports []uint16
	// Match reports whether b starts with this protocol's header.
	Match func(b []byte) bool
	// Len returns the length of the PDU at the start of b, 0 when more bytes
	// are needed, -1 when b does not start with this protocol's header.
	Len func(b []byte) int
	// Decode decodes one framed PDU sent in direction dir.
	Decode func(b []byte, dir decode.Direction, r *Result) error
}

// L2Protocol decodes one protocol carried directly in Ethernet frames
// (no IP): what follows its EtherTypes (after any VLAN tags).
type L2Protocol struct {
	ID         uint8
	EtherTypes []uint16
	// Decode decodes one frame's payload; ErrNoPDU when the payload holds
	// no PDU to count (another use of the EtherType).
	Decode func(b []byte, dir decode.Direction, r *Result) error
}

// UDPProtocol decodes one protocol carried in UDP datagrams.
type UDPProtocol struct {
	ID    uint8
	Ports []uint16
	Match func(b []byte) bool
	// Len, when set, frames several PDUs in one datagram (DNP3).
	Len func(b []byte) int
	// PortOnly protocols are tried only on their ports, never by content
	// alone (their headers are too generic).
	PortOnly bool
	Decode   func(b []byte, dir decode.Direction, r *Result) error
}
