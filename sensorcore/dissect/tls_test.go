package dissect

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/decode"
)

// clientHello captures the first record a real crypto/tls client sends.
func clientHello(t testing.TB, server string) []byte {
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		cl := tls.Client(c, &tls.Config{ServerName: server})
		cl.SetDeadline(time.Now().Add(5 * time.Second))
		cl.Handshake()
		c.Close()
	}()
	buf := make([]byte, 4096)
	n := 0
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	for n < 5 || n < 5+int(buf[3])<<8+int(buf[4]) {
		m, err := s.Read(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	return buf[:5+int(buf[3])<<8+int(buf[4])]
}

func TestTLS(t *testing.T) {
	hello := clientHello(t, "historian.plant.example")
	if !MatchTLS(hello) || TLSLen(hello) != len(hello) {
		t.Fatal("ClientHello not matched or framed")
	}
	var r Result
	if err := DecodeTLS(hello, decode.DirToServer, &r); err != nil {
		t.Fatal(err)
	}
	if string(r.Name) != "historian.plant.example" || r.DstRole != RoleTLSServer || r.Function != 22 {
		t.Fatalf("SNI %q %+v", r.Name, r)
	}
	if TLSLen([]byte{0x17, 3, 3, 0xff, 0xff}) != -1 {
		t.Fatal("oversized record framed")
	}
}

func FuzzTLS(f *testing.F) {
	f.Add(clientHello(f, "plc.example"))
	fuzzSeeds(f, "*/*", 443)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		checkFramer(t, "tls", TLSLen, b)
		DecodeTLS(b, decode.DirToServer, &r)
	})
}
