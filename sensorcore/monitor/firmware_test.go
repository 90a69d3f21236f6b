package monitor

import (
	"testing"
	"time"

	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/dissect"
)

// TestFirmwareChangedAlert: a PLC that reports (S7 SZL) another firmware
// than it reported before raises firmware-changed, through the plain and
// the stream-memo path; the first report and a repeat of the same version
// do not.
func TestFirmwareChangedAlert(t *testing.T) {
	m, _ := New(Options{Learning: -1})
	defer m.Close()
	var pkt decode.Packet
	pkt.IPVersion, pkt.Src.Len, pkt.Dst.Len, pkt.Src.B[0], pkt.Dst.B[0] = 4, 4, 4, 10, 10
	pkt.Src.B[3], pkt.Dst.B[3] = 20, 10
	szl := func(fw string) *dissect.Result {
		var r dissect.Result
		r.Extra = make([]int, 0, 4)
		r.Reset(dissect.S7comm)
		r.Function, r.Response, r.SrcRole, r.DstRole = 0x04, true, dissect.RoleS7PLC, dissect.RoleS7Client
		r.HasIdent, r.Ident.Model, r.Ident.Firmware = true, "6ES7 315-2EH14-0AB0", fw
		return &r
	}
	var memo flowMemo
	count := func() (n int, last alert.Alert) {
		for _, a := range m.Alerts() {
			if a.Rule == "firmware-changed" {
				n++
				last = a
			}
		}
		return n, last
	}
	m.PDU(t0, &pkt, szl("V3.2.6"), false)
	m.pduFlow(t0.Add(time.Second).UnixNano(), &pkt, szl("V3.2.6"), false, &memo)
	if n, _ := count(); n != 0 {
		t.Fatalf("%d firmware-changed alerts for one version", n)
	}
	m.pduFlow(t0.Add(time.Hour).UnixNano(), &pkt, szl("V3.3.1"), false, &memo)
	n, a := count()
	if n != 1 || a.Src != "10.0.0.20" || a.Dst != "10.0.0.10" {
		t.Fatalf("%d alerts, %+v", n, a)
	}
	m.PDU(t0.Add(2*time.Hour), &pkt, szl("V3.3.1"), false)
	if n, a := count(); n != 1 || a.Count != 1 {
		t.Fatalf("repeat of the new version: %d alerts, count %d", n, a.Count)
	}
	if fw := m.Assets()[0].Identity.Firmware; fw != "V3.3.1" {
		t.Fatalf("inventory firmware %q", fw)
	}
}
