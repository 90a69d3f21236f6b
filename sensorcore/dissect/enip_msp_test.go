package dissect

import (
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/decode"
)

// capturedMSP returns the ENIP PDUs of the shared captures that carry a
// Multiple Service Packet request or reply, and the packets' bodies
// (count, offsets, services).
func capturedMSP(t testing.TB) (pdus, bodies [][]byte) {
	for _, p := range payloads(t, "enip/*", 44818, 100000) {
		if ENIPLen(p) != len(p) || len(p) < 24+8 {
			continue
		}
		cpf := p[24:]
		items := cpf[8:]
		for k := 0; k < int(binary.LittleEndian.Uint16(cpf[6:8])) && len(items) >= 4; k++ {
			typ, l := binary.LittleEndian.Uint16(items[0:2]), int(binary.LittleEndian.Uint16(items[2:4]))
			if len(items) < 4+l {
				break
			}
			cip := items[4 : 4+l]
			items = items[4+l:]
			if typ == 0xb1 && len(cip) >= 2 {
				cip = cip[2:]
			} else if typ != 0xb2 {
				continue
			}
			if len(cip) < 4 || cip[0]&0x7f != cipMultipleService {
				continue
			}
			hdr := 2 + 2*int(cip[1]) // request: service, path size, path
			if cip[0]&0x80 != 0 {
				hdr = 4 + 2*int(cip[3]) // reply: service, reserved, status, additional status
			}
			if len(cip) > hdr {
				pdus, bodies = append(pdus, p), append(bodies, cip[hdr:])
			}
		}
	}
	return pdus, bodies
}

// multipleEach is cipMultiple without its fast paths: every service of
// the body goes through cipMessage.
func multipleEach(body []byte, r *Result, depth int) error {
	if len(body) < 2 {
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(body[0:2]))
	if len(body) < 2+2*n {
		return errLength
	}
	for i := 0; i < n; i++ {
		off := int(binary.LittleEndian.Uint16(body[2+2*i:]))
		end := len(body)
		if i+1 < n {
			end = int(binary.LittleEndian.Uint16(body[4+2*i:]))
		}
		if off < 2+2*n || off > end || end > len(body) {
			return errField
		}
		if err := cipMessage(body[off:end], r, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// sameMultiple fails unless cipMultiple agrees with the walk without its
// fast paths (every service through cipMessage) on body at depth, with
// and without the operations log, starting from a Result whose Extra
// already holds extra entries.
func sameMultiple(t *testing.T, body []byte, depth, extra int) {
	for _, log := range []bool{false, true} {
		var fast, each Result
		fast.Log, each.Log = log, log
		fast.Reset(ENIP)
		each.Reset(ENIP)
		for range extra {
			fast.addExtra(0x4c)
			each.addExtra(0x4c)
		}
		errFast := cipMultiple(body, &fast, depth, depth+1 <= 2)
		errEach := multipleEach(body, &each, depth)
		if errFast != errEach {
			t.Fatalf("depth %d log %v: error %v, without the fast path %v", depth, log, errFast, errEach)
		}
		if !slices.Equal(fast.Extra, each.Extra) {
			t.Fatalf("depth %d log %v: extra %v, without the fast path %v", depth, log, fast.Extra, each.Extra)
		}
		fast.Extra, each.Extra = nil, nil
		if !reflect.DeepEqual(fast, each) {
			t.Fatalf("depth %d log %v: result %+v, without the fast path %+v", depth, log, fast, each)
		}
	}
}

// TestCIPMultipleFastPath: the walk's fast path records, flags and
// refuses exactly what cipMessage does, on captured packets, on every
// kind of embedded service, and at the Extra bound.
func TestCIPMultipleFastPath(t *testing.T) {
	_, bodies := capturedMSP(t)
	mustSkipNoCaptures(t, bodies, "enip/*")
	bodies = bodies[:min(len(bodies), 400)]
	get := []byte{0x4c, 2, 0x91, 3, 'a', 'b', 'c', 0, 1, 0}
	nvs := []byte{0x4d, 2, 0x20, cipClassNVS, 0x24, 1}
	nvs32 := []byte{0x4b, 3, 0x21, 0, cipClassNVS, 0, 0x24, 1}
	ident := []byte{0x01, 2, 0x20, 0x01, 0x24, 0x01}
	reply := []byte{0xcc, 0, 0, 1, 0x55, 0x66, 1}
	made := [][]byte{
		mspOf(get, reply, nvs, nvs32, ident, []byte{0x07, 0}, []byte{0x85, 0, 0, 0}),
		mspOf(get, mspOf(get, mspOf(get, mspOf(get, nvs)))),
		mspOf(get, []byte{0x52, 0, 0, 0, 6, 0, 0x4d, 2, 0x20, cipClassNVS, 0x24, 1}),
		mspOf(get, []byte{0x4d, 3, 0x20, cipClassNVS}),
		mspOf(get, []byte{0xcc, 0, 0, 3, 0}),
		mspOf(get, []byte{0x4c}),
		mspOf(get, []byte{0x8a, 0, 0, 0, 1, 0, 4, 0, 0xcc, 0, 0, 0}),
	}
	for _, m := range made {
		bodies = append(bodies, m[6:]) // after mspOf's service and path
	}
	// offsets out of order, before the table, beyond the body
	bodies = append(bodies, []byte{2, 0, 8, 0, 6, 0, 0x4c, 0, 0x4c, 0}, []byte{1, 0, 2, 0, 0x4c, 0}, []byte{1, 0, 9, 0, 0x4c, 0})
	for _, b := range bodies {
		for depth := range 4 {
			sameMultiple(t, b, depth, 0)
		}
	}
	// more services than Extra keeps
	msgs := make([][]byte, 5000)
	for i := range msgs {
		msgs[i] = []byte{0x4c, 0}
	}
	big := mspOf(msgs...)[6:]
	sameMultiple(t, big, 0, 0)
	sameMultiple(t, big, 0, maxExtra-3)
	var r Result
	if cipMultiple(big, &r, 0, true) != nil || len(r.Extra) != maxExtra {
		t.Fatalf("5000 services: %d extras, want %d", len(r.Extra), maxExtra)
	}
}

// FuzzCIPMultiple compares the walk with and without its fast path.
func FuzzCIPMultiple(f *testing.F) {
	_, bodies := capturedMSP(f)
	for i, b := range bodies {
		if i%50 == 0 {
			f.Add(b, uint8(0))
		}
	}
	f.Add(mspOf([]byte{0x4c, 1, 0x20, 0x02}, []byte{0xcc, 0, 0, 0})[6:], uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, depth uint8) {
		sameMultiple(t, body, int(depth%4), 0)
	})
}

// BenchmarkCIPMultiple decodes the captured ENIP PDUs that carry a
// Multiple Service Packet; ns/service is per embedded service.
func BenchmarkCIPMultiple(b *testing.B) {
	pdus, _ := capturedMSP(b)
	if len(pdus) == 0 {
		needs.Missing(b, "needs the shared captures (enip/*) in %s", sharedDir(b))
	}
	var r Result
	services := 0
	for _, p := range pdus {
		if DecodeENIP(p, decode.DirToServer, &r) != nil {
			b.Fatal("a captured Multiple Service Packet is malformed")
		}
		services += len(r.Extra)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range pdus {
			DecodeENIP(p, decode.DirToServer, &r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*services), "ns/service")
}
