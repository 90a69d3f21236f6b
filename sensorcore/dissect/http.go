package dissect

import (
	"bytes"

	"github.com/tapline/tapline/sensorcore/decode"
)

func init() {
	mustRegister(Descriptor{ID: HTTP, Name: "http", Title: "HTTP",
		TCP:        &TCPProtocol{Ports: []uint16{80, 8080}, Match: MatchHTTP, Len: HTTPLen, Decode: DecodeHTTP},
		ServerRole: "HTTP server"})
}

// HTTP/1.x per RFC 9112 §3 (request line) and RFC 9110 §7.2 (Host).

func httpMethod(b []byte) int {
	for i, m := range [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT "} {
		if len(b) >= len(m) && string(b[:len(m)]) == m {
			return i + 1
		}
	}
	return 0
}

// MatchHTTP checks for a request line's method or a status line.
func MatchHTTP(b []byte) bool {
	return httpMethod(b) > 0 || bytes.HasPrefix(b, []byte("HTTP/1."))
}

// HTTPLen takes the whole segment: only the start of each message is read.
func HTTPLen(b []byte) int { return len(b) }

// DecodeHTTP reads a segment. A request sets Result.Function to its
// method (1 GET, 2 POST, 3 HEAD, 4 PUT, 5 DELETE, 6 OPTIONS, 7 PATCH, 8
// CONNECT) and Result.Name to its Host header, which names the
// destination; a status line marks its sender an HTTP server. Other
// segments (bodies) are not counted as PDUs.
func DecodeHTTP(b []byte, dir decode.Direction, r *Result) error {
	r.Reset(HTTP)
	r.writes(groupName)
	if bytes.HasPrefix(b, []byte("HTTP/1.")) {
		r.Response = true
		r.SrcRole = RoleHTTPServer
		return nil
	}
	m := httpMethod(b)
	if m == 0 {
		return ErrNoPDU // not a message start: not counted
	}
	r.Function = m
	r.Request = true
	r.DstRole = RoleHTTPServer
	head := b
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		head = b[:i]
	}
	for len(head) > 0 {
		i := bytes.Index(head, []byte("\r\n"))
		if i < 0 {
			break
		}
		head = head[i+2:]
		if len(head) >= 5 && (head[0]|0x20) == 'h' && (head[1]|0x20) == 'o' && (head[2]|0x20) == 's' && (head[3]|0x20) == 't' && head[4] == ':' {
			v := head[5:]
			if j := bytes.Index(v, []byte("\r\n")); j >= 0 {
				v = v[:j]
			}
			v = bytes.TrimSpace(v)
			if k := bytes.LastIndexByte(v, ':'); k > 0 && bytes.IndexByte(v, ']') < k {
				v = v[:k] // drop the port
			}
			r.Name = v
			return nil
		}
	}
	return nil
}
