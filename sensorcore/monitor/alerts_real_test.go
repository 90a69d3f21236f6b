package monitor

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/alert"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
	"github.com/tapline/tapline/sensorcore/inventory"
)

// The alerts an analyst expects, each raised on a real shared capture or
// on one made from a real capture by changing a few octets (the shared
// captures hold no firmware transfer, Identity reply or mode-transition
// push), each checked against tshark where tshark can say, and each
// naming the operations log records that raised it.

// sharedFile is one shared capture, skipping (failing under CI=true) when
// the shared captures are missing.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	for _, f := range sharedCaptures(t) {
		if strings.HasSuffix(f, "/"+rel) {
			return f
		}
	}
	needs.Missing(t, "needs the shared capture %s", rel)
	return ""
}

// runCapture analyses capture files with learning as given (negative:
// only the always-on rules) and returns the report and the operations
// log records.
func runCapture(t *testing.T, learning time.Duration, files ...string) (Report, []opRecord) {
	t.Helper()
	var ops []opRecord
	var rep Report
	for i, f := range files {
		_ = i
		ops = append(ops, operationsOf(t, f)...)
	}
	m, err := New(Options{Learning: learning})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, f := range files {
		if fr := m.RunFile(f); fr.Status != FileComplete {
			t.Fatalf("%s: %s", f, fr.Error)
		}
	}
	rep = m.Report()
	return rep, ops
}

// alertsOf returns the alerts of rule.
func alertsOf(rep Report, rule string) []alert.Alert {
	var out []alert.Alert
	for _, a := range rep.Alerts {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

// namesRecords fails unless every operation a names is a record of ops,
// and returns those records.
func namesRecords(t *testing.T, a alert.Alert, ops []opRecord) []opRecord {
	t.Helper()
	if len(a.Operations) == 0 {
		t.Fatalf("alert %s names no operation", a.Rule)
	}
	var out []opRecord
	for _, ref := range a.Operations {
		b, _ := ref.MarshalText()
		i := slices.IndexFunc(ops, func(o opRecord) bool { return o.ID == string(b) })
		if i < 0 {
			t.Fatalf("alert %s names operation %s, which the log does not hold", a.Rule, b)
		}
		out = append(out, ops[i])
	}
	return out
}

// tsharkFieldCounts counts the values tshark prints for field in file
// (every occurrence), with filter applied.
func tsharkFieldCounts(t *testing.T, file, filter, field string) map[string]int {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		needs.Missing(t, "needs tshark (Debian package tshark; make test installs it)")
	}
	args := []string{"-n", "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", field}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	c := map[string]int{}
	for _, l := range strings.Split(string(out), "\n") {
		for _, v := range strings.Split(l, "|") {
			if v != "" {
				c[v]++
			}
		}
	}
	return c
}

// TestAlertPROFINETDCPSet: profinet-dcp-set.pcap renames a device with a
// DCP Set: one high alert naming the Set record; the device's Identify
// response makes its asset (station name, vendor and device id, type of
// station, IP address with its MAC); PROFINET-RT.pcap's Identify requests
// make the senders assets and raise nothing.
func TestAlertPROFINETDCPSet(t *testing.T) {
	file := sharedFile(t, "profinet/profinet-dcp-set.pcap")
	rep, ops := runCapture(t, -1, file)
	as := alertsOf(rep, "profinet-dcp-set")
	if len(as) != 1 || len(rep.Alerts) != 1 || as[0].Severity != alert.SevHigh || as[0].Src != "00:80:c8:38:a4:8b" || as[0].Dst != "00:02:e3:17:c7:50" ||
		!strings.Contains(as[0].Message, `station="%n%n%n "`) {
		t.Fatalf("alerts %+v", rep.Alerts)
	}
	rec := namesRecords(t, as[0], ops)
	if rec[0].FunctionName != "Set" || rec[0].Station != "%n%n%n " || rec[0].Result != "ok" {
		t.Fatalf("the alert names %+v", rec[0])
	}
	if n := tsharkFieldCounts(t, file, "pn_dcp.service_type == 0", "pn_dcp.service_id")["4"]; n != 1 {
		t.Fatalf("tshark sees %d Set requests", n)
	}
	var dev *inventory.Asset
	for i := range rep.Assets {
		if rep.Assets[i].ID == "ip:192.168.0.11" {
			dev = &rep.Assets[i]
		}
	}
	if dev == nil || dev.MAC != "00:02:e3:17:c7:50" || dev.Identity.Name != "%n%n%n " || dev.Identity.VendorID != 42 || dev.Identity.DeviceID != 0x101 ||
		dev.Identity.Model != "S7-300EC" || !slices.Contains(dev.Roles, "PROFINET device") {
		t.Fatalf("device asset %+v", dev)
	}
	want := tsharkFieldCounts(t, file, "pn_dcp.service_id == 5 && pn_dcp.service_type == 1", "pn_dcp.suboption_device_nameofstation")
	if _, ok := want["%n%n%n "]; !ok {
		t.Fatalf("tshark reads the station name as %v", want)
	}

	rt := sharedFile(t, "profinet/PROFINET-RT.pcap")
	rep, _ = runCapture(t, -1, rt)
	clients := 0
	for _, a := range rep.Assets {
		if strings.HasPrefix(a.ID, "mac:") && slices.Contains(a.Roles, "PROFINET DCP client") && slices.Contains(a.Protocols, "profinet_dcp") {
			clients++
		}
	}
	senders := len(tsharkFieldCounts(t, rt, "pn_dcp", "eth.src"))
	if clients != senders || len(rep.Alerts) != 0 {
		t.Fatalf("%d DCP client assets for %d senders, alerts %+v", clients, senders, rep.Alerts)
	}
}

// dnp3Variant returns a copy of directoperate_and_response.pcap whose
// Direct Operate request has function fc, CRCs fixed.
func dnp3Variant(t *testing.T, fc byte) string {
	src := sharedFile(t, "dnp3/directoperate_and_response.pcap")
	recs := pcaptest.Read(t, src)
	done := false
	for i := range recs {
		off, pkt, ok := pcaptest.Payload(recs[i].Data, recs[i].LinkType)
		f := recs[i].Data[off:]
		if ok && pkt.DstPort == 20000 && len(f) > 12 && f[0] == 0x05 && f[1] == 0x64 {
			f[pcaptest.DNP3UserOffset(2)] = fc
			pcaptest.DNP3FixCRCs(f)
			done = true
		}
	}
	if !done {
		t.Fatal("no DNP3 request in directoperate_and_response.pcap")
	}
	out := filepath.Join(t.TempDir(), "dnp3-fc.pcap")
	pcaptest.Write(t, out, recs)
	return out
}

// TestAlertDNP3Controls: a Direct Operate (directoperate_and_response.pcap)
// and, made from it, a Select and an Operate each raise their alert
// naming the CROB point (index 0, LATCH_ON, as tshark reads it) and the
// record of the request.
func TestAlertDNP3Controls(t *testing.T) {
	tests := []struct {
		fc       byte
		rule     string
		severity string
	}{
		{5, "dnp3-direct-operate", alert.SevHigh},
		{3, "dnp3-select", alert.SevMedium},
		{4, "dnp3-operate", alert.SevHigh},
		{6, "dnp3-direct-operate", alert.SevHigh},
	}
	for _, tc := range tests {
		file := dnp3Variant(t, tc.fc)
		rep, ops := runCapture(t, -1, file)
		as := alertsOf(rep, tc.rule)
		if len(as) != 1 || as[0].Severity != tc.severity || !strings.Contains(as[0].Message, "points=0 LATCH_ON") || rep.Protocols["dnp3"].Malformed != 0 {
			t.Fatalf("function %d: alerts %+v", tc.fc, rep.Alerts)
		}
		rec := namesRecords(t, as[0], ops)
		if *rec[0].Function != int(tc.fc) || len(rec[0].Controls) != 1 || rec[0].Controls[0].Index != 0 || rec[0].Controls[0].Operation != "LATCH_ON" ||
			rec[0].Controls[0].OnMS != 100 {
			t.Fatalf("function %d: the alert names %+v", tc.fc, rec[0])
		}
		if tc.fc == 5 {
			if c := tsharkFieldCounts(t, file, "dnp3.al.func == 5", "dnp3.al.index"); c["0"] != 1 {
				t.Fatalf("tshark reads the CROB indexes %v", c)
			}
			if c := tsharkFieldCounts(t, file, "dnp3.al.func == 5", "dnp3.ctl.op"); c["3"] != 1 && c["0x03"] != 1 {
				t.Fatalf("tshark reads the control codes %v", c)
			}
		}
	}
	// A Direct Operate whose CROB header claims 2^32-1 objects: malformed,
	// flagged, and no operation.
	file := dnp3Variant(t, 5)
	recs := pcaptest.Read(t, file)
	for i := range recs {
		off, pkt, ok := pcaptest.Payload(recs[i].Data, recs[i].LinkType)
		if f := recs[i].Data[off:]; ok && pkt.DstPort == 20000 && len(f) > 12 {
			for j, b := range []byte{0x09, 0xff, 0xff, 0xff, 0xff} {
				f[pcaptest.DNP3UserOffset(5+j)] = b
			}
			pcaptest.DNP3FixCRCs(f)
		}
	}
	bad := filepath.Join(t.TempDir(), "dnp3-overrun.pcap")
	pcaptest.Write(t, bad, recs)
	rep, ops := runCapture(t, -1, bad)
	if m := alertsOf(rep, "malformed-pdu"); len(m) != 1 || len(alertsOf(rep, "dnp3-direct-operate")) != 0 || rep.Protocols["dnp3"].Malformed != 1 {
		t.Fatalf("alerts %+v, malformed %d", rep.Alerts, rep.Protocols["dnp3"].Malformed)
	}
	for _, o := range ops {
		if o.Function != nil && *o.Function == 5 {
			t.Fatalf("a malformed request was logged: %+v", o)
		}
	}
	if n := len(tsharkFieldCounts(t, bad, "_ws.malformed", "frame.number")); n != 1 {
		t.Fatalf("tshark marks %d frames malformed", n)
	}
}

// cipEdit returns a copy of EthernetIP-CIP.pcap in which edit changed
// the TCP payloads; edit reports how many it changed.
func cipEdit(t *testing.T, edit func(payload []byte, fromServer bool) bool) (string, int) {
	src := sharedFile(t, "enip/EthernetIP-CIP.pcap")
	recs := pcaptest.Read(t, src)
	n := 0
	for i := range recs {
		off, pkt, ok := pcaptest.Payload(recs[i].Data, recs[i].LinkType)
		if ok && (pkt.SrcPort == 44818 || pkt.DstPort == 44818) && edit(recs[i].Data[off:], pkt.SrcPort == 44818) {
			n++
		}
	}
	out := filepath.Join(t.TempDir(), "cip.pcap")
	pcaptest.Write(t, out, recs)
	return out, n
}

// getAttributesAll is the Get_Attributes_All request EthernetIP-CIP.pcap
// routes through Unconnected Send to its PLCs (class 0xAC, instance 1).
var getAttributesAll = []byte{0x01, 0x02, 0x20, 0xac, 0x24, 0x01}

// TestAlertCIPFirmwareTransfer: made from EthernetIP-CIP.pcap, whose
// scanner routes Get_Attributes_All requests to its PLCs: the first ten
// become Non-Volatile Storage transfers (service 0x4D, class 0xA1, as
// ControlFLASH sends them, as tshark reads them): one critical alert per
// PLC, naming the transfer records.
func TestAlertCIPFirmwareTransfer(t *testing.T) {
	left := 10
	file, n := cipEdit(t, func(p []byte, fromServer bool) bool {
		i := bytes.Index(p, getAttributesAll)
		if fromServer || i < 0 || left == 0 {
			return false
		}
		copy(p[i:], []byte{0x4d, 0x02, 0x20, 0xa1, 0x24, 0x01})
		left--
		return true
	})
	if n != 10 {
		t.Fatalf("%d requests changed", n)
	}
	if c := tsharkFieldCounts(t, file, "cip.class == 0xa1", "cip.sc"); c["0x4d"] != 10 {
		t.Fatalf("tshark reads the services to class 0xA1 as %v", c)
	}
	rep, ops := runCapture(t, -1, file)
	as := alertsOf(rep, "cip-firmware-transfer")
	total := 0
	for _, a := range as {
		total += int(a.Count)
		if a.Severity != alert.SevCritical || a.Src != "141.81.0.10" || !strings.Contains(a.Message, "class=0xa1 instance=1") {
			t.Fatalf("alert %+v", a)
		}
		for _, rec := range namesRecords(t, a, ops) {
			if len(rec.Services) != 1 || rec.Services[0].Service != 0x4d || *rec.Services[0].Class != 0xa1 || rec.Services[0].ServiceName != "NVS_Transfer" {
				t.Fatalf("the alert names %+v", rec)
			}
		}
	}
	if total != 10 || len(as) == 0 {
		t.Fatalf("%d transfers alerted in %d alerts", total, len(as))
	}
	// The same capture unchanged raises no such alert: its thousands of
	// Logix tag reads (0x4C) are no firmware transfer.
	rep, _ = runCapture(t, -1, sharedFile(t, "enip/EthernetIP-CIP.pcap"))
	if len(alertsOf(rep, "cip-firmware-transfer")) != 0 {
		t.Fatal("the unchanged capture raised a firmware transfer alert")
	}
}

// identityReply is a Get_Attributes_All reply of the Identity object
// (CIP Vol 1 §5A-2), 32 octets as the replies it replaces: vendor 1,
// device type 14 (programmable logic controller), product code 0x37,
// revision major.minor, status, serial 0x00c0ffee, a 17-character name.
func identityReply(major, minor byte) []byte {
	b := []byte{1, 0, 14, 0, 0x37, 0, major, minor, 0x60, 0x30, 0xee, 0xff, 0xc0, 0x00, 17}
	return append(b, "1756-L61/B LOGIX5"...)
}

// TestCIPIdentityFirmwareChanged: made from EthernetIP-CIP.pcap: its routed
// Get_Attributes_All requests are pointed at the Identity object (class
// 1) and their 32-octet replies hold Identity attributes, revision 20.11
// and, from the middle of the capture on, 21.11: each PLC's asset gets
// vendor, product code, model, serial and firmware as tshark reads them,
// and firmware-changed fires, naming the request whose reply showed the
// new revision.
func TestCIPIdentityFirmwareChanged(t *testing.T) {
	requests, replies := 0, 0
	file, _ := cipEdit(t, func(p []byte, fromServer bool) bool {
		if !fromServer {
			i := bytes.Index(p, getAttributesAll)
			if i < 0 {
				return false
			}
			p[i+3] = 0x01
			requests++
			return true
		}
		// a Get_Attributes_All reply of 32 octets in an unconnected data item
		i := bytes.Index(p, []byte{0xb2, 0x00, 0x24, 0x00, 0x81, 0x00, 0x00, 0x00})
		if i < 0 || len(p) < i+8+32 {
			return false
		}
		replies++
		rev := byte(20)
		if replies > 60 {
			rev = 21
		}
		copy(p[i+8:], identityReply(rev, 11))
		return true
	})
	if replies < 100 {
		t.Fatalf("only %d replies changed", replies)
	}
	// One connection holds a reply more than requests (its request came
	// before the capture): tshark, like sensorcore, reads the others.
	names := tsharkFieldCounts(t, file, "", "cip.id.product_name")
	majors := tsharkFieldCounts(t, file, "", "cip.id.major_rev")
	if names["1756-L61/B LOGIX5"] != requests || majors["20"] == 0 || majors["21"] == 0 {
		t.Fatalf("tshark reads names %v, revisions %v, of %d replies to %d requests", names, majors, replies, requests)
	}
	rep, ops := runCapture(t, -1, file)
	plcs := 0
	for _, a := range rep.Assets {
		if a.Identity.Model == "1756-L61/B LOGIX5" {
			plcs++
			if a.Identity.VendorID != 1 || a.Identity.ProductCode != 0x37 || a.Identity.DeviceType != 14 || a.Identity.Serial != "0xc0ffee" ||
				a.Identity.Firmware != "21.11" {
				t.Fatalf("asset %+v", a)
			}
		}
	}
	fc := alertsOf(rep, "firmware-changed")
	if plcs == 0 || len(fc) != plcs {
		t.Fatalf("%d PLCs identified, %d firmware-changed alerts: %+v", plcs, len(fc), fc)
	}
	for _, a := range fc {
		if !strings.Contains(a.Message, `"21.11" after reporting "20.11"`) {
			t.Fatalf("alert %+v", a)
		}
		rec := namesRecords(t, a, ops)
		if *rec[0].Function != 0x52 || len(rec[0].Services) != 1 || *rec[0].Services[0].Class != 1 || rec[0].Result != "ok" {
			t.Fatalf("the alert names %+v", rec[0])
		}
	}
}

// TestAlertS7StopNotification: snap7_s300_stop.pcapng holds a PLC Stop
// job and its ack; made from it, the PLC then pushes its mode transition
// to STOP (userdata, function group 0, subfunction 0), as S7-300 CPUs tell
// registered clients: tshark reads it as a valid mode transition, it is
// not malformed, and it raises s7-plc-stop from the PLC, naming its
// notification record.
func TestAlertS7StopNotification(t *testing.T) {
	recs := pcaptest.Read(t, sharedFile(t, "s7comm/snap7_s300_stop.pcapng"))
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	off, _, _ := pcaptest.Payload(recs[1].Data, recs[1].LinkType)
	s7 := []byte{0x32, 0x07, 0, 0, 0, 0, 0, 8, 0, 4, 0x00, 0x01, 0x12, 0x04, 0x11, 0x00, 0x00, 0x01, 0xff, 0x09, 0x00, 0x00}
	push := append([]byte{3, 0, 0, byte(7 + len(s7)), 2, 0xf0, 0x80}, s7...)
	recs = append(recs, pcaptest.WithPayload(t, recs[1], push, uint32(len(recs[1].Data)-off), recs[1].Time.Add(200*time.Millisecond)))
	file := filepath.Join(t.TempDir(), "s7-stop-push.pcap")
	pcaptest.Write(t, file, recs)
	if c := tsharkFieldCounts(t, file, "s7comm.param.userdata.funcgroup == 0", "s7comm.param.modetrans.subfunc"); c["0"] != 1 {
		t.Fatalf("tshark reads the mode transitions as %v", c)
	}
	if n := len(tsharkFieldCounts(t, file, "_ws.malformed || _ws.expert.severity >= 6291456", "frame.number")); n != 0 {
		t.Fatalf("tshark finds %d frames in error", n)
	}
	rep, ops := runCapture(t, -1, file)
	if rep.Protocols["s7comm"].Malformed != 0 || len(alertsOf(rep, "malformed-pdu")) != 0 {
		t.Fatalf("malformed: %+v", rep.Alerts)
	}
	var fromPLC *alert.Alert
	for _, a := range alertsOf(rep, "s7-plc-stop") {
		if a.Src == "134.249.61.163" {
			fromPLC = &a
		}
	}
	if fromPLC == nil || fromPLC.Severity != alert.SevCritical || len(alertsOf(rep, "s7-plc-stop")) != 2 {
		t.Fatalf("alerts %+v", rep.Alerts)
	}
	rec := namesRecords(t, *fromPLC, ops)
	if rec[0].Result != "notification" || rec[0].UserdataName != "Mode-transition STOP" || rec[0].Server.IP != "134.249.61.163" {
		t.Fatalf("the alert names %+v", rec[0])
	}
}

// TestModbusWriteLearning: on ModbusTCP.pcap, learning over the first
// half: the master's writes afterwards (to the units and addresses it
// wrote during learning) raise nothing. Made from it, three writes of
// the second half are changed: one to another unit, one to addresses
// never written, one from another client; each raises its alert, naming
// the changed request's record.
func TestModbusWriteLearning(t *testing.T) {
	src := sharedFile(t, "modbus/ModbusTCP.pcap")
	rep, _ := runCapture(t, 42*time.Second, src)
	for _, a := range rep.Alerts {
		if strings.HasPrefix(a.Rule, "modbus-write") {
			t.Fatalf("a learned master's write alerted: %+v", a)
		}
	}
	recs := pcaptest.Read(t, src)
	start := recs[0].Time.Add(60 * time.Second)
	changed := 0
	for i := range recs {
		off, pkt, ok := pcaptest.Payload(recs[i].Data, recs[i].LinkType)
		p := recs[i].Data[off:]
		if !ok || pkt.DstPort != 502 || recs[i].Time.Before(start) || len(p) < 12 || p[7] != 15 {
			continue
		}
		switch changed {
		case 0: // unit 255 -> 7
			p[6] = 7
		case 1: // start address -> 9000
			binary.BigEndian.PutUint16(p[8:], 9000)
		case 2: // from another client on the same network
			ip := 14 + 12
			recs[i].Data[ip+3] = 99
		}
		changed++
		if changed == 3 {
			break
		}
	}
	file := filepath.Join(t.TempDir(), "modbus-writes.pcap")
	pcaptest.Write(t, file, recs)
	rep, ops := runCapture(t, 42*time.Second, file)
	want := map[string]bool{"modbus-write-new-unit": true, "modbus-write-new-range": true, "modbus-write-unknown-master": true}
	for _, a := range rep.Alerts {
		if !strings.HasPrefix(a.Rule, "modbus-write") {
			continue
		}
		if !want[a.Rule] || a.Count != 1 {
			t.Fatalf("alert %+v", a)
		}
		delete(want, a.Rule)
		rec := namesRecords(t, a, ops)
		if *rec[0].Function != 15 || rec[0].Action != "Modbus write" {
			t.Fatalf("%s names %+v", a.Rule, rec[0])
		}
	}
	if len(want) != 0 {
		t.Fatalf("missing alerts %v in %+v", want, rep.Alerts)
	}
}
