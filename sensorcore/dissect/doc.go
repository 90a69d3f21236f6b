// Package dissect decodes industrial and IT application protocols, one file
// per protocol: Modbus/TCP, S7comm over ISO-on-TCP, DNP3, EtherNet/IP with
// CIP, BACnet/IP, IEC 60870-5-104, and the IT protocols that name devices
// (DHCP, DNS, NTP, TLS SNI, HTTP Host).
//
// Each protocol is recognised by content as well as by port: a Match
// function checks the protocol's fixed header fields, so Modbus on a
// non-standard port is found and a non-Modbus stream on port 502 is not
// counted as Modbus. Each TCP protocol also has a Len function that frames
// PDUs in a byte stream (complete, need more bytes, or not this protocol).
//
// Decoders work in place: they read the PDU slice, fill a caller-owned
// Result that is reused packet after packet, and return predeclared errors
// for malformed PDUs. They never panic on any input (each has a Fuzz
// target). Strings in an Identity are copied out of the packet; everything
// else aliases nothing. The package holds no mutable state.
package dissect
