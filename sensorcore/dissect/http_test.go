package dissect

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

func httpRequest(t testing.TB, url string) []byte {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTTP(t *testing.T) {
	var r Result
	req := httpRequest(t, "http://hmi-3.plant.example:8080/index.html")
	if !MatchHTTP(req) || DecodeHTTP(req, decode.DirToServer, &r) != nil {
		t.Fatal("request not decoded")
	}
	if string(r.Name) != "hmi-3.plant.example" || r.Function != 1 || r.DstRole != RoleHTTPServer {
		t.Fatalf("host %q %+v", r.Name, r)
	}
	if DecodeHTTP(httpRequest(t, "http://[2001:db8::1]/"), decode.DirToServer, &r); string(r.Name) != "[2001:db8::1]" {
		t.Fatalf("IPv6 host %q", r.Name)
	}
	if err := DecodeHTTP([]byte("HTTP/1.1 200 OK\r\n\r\n"), decode.DirToClient, &r); err != nil || r.SrcRole != RoleHTTPServer {
		t.Fatalf("response %v", err)
	}
	if err := DecodeHTTP([]byte("body bytes"), decode.DirToClient, &r); !errors.Is(err, ErrNoPDU) {
		t.Fatalf("body: %v", err)
	}
}

func FuzzHTTP(f *testing.F) {
	f.Add(httpRequest(f, "http://plc.example/"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		DecodeHTTP(b, decode.DirToServer, &r)
	})
}
