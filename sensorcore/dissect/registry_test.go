package dissect

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tapline/tapline/sensorcore/decode"
)

// TestBuiltinCatalogue: every built-in protocol is registered once under
// its fixed id, and every list is derived from the descriptors.
func TestBuiltinCatalogue(t *testing.T) {
	s := Default().Snapshot()
	for id := Modbus; id < NumProtocols; id++ {
		d := s.Protocol(id)
		if d == nil || d.ID != id || d.Name == "" || d.Title == "" || (d.TCP == nil && d.UDP == nil && d.L2 == nil) || d.ServerRole == "" {
			t.Errorf("id %d: descriptor %+v", id, d)
			continue
		}
		if d.TCP != nil && (d.TCP.ID != id || d.TCP.Match == nil || d.TCP.Len == nil || d.TCP.Decode == nil) {
			t.Errorf("%s: TCP binding incomplete", d.Name)
		}
		if d.UDP != nil && (d.UDP.ID != id || d.UDP.Match == nil || d.UDP.Decode == nil) {
			t.Errorf("%s: UDP binding incomplete", d.Name)
		}
		if d.L2 != nil && (d.L2.ID != id || len(d.L2.EtherTypes) == 0 || d.L2.Decode == nil) {
			t.Errorf("%s: link-layer binding incomplete", d.Name)
		}
		if ID(d.Name) != id || Name(id) != d.Name {
			t.Errorf("%s: name and id lookups disagree", d.Name)
		}
		if d.Industrial != slices.Contains(Industrial(), id) || d.Industrial != IsIndustrial(id) {
			t.Errorf("%s: industrial list disagrees with the descriptor", d.Name)
		}
		for _, a := range d.Actions {
			if ActionName(a.Action) != a.Name || a.Name == "" {
				t.Errorf("%s: action %d name %q", d.Name, a.Action, ActionName(a.Action))
			}
			if al := a.Alert; al != nil && (al.Rule == "" || al.Title == "" || al.Text == "" ||
				!slices.Contains([]string{"low", "medium", "high", "critical"}, al.Severity)) {
				t.Errorf("%s: action %s alert %+v", d.Name, a.Name, al)
			}
		}
	}
	// every action constant belongs to exactly one protocol
	for a := ActModbusWrite; a < numActions; a++ {
		if ActionName(a) == "" {
			t.Errorf("action %d is declared by no protocol", a)
		}
	}
	if got := RoleNames(RoleS7PLC | RoleModbusClient | RoleHTTPServer); !slices.Equal(got, []string{"Modbus client", "S7 PLC", "HTTP server"}) {
		t.Errorf("role names %q", got)
	}
	if RoleFromNames([]string{"DNP3 outstation", "nonsense"}) != RoleDNP3Outstation {
		t.Error("RoleFromNames")
	}
}

// TestRegisterAtRunTime: a protocol registered later (as a plugin does)
// gets a free id, appears in every derived list of the new snapshot, and
// leaves earlier snapshots as they were; taken names, ids and actions are
// refused.
func TestRegisterAtRunTime(t *testing.T) {
	r := NewRegistry()
	if _, err := r.Register(Descriptor{ID: Modbus, Name: "modbus", Industrial: true, TCP: &TCPProtocol{Ports: []uint16{502}, Match: MatchModbus, Len: ModbusLen, Decode: DecodeModbus},
		Actions: []ActionInfo{{Action: ActModbusWrite, Name: "Modbus write"}}}); err != nil {
		t.Fatal(err)
	}
	before := r.Snapshot()
	id, err := r.Register(Descriptor{Name: "opcua", Industrial: true, ClientRole: "OPC UA client", ServerRole: "OPC UA server",
		TCP: &TCPProtocol{Ports: []uint16{4840}, Match: func(b []byte) bool { return len(b) >= 3 && string(b[:3]) == "HEL" }, Len: ModbusLen, Decode: DecodeModbus}})
	if err != nil || id == 0 || id == Modbus {
		t.Fatalf("id %d, %v", id, err)
	}
	s := r.Snapshot()
	if s == before || s.Gen != before.Gen+1 || len(before.TCP) != 1 {
		t.Fatal("the earlier snapshot changed or no new one was published")
	}
	if len(s.TCP) != 2 || s.TCP[1].ID != id || !slices.Contains(s.Industrial, id) || s.ByName("opcua").ID != id {
		t.Fatalf("derived lists %+v %v", s.TCP, s.Industrial)
	}
	for _, bad := range []Descriptor{
		{Name: "opcua"},
		{ID: Modbus, Name: "other"},
		{Name: "dup-action", Actions: []ActionInfo{{Action: ActModbusWrite, Name: "x"}}},
		{},
	} {
		if _, err := r.Register(bad); err == nil || !strings.HasPrefix(err.Error(), "dissect: ") {
			t.Errorf("%+v registered: %v", bad, err)
		}
	}
}

// TestNamesPlain: function, action and protocol names are written into
// the operations log without escaping, so they must be plain printable
// ASCII without quotes or backslashes.
func TestNamesPlain(t *testing.T) {
	plain := func(s string) bool {
		for _, c := range []byte(s) {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	for _, d := range Default().Snapshot().Protocols() {
		if !plain(d.Name) {
			t.Errorf("protocol name %q", d.Name)
		}
		for _, a := range d.Actions {
			if !plain(a.Name) {
				t.Errorf("%s action %q", d.Name, a.Name)
			}
		}
		for fc := 0; fc < 256 && d.Functions != nil; fc++ {
			if n := d.Functions(fc); !plain(n) {
				t.Errorf("%s function %d %q", d.Name, fc, n)
			}
		}
	}
}

// TestOperationIDStable checks OperationID against FNV-1a (hash/fnv) over
// the documented byte layout: the ids are stable, so a faster hash
// must give exactly the same values.
func TestOperationIDStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var client, server decode.Addr
		for _, a := range []*decode.Addr{&client, &server} {
			a.Len = []uint8{0, 4, 6, 16}[rng.IntN(4)]
			for j := range a.Len {
				a.B[j] = byte(rng.Uint32())
			}
		}
		at, cport, sport, proto := int64(rng.Uint64()), uint16(rng.Uint32()), uint16(rng.Uint32()), uint8(rng.Uint32())
		fc, txn := int(int32(rng.Uint32())), int(int32(rng.Uint32()))
		if i%3 == 0 {
			fc, txn = -1, -1
		}
		h := fnv.New64a()
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(at)))
		h.Write(client.B[:client.Len])
		h.Write(server.B[:server.Len])
		h.Write(append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, cport), sport), proto))
		h.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(int32(fc))), uint32(int32(txn))))
		if got, want := OperationID(at, client, server, cport, sport, proto, fc, txn), h.Sum64(); got != want {
			t.Fatalf("OperationID(%d, %v, %v, %d, %d, %d, %d, %d) = %x, FNV-1a gives %x", at, client, server, cport, sport, proto, fc, txn, got, want)
		}
	}
}
