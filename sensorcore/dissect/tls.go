package dissect

import (
	"encoding/binary"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: TLS, Name: "tls", Title: "TLS",
		TCP:        &TCPProtocol{Ports: []uint16{443, 8443, 4843}, Match: MatchTLS, Len: TLSLen, Decode: DecodeTLS},
		ServerRole: "TLS server"})
}

// TLS records (RFC 8446 §5.1: content type, legacy version, length) and
// the ClientHello server_name extension (RFC 8446 §4.1.2, RFC 6066 §3).

// TLSLen frames one record: type 20-24, version 3.x, length ≤ 2^14+2048.
func TLSLen(b []byte) int {
	if len(b) >= 1 && (b[0] < 20 || b[0] > 24) || len(b) >= 2 && b[1] != 3 {
		return -1
	}
	if len(b) < 5 {
		return 0
	}
	l := int(binary.BigEndian.Uint16(b[3:5]))
	if l > 1<<14+2048 {
		return -1
	}
	if len(b) < 5+l {
		return 0
	}
	return 5 + l
}

// MatchTLS checks a handshake record carrying a ClientHello or
// ServerHello.
func MatchTLS(b []byte) bool {
	return len(b) >= 6 && b[0] == 22 && b[1] == 3 && b[2] <= 4 && (b[5] == 1 || b[5] == 2)
}

// DecodeTLS reads one record. Result.Function is the content type; a
// ClientHello's server_name (host_name type 0) is Result.Name and names
// the destination.
func DecodeTLS(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(TLS)
	r.writes(groupName)
	if len(b) < 5 {
		return errShort
	}
	if TLSLen(b) != len(b) {
		return errLength
	}
	r.Function = int(b[0])
	if b[0] != 22 || len(b) < 9 {
		return nil
	}
	switch b[5] {
	case 2:
		r.Response = true
		r.SrcRole = RoleTLSServer
		return nil
	case 1:
	default:
		return nil
	}
	r.Request = true
	r.DstRole = RoleTLSServer
	h := b[9:]
	// legacy_version (2), random (32), session id
	if len(h) < 35 {
		return errShort
	}
	p := 34
	p += 1 + int(h[p])
	if p+2 > len(h) {
		return errShort
	}
	p += 2 + int(binary.BigEndian.Uint16(h[p:]))
	if p+1 > len(h) {
		return errShort
	}
	p += 1 + int(h[p])
	if p+2 > len(h) {
		return nil // no extensions
	}
	ext := h[p+2:]
	if el := int(binary.BigEndian.Uint16(h[p:])); el < len(ext) {
		ext = ext[:el]
	}
	for len(ext) >= 4 {
		typ := binary.BigEndian.Uint16(ext)
		l := int(binary.BigEndian.Uint16(ext[2:]))
		if 4+l > len(ext) {
			return errLength
		}
		if typ == 0 { // server_name
			v := ext[4 : 4+l]
			if len(v) >= 5 && v[2] == 0 {
				nl := int(binary.BigEndian.Uint16(v[3:]))
				if 5+nl <= len(v) {
					r.Name = v[5 : 5+nl]
				}
			}
			return nil
		}
		ext = ext[4+l:]
	}
	return nil
}
