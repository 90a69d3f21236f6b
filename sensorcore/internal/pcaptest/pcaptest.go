// Package pcaptest edits real captures for sensorcore's tests: it reads
// every record of a capture, lets a test change, add or drop packets, and
// writes the result as a classic pcap file that tshark and sensorcore
// both read, so a test can make traffic the shared captures lack (a
// firmware transfer, a malformed object header) out of real traffic and
// check it against tshark. It is imported by tests only.
package pcaptest

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
)

// Record is one packet: its capture time, link type and bytes (a copy
// the test may change).
type Record struct {
	Time     time.Time
	LinkType int
	Data     []byte
}

// Read returns every record of the capture at path.
func Read(t testing.TB, path string) []Record {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []Record
	for {
		data, ci, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, Record{Time: ci.Timestamp(), LinkType: ci.LinkType, Data: append([]byte(nil), data...)})
	}
}

// Write writes recs as a little-endian, microsecond pcap file at path,
// with the link type of the first record.
func Write(t testing.TB, path string, recs []Record) {
	t.Helper()
	lt := decode.LinkEthernet
	if len(recs) > 0 {
		lt = recs[0].LinkType
	}
	b := make([]byte, 24, 24+len(recs)*128)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 262144)
	binary.LittleEndian.PutUint32(b[20:], uint32(lt))
	for _, r := range recs {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(r.Time.Unix()))
		binary.LittleEndian.PutUint32(h[4:], uint32(r.Time.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(r.Data)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(r.Data)))
		b = append(append(b, h[:]...), r.Data...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Payload returns the offset of the transport payload in an Ethernet
// IPv4 or IPv6 TCP or UDP frame, and the decoded packet; ok is false for
// anything else.
func Payload(data []byte, linkType int) (off int, pkt decode.Packet, ok bool) {
	var d decode.Decoder
	if d.Decode(data, linkType) != nil || !d.Pkt.HasTransport {
		return 0, d.Pkt, false
	}
	return len(data) - len(d.Pkt.Payload), d.Pkt, true
}

// WithPayload returns a copy of the TCP frame r carrying payload instead
// of its own, its sequence number advanced by seqDelta and its IPv4 total
// length fixed: the next segment of the same direction of a connection,
// when seqDelta is r's own payload length.
func WithPayload(t testing.TB, r Record, payload []byte, seqDelta uint32, at time.Time) Record {
	t.Helper()
	off, pkt, ok := Payload(r.Data, r.LinkType)
	if !ok || r.LinkType != decode.LinkEthernet || pkt.Proto != decode.ProtoTCP || pkt.IPVersion != 4 {
		t.Fatal("pcaptest: WithPayload needs an Ethernet IPv4 TCP frame")
	}
	data := append(append([]byte(nil), r.Data[:off]...), payload...)
	ip := 14 + 4*pkt.NumVLAN
	binary.BigEndian.PutUint16(data[ip+2:], uint16(off-ip+len(payload)))
	binary.BigEndian.PutUint32(data[pkt.L4Offset+4:], pkt.Seq+seqDelta)
	return Record{Time: at, LinkType: r.LinkType, Data: data}
}

// DNP3FixCRCs recomputes every CRC of a DNP3 link frame f after a test
// changed it: the header's and each 16-octet block's (IEEE 1815-2012
// §9.2.5: polynomial 0x3D65, reflected, output inverted).
func DNP3FixCRCs(f []byte) {
	crc := func(b []byte) uint16 {
		var c uint16
		for _, x := range b {
			c ^= uint16(x)
			for i := 0; i < 8; i++ {
				if c&1 != 0 {
					c = c>>1 ^ 0xa6bc
				} else {
					c >>= 1
				}
			}
		}
		return ^c
	}
	binary.LittleEndian.PutUint16(f[8:], crc(f[:8]))
	for body := f[10:]; len(body) > 2; {
		n := min(16, len(body)-2)
		binary.LittleEndian.PutUint16(body[n:], crc(body[:n]))
		body = body[n+2:]
	}
}

// DNP3UserOffset is where user data octet i of a DNP3 link frame sits:
// after the 10-octet header, in blocks of 16, each followed by its CRC.
func DNP3UserOffset(i int) int { return 10 + i/16*18 + i%16 }
