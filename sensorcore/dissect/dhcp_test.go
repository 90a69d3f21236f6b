package dissect

import (
	"encoding/binary"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

func dhcpMsg(op byte, ciaddr [4]byte, opts ...[]byte) []byte {
	b := make([]byte, dhcpFixed+4)
	b[0], b[1], b[2] = op, 1, 6
	copy(b[12:], ciaddr[:])
	binary.BigEndian.PutUint32(b[dhcpFixed:], 0x63825363)
	for _, o := range opts {
		b = append(b, o...)
	}
	return append(b, 255)
}

func TestDHCP(t *testing.T) {
	req := dhcpMsg(1, [4]byte{}, []byte{53, 1, 3}, []byte{50, 4, 192, 0, 2, 50}, append([]byte{12, 6}, "hmi-01"...), append([]byte{60, 8}, "MSFT 5.0"...))
	var r Result
	if err := DecodeDHCP(req, decode.DirToServer, &r); err != nil {
		t.Fatal(err)
	}
	if r.Function != 3 || string(r.Name) != "hmi-01" || r.Ident.VendorClass != "MSFT 5.0" || !r.HasSubject || r.Subject.B[3] != 50 || r.DstRole != RoleDHCPServer {
		t.Fatalf("%+v", r)
	}
	noAddr := dhcpMsg(1, [4]byte{}, []byte{53, 1, 1}, append([]byte{12, 3}, "plc"...))
	DecodeDHCP(noAddr, decode.DirToServer, &r)
	if r.Name != nil {
		t.Fatal("a name without an address to attach to was kept")
	}
	if err := DecodeDHCP(dhcpMsg(1, [4]byte{}, []byte{12, 40, 1}), decode.DirToServer, &r); err == nil {
		t.Fatal("overlong option accepted")
	}
	if MatchDHCP(make([]byte, 300)) {
		t.Fatal("zeros matched")
	}
}

func FuzzDHCP(f *testing.F) {
	fuzzSeeds(f, "*/*", 67, dhcpMsg(1, [4]byte{192, 0, 2, 1}, []byte{53, 1, 3}, append([]byte{12, 3}, "plc"...)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		DecodeDHCP(b, decode.DirToServer, &r)
	})
}
