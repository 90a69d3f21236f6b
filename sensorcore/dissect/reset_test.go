package dissect

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// builtinDecoder is a built-in protocol's decoder.
type builtinDecoder struct {
	id  uint8
	dec func([]byte, decode.Direction, *Result) error
}

// builtinDecoders lists every built-in decoder (TCP, UDP and Ethernet).
func builtinDecoders() []builtinDecoder {
	s := Default().Snapshot()
	var out []builtinDecoder
	for _, p := range s.TCP {
		out = append(out, builtinDecoder{p.ID, p.Decode})
	}
	for _, p := range s.UDP {
		out = append(out, builtinDecoder{p.ID, p.Decode})
	}
	for _, p := range s.L2 {
		out = append(out, builtinDecoder{p.ID, p.Decode})
	}
	return out
}

// checkGroups fails when a field group that r says is clean does not
// hold Reset's values.
func checkGroups(t *testing.T, r *Result, what string) {
	t.Helper()
	if r.clean&groupName != 0 && (r.Name != nil || r.Subject != (decode.Addr{}) || r.HasSubject) {
		t.Fatalf("%s: name fields set without their group: %q %v", what, r.Name, r.Subject)
	}
	if r.clean&groupCIP != 0 && (r.Class != -1 || r.Instance != -1 || r.Attribute != -1 || r.Tag != nil ||
		r.IdentityRequest || r.ReplyData != nil) {
		t.Fatalf("%s: CIP path fields set without their group", what)
	}
	if r.clean&groupS7 != 0 && (r.Block != (S7Block{}) || r.Group != -1 || r.Subfunction != -1) {
		t.Fatalf("%s: S7 fields set without their group", what)
	}
	if r.clean&groupStation != 0 && (r.Station != nil || r.StationIP != [12]byte{} || r.HasStationIP) {
		t.Fatalf("%s: station fields set without their group", what)
	}
	if r.clean&groupObjects != 0 && (r.obj.n != (objCounts{}) || r.obj.moreServices != 0) {
		t.Fatalf("%s: objects recorded without their group", what)
	}
	if r.clean&groupPlugin != 0 && (len(r.Fields) != 0 || len(r.Tallies) != 0 || r.Detail != nil) {
		t.Fatalf("%s: plugin fields set without their group", what)
	}
}

// checkResetFresh resets r for proto and fails unless it then equals a
// Result never used (but for its buffers' contents).
func checkResetFresh(t *testing.T, r *Result, proto uint8, what string) {
	t.Helper()
	r.Reset(proto)
	var fresh Result
	fresh.Log, fresh.Aux = r.Log, r.Aux
	fresh.Reset(proto)
	if len(r.Extra) != 0 || len(r.Values) != 0 || len(r.Tallies) != 0 || len(r.Fields) != 0 ||
		r.obj.n != fresh.obj.n || r.obj.moreServices != 0 {
		t.Fatalf("%s: Reset left extras, values, tallies, fields or objects", what)
	}
	got := *r
	got.Extra, fresh.Extra = nil, nil
	got.Values, got.Tallies, got.Fields = nil, nil, nil
	got.nameBuf, got.valueBuf, got.tallyBuf, got.obj = fresh.nameBuf, fresh.valueBuf, fresh.tallyBuf, fresh.obj
	if !reflect.DeepEqual(got, fresh) {
		t.Fatalf("%s: Reset after it differs from a fresh Result:\n%+v\n%+v", what, got, fresh)
	}
}

// decodeAll runs every built-in decoder on b into r (one Result reused,
// as a pipeline does), checking the field groups after each and that a
// Reset then gives a fresh Result.
func decodeAll(t *testing.T, decs []builtinDecoder, r *Result, b []byte) {
	for _, d := range decs {
		for _, dir := range []decode.Direction{decode.DirToServer, decode.DirToClient} {
			d.dec(b, dir, r)
			checkGroups(t, r, Name(d.id))
			if r.ReplyData != nil {
				ParseCIPIdentity(r.ReplyData, r)
			}
			checkResetFresh(t, r, d.id, Name(d.id))
		}
	}
}

// TestResetAfterAnyPDU: whatever PDU a Result held, of whatever protocol
// (captured, damaged, or decoded by the wrong dissector), Reset leaves it
// as a fresh one: the field groups it skips are clean.
func TestResetAfterAnyPDU(t *testing.T) {
	decs := builtinDecoders()
	var corpus [][]byte
	for _, port := range []uint16{502, 102, 20000, 44818, 47808, 2404, 53, 67, 123, 443, 80} {
		corpus = append(corpus, payloads(t, "*/*", port, 8)...)
	}
	mustSkipNoCaptures(t, corpus, "*/*")
	corpus = append(corpus,
		pnDCP(0xfeff, 5, 1, pnBlock(2, 2, []byte("\x00\x00plc-1")), pnBlock(1, 2, make([]byte, 14))),
		pnDCP(0xfefd, 4, 0, pnBlock(2, 2, []byte("\x00\x01x")), pnBlock(1, 2, make([]byte, 14))),
		rrData(mspOf([]byte{0x01, 2, 0x20, 0x01, 0x24, 0x01}, []byte{0x4d, 2, 0x20, cipClassNVS, 0x24, 1})),
		rrData([]byte{0x81, 0, 0, 0, 1, 0, 0x0e, 0, 0x36, 0, 0x14, 0x0b, 0x60, 0x31, 0x1a, 0x06, 0x6c, 0, 0x0b, 'P', 'L', 'C'}),
		dnsMsg(t, true), dnsMsg(t, false), clientHello(t, "plc.example"), httpRequest(t, "http://plc.example/"),
		dhcpMsg(1, [4]byte{192, 0, 2, 1}, []byte{53, 1, 3}, append([]byte{12, 3}, "plc"...)),
		s7pdu(1, []byte{0x1d, 0, 0, 0, 0, 0, 0, 0, 9, '_', '0', 'A', '0', '0', '0', '0', '1', 'P'}, nil))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range corpus[:len(corpus):len(corpus)] { // and a damaged copy of each
		q := append([]byte(nil), p...)
		for range 1 + len(q)/16 {
			if len(q) > 0 {
				q[rng.IntN(len(q))] = byte(rng.Uint32())
			}
		}
		corpus = append(corpus, q)
	}
	for _, log := range []bool{false, true} {
		r := Result{Log: log}
		for _, p := range corpus {
			decodeAll(t, decs, &r, p)
		}
	}
}

// FuzzResetAfterAnyPDU is TestResetAfterAnyPDU on any input.
func FuzzResetAfterAnyPDU(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}, false)
	f.Add(rrData(mspOf([]byte{0x4c, 1, 0x20, 0x72})), true)
	f.Add(dnsMsg(f, false), false)
	decs := builtinDecoders()
	f.Fuzz(func(t *testing.T, b []byte, log bool) {
		r := Result{Log: log}
		decodeAll(t, decs, &r, b)
		decodeAll(t, decs, &r, b)
	})
}
