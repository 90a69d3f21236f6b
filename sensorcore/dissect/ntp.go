package dissect

import "github.com/tapline/tapline/sensorcore/decode"

func init() {
	mustRegister(Descriptor{ID: NTP, Name: "ntp", Title: "NTP",
		UDP:        &UDPProtocol{Ports: []uint16{123}, Match: MatchNTP, Decode: DecodeNTP, PortOnly: true},
		ServerRole: "NTP server"})
}

// NTP per RFC 5905 §7.3: LI (2 bits), VN (3), Mode (3), stratum, poll,
// precision, then 44 more octets of the 48-octet header.

// MatchNTP checks a 48-octet (or longer, with extensions or MAC) packet of
// version 3 or 4 in mode 1-5.
func MatchNTP(b []byte) bool {
	if len(b) < 48 {
		return false
	}
	vn, mode := b[0]>>3&7, b[0]&7
	return (vn == 3 || vn == 4) && mode >= 1 && mode <= 5
}

// DecodeNTP sets Result.Function to the mode (§7.3: 3 client, 4 server, 5
// broadcast); a server or broadcast packet marks its sender an NTP server.
func DecodeNTP(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(NTP)
	if !MatchNTP(b) {
		return errField
	}
	mode := b[0] & 7
	r.Function = int(mode)
	switch mode {
	case 4, 5:
		r.Response = true
		r.SrcRole = RoleNTPServer
	case 3:
		r.Request = true
		r.DstRole = RoleNTPServer
	}
	return nil
}
