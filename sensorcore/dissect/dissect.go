package dissect

import (
	"errors"

	"github.com/tapline/tapline/sensorcore/decode"
)

// Protocol identifiers.
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
	NumProtocols
)

// Industrial returns the industrial protocol ids in report order: the keys
// of analyze's "protocols" object.
func Industrial() []uint8 { return []uint8{Modbus, DNP3, S7comm, ENIP, BACnet, IEC104} }

// Name is the protocol's key in reports and JSON.
func Name(p uint8) string {
	switch p {
	case Modbus:
		return "modbus"
	case DNP3:
		return "dnp3"
	case S7comm:
		return "s7comm"
	case ENIP:
		return "enip"
	case BACnet:
		return "bacnet"
	case IEC104:
		return "iec104"
	case DHCP:
		return "dhcp"
	case DNS:
		return "dns"
	case NTP:
		return "ntp"
	case TLS:
		return "tls"
	case HTTP:
		return "http"
	}
	return "unknown"
}

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

// Role is what a host does in a protocol, as a bit set.
type Role uint32

// Roles seen in traffic.
const (
	RoleModbusClient Role = 1 << iota
	RoleModbusServer
	RoleS7Client
	RoleS7PLC
	RoleDNP3Master
	RoleDNP3Outstation
	RoleIEC104Controlling
	RoleIEC104Controlled
	RoleENIPScanner
	RoleENIPAdapter
	RoleBACnetClient
	RoleBACnetDevice
	RoleDHCPServer
	RoleDNSServer
	RoleNTPServer
	RoleTLSServer
	RoleHTTPServer
)

func roleNames() []string {
	return []string{"Modbus client", "Modbus server", "S7 client", "S7 PLC", "DNP3 master", "DNP3 outstation",
		"IEC-104 controlling station", "IEC-104 controlled station", "EtherNet/IP scanner", "EtherNet/IP adapter",
		"BACnet client", "BACnet device", "DHCP server", "DNS server", "NTP server", "TLS server", "HTTP server"}
}

// RoleNames lists the names of the roles set in r.
func RoleNames(r Role) []string {
	var out []string
	for i, n := range roleNames() {
		if r&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// RoleFromNames is the inverse of RoleNames; unknown names are ignored.
func RoleFromNames(names []string) Role {
	var r Role
	all := roleNames()
	for _, n := range names {
		for i, m := range all {
			if m == n {
				r |= 1 << i
			}
		}
	}
	return r
}

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

// ActionName is a short, stable description of a.
func ActionName(a Action) string {
	switch a {
	case ActModbusWrite:
		return "Modbus write"
	case ActModbusRestart:
		return "Modbus diagnostics restart communications"
	case ActS7Stop:
		return "S7 PLC stop"
	case ActS7Start:
		return "S7 PLC start"
	case ActS7Download:
		return "S7 block download"
	case ActS7Upload:
		return "S7 block upload"
	case ActDNP3ColdRestart:
		return "DNP3 cold restart"
	case ActDNP3WarmRestart:
		return "DNP3 warm restart"
	case ActDNP3StopApp:
		return "DNP3 stop application"
	case ActDNP3DirectOperate:
		return "DNP3 direct operate without select"
	case ActIEC104Command:
		return "IEC-104 command"
	case ActCIPReset:
		return "CIP reset"
	case ActCIPStart:
		return "CIP start"
	case ActCIPStop:
		return "CIP stop"
	case ActBACnetWrite:
		return "BACnet write-property"
	case ActBACnetReinit:
		return "BACnet reinitialize-device"
	}
	return ""
}

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

// TCPProtocols lists the TCP protocols in the order content matching tries
// them.
func TCPProtocols() []TCPProtocol {
	return []TCPProtocol{
		{ID: Modbus, Ports: []uint16{502}, Match: MatchModbus, Len: ModbusLen, Decode: DecodeModbus},
		{ID: S7comm, Ports: []uint16{102}, Match: MatchTPKT, Len: TPKTLen, Decode: DecodeS7},
		{ID: DNP3, Ports: []uint16{20000}, Match: MatchDNP3, Len: DNP3Len, Decode: DecodeDNP3},
		{ID: ENIP, Ports: []uint16{44818}, Match: MatchENIP, Len: ENIPLen, Decode: DecodeENIP},
		{ID: IEC104, Ports: []uint16{2404}, Match: MatchIEC104, Len: IEC104Len, Decode: DecodeIEC104},
		{ID: TLS, Ports: []uint16{443, 8443, 4843}, Match: MatchTLS, Len: TLSLen, Decode: DecodeTLS},
		{ID: HTTP, Ports: []uint16{80, 8080}, Match: MatchHTTP, Len: HTTPLen, Decode: DecodeHTTP},
	}
}

// UDPProtocols lists the UDP protocols.
func UDPProtocols() []UDPProtocol {
	return []UDPProtocol{
		{ID: BACnet, Ports: []uint16{47808}, Match: MatchBACnet, Decode: DecodeBACnet},
		{ID: DNP3, Ports: []uint16{20000}, Match: MatchDNP3UDP, Len: DNP3Len, Decode: DecodeDNP3},
		{ID: ENIP, Ports: []uint16{44818}, Match: MatchENIPUDP, Decode: DecodeENIP},
		{ID: DHCP, Ports: []uint16{67, 68}, Match: MatchDHCP, Decode: DecodeDHCP, PortOnly: true},
		{ID: DNS, Ports: []uint16{53, 5353}, Match: MatchDNS, Decode: DecodeDNS, PortOnly: true},
		{ID: NTP, Ports: []uint16{123}, Match: MatchNTP, Decode: DecodeNTP, PortOnly: true},
	}
}
