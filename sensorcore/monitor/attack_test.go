package monitor

import (
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// TestAttackSequenceHalfSpace: one data segment at seq 1000 (12 bytes),
// then a second on the same 4-tuple exactly 2^31 past the expected
// sequence number. The distance is ambiguous in serial-number arithmetic
// (RFC 1982 §3.2): the pipeline must neither panic nor lose the stream.
func TestAttackSequenceHalfSpace(t *testing.T) {
	m, err := New(Options{Learning: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ci := capture.Info{UnixNano: t0.UnixNano(), LinkType: capture.LinkEthernet}
	m.Packet(pcaptest.TCPFrame(1, 2, 40000, 502, 1000, 0x18, readReq), ci)
	ci.UnixNano = t0.Add(time.Millisecond).UnixNano()
	m.Packet(pcaptest.TCPFrame(1, 2, 40000, 502, 1012+1<<31, 0x18, writeReq), ci)
	// the stream still works afterwards
	ci.UnixNano = t0.Add(2 * time.Millisecond).UnixNano()
	m.Packet(pcaptest.TCPFrame(1, 2, 40000, 502, 1012+1<<31+12, 0x18, readReq), ci)
	if p := m.Stats().Protocols["modbus"]; p.PDUs != 3 {
		t.Fatalf("modbus PDUs %d after the half-space jump, want 3", p.PDUs)
	}
}
