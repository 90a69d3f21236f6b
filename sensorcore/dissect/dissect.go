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
}

// Result is a decoded PDU's summary, reused from PDU to PDU.
type Result struct {
	Proto    uint8
	Function int  // function, service or type code; -1 when none
	Request  bool // sent by the client, master or controlling side
	Response bool
	SrcRole  Role
	DstRole  Role
	Action   Action
	HasIdent bool
	Ident    Identity
	// Extra holds further function codes found in the same PDU (CIP
	// Multiple Service Packet and Unconnected Send payloads). Its backing
	// array survives Reset, so steady-state decoding does not allocate.
	Extra []int
	// Object is the first DNP3 object header as group<<8 | variation, or 0.
	Object int
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
}

// maxValues bounds the written values kept per PDU (a Modbus Write
// Multiple Registers carries at most 123).
const maxValues = 128

// addValue appends a written value, up to maxValues.
func (r *Result) addValue(v uint16) {
	if len(r.Values) < maxValues {
		r.Values = append(r.Values, v)
	}
}

// Reset clears r for the next PDU.
func (r *Result) Reset(proto uint8) {
	extra := r.Extra[:0]
	// Field by field: clearing nameBuf on every PDU would cost more than
	// the decoding.
	r.Proto, r.Function, r.Request, r.Response = proto, -1, false, false
	r.SrcRole, r.DstRole, r.Action, r.HasIdent = 0, 0, ActNone, false
	r.Ident = Identity{Instance: -1}
	r.Extra, r.Object, r.Name = extra, 0, nil
	r.Unit, r.Cause = -1, -1
	r.Subject, r.HasSubject = decode.Addr{}, false
	r.Txn, r.Status, r.Address, r.Quantity = -1, -1, -1, -1
	r.Values = r.valueBuf[:0]
}

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
