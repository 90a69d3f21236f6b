package dissect

import (
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

func TestNTP(t *testing.T) {
	pkt := make([]byte, 48)
	pkt[0] = 4<<3 | 4 // v4 server
	var r Result
	if err := DecodeNTP(pkt, decode.DirToClient, &r); err != nil || r.Function != 4 || r.SrcRole != RoleNTPServer {
		t.Fatalf("%v %+v", err, r)
	}
	pkt[0] = 4<<3 | 3
	if DecodeNTP(pkt, decode.DirToServer, &r); r.DstRole != RoleNTPServer || !r.Request {
		t.Fatalf("client %+v", r)
	}
	pkt[0] = 1<<3 | 3
	if MatchNTP(pkt) || MatchNTP(pkt[:40]) {
		t.Fatal("version 1 or short packet matched")
	}
}

func FuzzNTP(f *testing.F) {
	fuzzSeeds(f, "*/*", 123, append([]byte{0x23}, make([]byte, 47)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		DecodeNTP(b, decode.DirToServer, &r)
	})
}
