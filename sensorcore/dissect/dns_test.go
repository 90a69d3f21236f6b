package dissect

import (
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tapline/tapline/sensorcore/decode"
)

func dnsMsg(t testing.TB, response bool) []byte {
	name := dnsmessage.MustNewName("plc-07.plant.example.")
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 7, Response: response},
		Questions: []dnsmessage.Question{{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	if response {
		m.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: [4]byte{192, 0, 2, 7}},
		}}
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDNS(t *testing.T) {
	var r Result
	if err := DecodeDNS(dnsMsg(t, false), decode.DirToServer, &r); err != nil || r.Function != 1 || r.HasSubject || !r.Request {
		t.Fatalf("query: %v %+v", err, r)
	}
	if err := DecodeDNS(dnsMsg(t, true), decode.DirToClient, &r); err != nil {
		t.Fatal(err)
	}
	if string(r.Name) != "plc-07.plant.example" || !r.HasSubject || netip.AddrFrom4([4]byte(r.Subject.B[:4])).String() != "192.0.2.7" || r.SrcRole != RoleDNSServer {
		t.Fatalf("answer %q %+v", r.Name, r.Subject)
	}
	loop := dnsMsg(t, true)
	loop[12] = 0xc0 // question name points at itself
	loop[13] = 12
	if err := DecodeDNS(loop, decode.DirToClient, &r); err == nil {
		t.Fatal("compression loop accepted")
	}
}

func FuzzDNS(f *testing.F) {
	fuzzSeeds(f, "*/*", 53, dnsMsg(f, true), dnsMsg(f, false))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		DecodeDNS(b, decode.DirToClient, &r)
		if len(r.Name) > 256 {
			t.Fatal("name longer than its buffer")
		}
	})
}
