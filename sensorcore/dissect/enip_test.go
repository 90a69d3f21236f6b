package dissect

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// enipMsg wraps data in a 24-octet encapsulation header.
func enipMsg(cmd uint16, data []byte) []byte {
	b := make([]byte, 24, 24+len(data))
	binary.LittleEndian.PutUint16(b[0:2], cmd)
	binary.LittleEndian.PutUint16(b[2:4], uint16(len(data)))
	return append(b, data...)
}

// rrData wraps a CIP message in SendRRData's CPF: null address item and an
// unconnected data item.
func rrData(cip []byte) []byte {
	d := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0}
	d = binary.LittleEndian.AppendUint16(d, uint16(len(cip)))
	return enipMsg(enipSendRRData, append(d, cip...))
}

func TestENIP(t *testing.T) {
	msp := []byte{0x0a, 2, 0x20, 0x02, 0x24, 0x01, 2, 0, 6, 0, 10, 0,
		0x0e, 1, 0x20, 0x01, 0x0e, 1, 0x20, 0x01}
	tests := []struct {
		name   string
		msg    []byte
		fc     int
		extra  []int
		action Action
		err    error
	}{
		{"get attribute single", rrData([]byte{0x0e, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07}), 0x0e, nil, ActNone, nil},
		{"stop", rrData([]byte{0x07, 2, 0x20, 0x8e, 0x24, 0x01}), 7, nil, ActCIPStop, nil},
		{"reset", rrData([]byte{0x05, 2, 0x20, 0x01, 0x24, 0x01}), 5, nil, ActCIPReset, nil},
		{"multiple service packet", rrData(msp), 0x0a, []int{0x0e, 0x0e}, ActNone, nil},
		{"response", rrData([]byte{0x8e, 0, 0, 0, 1, 0}), 0x0e, nil, ActNone, nil},
		{"register session", enipMsg(enipRegisterSession, []byte{1, 0, 0, 0}), -1, nil, ActNone, nil},
		{"cpf item overruns", enipMsg(enipSendRRData, []byte{0, 0, 0, 0, 0, 0, 1, 0, 0xb2, 0, 50, 0}), -1, nil, ActNone, ErrMalformed},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !MatchENIP(tc.msg) || ENIPLen(tc.msg) != len(tc.msg) {
				t.Fatal("not matched or framed")
			}
			err := DecodeENIP(tc.msg, decode.DirToServer, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != tc.fc || r.Action != tc.action || len(r.Extra) != len(tc.extra) {
				t.Fatalf("fc %d action %d extra %v", r.Function, r.Action, r.Extra)
			}
		})
	}
	if MatchENIP(append(enipMsg(enipNOP, nil)[:20], 1, 0, 0, 0)) {
		t.Error("non-zero options matched")
	}
}

func TestENIPListIdentity(t *testing.T) {
	item := make([]byte, 33)
	binary.LittleEndian.PutUint16(item[18:], 1)  // Rockwell
	binary.LittleEndian.PutUint16(item[20:], 14) // PLC
	item[24], item[25] = 20, 11                  // revision
	binary.LittleEndian.PutUint32(item[28:], 0xc0ffee)
	name := "1756-L61/B LOGIX5561"
	item[32] = byte(len(name))
	item = append(append(item, name...), 3)
	d := []byte{1, 0, 0x0c, 0}
	d = binary.LittleEndian.AppendUint16(d, uint16(len(item)))
	var r Result
	if err := DecodeENIP(enipMsg(enipListIdentity, append(d, item...)), decode.DirToClient, &r); err != nil {
		t.Fatal(err)
	}
	if !r.HasIdent || r.Ident.VendorID != 1 || r.Ident.Name != name || r.Ident.Firmware != "20.11" || r.Ident.Serial != "0xc0ffee" ||
		r.Ident.DeviceType != 14 {
		t.Fatalf("identity %+v", r.Ident)
	}
}

func TestENIPCaptured(t *testing.T) {
	pl := payloads(t, "enip/cip_stop_plc.pcap", 44818, 10)
	mustSkipNoCaptures(t, pl, "enip/cip_stop_plc.pcap")
	var r Result
	if err := DecodeENIP(pl[0], decode.DirToServer, &r); err != nil || r.Action != ActCIPStop {
		t.Fatalf("cip_stop_plc.pcap: err %v action %d", err, r.Action)
	}
}

func FuzzENIP(f *testing.F) {
	fuzzSeeds(f, "enip/*", 44818, rrData([]byte{0x07, 2, 0x20, 0x8e, 0x24, 0x01}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		checkFramer(t, "enip", ENIPLen, b)
		MatchENIP(b)
		DecodeENIP(b, decode.DirToServer, &r)
		DecodeENIP(b, decode.DirToClient, &r)
	})
}

// mspOf builds a Multiple Service Packet request holding msgs (CIP
// §: count, offsets from the count field, messages).
func mspOf(msgs ...[]byte) []byte {
	b := []byte{0x0a, 2, 0x20, 0x02, 0x24, 0x01}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(msgs)))
	off := 2 + 2*len(msgs)
	for _, m := range msgs {
		b = binary.LittleEndian.AppendUint16(b, uint16(off))
		off += len(m)
	}
	for _, m := range msgs {
		b = append(b, m...)
	}
	return b
}

// TestENIPMultipleEmbedded: every kind of embedded service (plain request
// and reply, action, nested packet, short path) is recorded, acted on and
// length-checked.
func TestENIPMultipleEmbedded(t *testing.T) {
	get := []byte{0x0e, 1, 0x20, 0x01}
	reply := []byte{0x8e, 0, 0, 1, 0x55, 0x66}
	stop := []byte{0x07, 2, 0x20, 0x8e, 0x24, 0x01}
	tests := []struct {
		name   string
		cip    []byte
		extra  []int
		action Action
		err    error
	}{
		{"plain", mspOf(get, reply, get), []int{0x0e, 0x0e, 0x0e}, ActNone, nil},
		{"stop inside", mspOf(get, stop), []int{0x0e, 0x07}, ActCIPStop, nil},
		{"nested packet", mspOf(get, mspOf(get, get)), []int{0x0e, 0x0a, 0x0e, 0x0e}, ActNone, nil},
		{"nested twice", mspOf(mspOf(mspOf(get, []byte{0x0e, 9}))), []int{0x0a, 0x0a, 0x0e, 0x0e}, ActNone, nil},
		{"path beyond message", mspOf(get, []byte{0x0e, 3, 0x20}), []int{0x0e, 0x0e}, ActNone, ErrMalformed},
		{"reply status beyond message", mspOf([]byte{0x8e, 0, 0, 2, 0}), []int{0x0e}, ActNone, ErrMalformed},
		{"one byte message", mspOf([]byte{0x0e}), nil, ActNone, ErrMalformed},
	}
	var r Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeENIP(rrData(tc.cip), decode.DirToServer, &r)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Function != 0x0a || r.Action != tc.action || len(r.Extra) != len(tc.extra) {
				t.Fatalf("fc %d action %d extra %v, want %v", r.Function, r.Action, r.Extra, tc.extra)
			}
			for i, fc := range tc.extra {
				if r.Extra[i] != fc {
					t.Fatalf("extra %v, want %v", r.Extra, tc.extra)
				}
			}
		})
	}
}

// TestCIPPathShort: the short paths cipPath reads at once read as the
// segment walk reads them, and paths one octet away from them still go
// through the walk.
func TestCIPPathShort(t *testing.T) {
	for _, seg := range [][3]byte{{0x20, 0x24, 0x30}, {0x21, 0x24, 0x30}, {0x20, 0x25, 0x30}, {0x20, 0x24, 0x31}, {0x20, 0x2c, 0x30}} {
		for _, v := range []byte{0, 1, 0x72, 0xa1, 0xff} {
			for _, p := range [][]byte{
				{seg[0], v, seg[1], v ^ 1},
				{seg[0], v, seg[1], v ^ 1, seg[2], v ^ 2},
				{seg[0], v, seg[1], v ^ 1, seg[2]},
				{seg[0], v, seg[1]},
			} {
				// both start from a slot a previous service filled
				got := CIPService{Class: 7, Instance: 7, Attribute: 7, Tag: []byte("old")}
				want := got
				cipPath(p, &got)
				cipPathSegments(p, &want)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("cipPath(% x) = %+v, the walk reads %+v", p, got, want)
				}
			}
		}
	}
}
