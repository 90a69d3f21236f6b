package monitor

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
)

// tsharkOperations are the tshark 4.0 fields the operations log is
// counted against, one tshark run per file.
var tsharkOperations = []string{
	"tcp.srcport", "tcp.dstport", "modbus.func_code", "dnp3.al.func",
	"s7comm.header.rosctr", "s7comm.param.func", "s7comm.param.userdata.type", "s7comm.param.userdata.funcgroup", "s7comm.param.userdata.subfunc",
	"cip.sc", "cip.rr", "enip.command",
	"iec60870_asdu.typeid", "iec60870_asdu.causetx",
	"bacapp.type", "bacapp.confirmed_service", "bacapp.unconfirmed_service",
	"pn_dcp.service_id", "pn_dcp.service_type",
}

// tsharkOps counts what the operations log must hold, as tshark sees the
// PDUs of file:
//
//   - "ops.P.fn.N": requests and notifications of function (service, type
//     id) N: Modbus function codes sent to port 502; DNP3 application
//     functions below 129 and unsolicited responses (130); S7comm jobs;
//     every CIP request service, embedded ones included (cip.sc with the
//     request bit clear); IEC-104 ASDUs that answer nothing (every cause
//     but the confirmations 7, 9, 44-47 and, in the monitor direction, 5
//     requested); BACnet confirmed requests ("fn") and unconfirmed services
//     ("unconfirmed"); PROFINET DCP requests;
//   - "ops.s7comm.ud.G.S": S7 userdata requests and pushes by function
//     group and subfunction;
//   - "ops.P.answers": the PDUs that answer a request: Modbus ADUs from
//     port 502, DNP3 responses (129), S7 acks and ack-data and userdata
//     responses, EtherNet/IP CIP messages from port 44818, IEC-104
//     confirmations, BACnet acks, errors, rejects and aborts, DCP
//     responses.
func tsharkOps(t *testing.T, tshark, file string) map[string]uint64 {
	args := []string{"-n", "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=#"}
	for _, f := range tsharkOperations {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	num := func(v string) int {
		n, err := strconv.ParseInt(v, 0, 32)
		if err != nil {
			t.Fatalf("tshark %s: %q", file, v)
		}
		return int(n)
	}
	split := func(v string) []int {
		if v == "" {
			return nil
		}
		var out []int
		for _, x := range strings.Split(v, "|") {
			out = append(out, num(x))
		}
		return out
	}
	c := map[string]uint64{}
	add := func(f string, a ...any) { c[fmt.Sprintf(f, a...)]++ }
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "#")
		if len(f) != len(tsharkOperations) {
			continue
		}
		v := make([][]int, len(f))
		for i := range f {
			v[i] = split(f[i])
		}
		src, dst := 0, 0
		if len(v[0]) > 0 {
			src, dst = v[0][0], v[1][0]
		}
		for _, fc := range v[2] {
			switch {
			case dst == 502:
				add("ops.modbus.fn.%d", fc)
			case src == 502:
				add("ops.modbus.answers")
			}
		}
		for _, fc := range v[3] {
			switch {
			case fc == 129:
				add("ops.dnp3.answers")
			default:
				add("ops.dnp3.fn.%d", fc)
			}
		}
		ros, fns := v[4], v[5]
		fi := 0
		for _, r := range ros {
			switch r {
			case 1:
				if fi < len(fns) {
					add("ops.s7comm.fn.%d", fns[fi])
				}
				fi++
			case 3:
				fi++
				add("ops.s7comm.answers")
			case 2:
				add("ops.s7comm.answers")
			}
		}
		for i, typ := range v[6] {
			switch {
			case typ == 8:
				add("ops.s7comm.answers")
			case i < len(v[7]) && i < len(v[8]):
				add("ops.s7comm.ud.%d.%d", v[7][i], v[8][i])
			}
		}
		for i, sc := range v[9] {
			if i < len(v[10]) && v[10][i] == 0 {
				add("ops.enip.fn.%d", sc)
			}
		}
		if src == 44818 {
			for _, cmd := range v[11] {
				if cmd == 0x6f || cmd == 0x70 {
					add("ops.enip.answers")
				}
			}
		}
		for i, typ := range v[12] {
			if i >= len(v[13]) {
				break
			}
			cause := v[13][i]
			control := typ >= 45 && typ <= 69 || typ >= 100 && typ <= 119
			if control && (cause == 7 || cause == 9 || cause >= 44 && cause <= 47) || !control && typ < 120 && cause == 5 {
				add("ops.iec104.answers")
			} else {
				add("ops.iec104.fn.%d", typ)
			}
		}
		for _, typ := range v[14] {
			switch typ {
			case 0:
				for _, s := range v[15] {
					add("ops.bacnet.fn.%d", s)
				}
			case 1:
				for _, s := range v[16] {
					add("ops.bacnet.unconfirmed.%d", s)
				}
			case 2, 3, 5, 6, 7:
				add("ops.bacnet.answers")
			}
		}
		for i, id := range v[17] {
			if i < len(v[18]) && v[18][i]&1 != 0 {
				add("ops.profinet_dcp.answers")
			} else {
				add("ops.profinet_dcp.fn.%d", id)
			}
		}
	}
	return c
}

// ourOps counts the operations log records of file the way tsharkOps
// counts PDUs: a record that is a request or a notification counts under
// its function (and a CIP record under each embedded service too, S7
// userdata under its group and subfunction); a record that holds an
// answer (its request's, with a latency, or alone) counts one answer.
func ourOps(t *testing.T, file string) map[string]uint64 {
	c := map[string]uint64{}
	for _, op := range operationsOf(t, file) {
		p := op.Protocol
		answer := op.LatencyUS != nil || op.RequestSeen != nil
		if p == "profinet_dcp" && op.Result == "notification" && op.Function != nil && *op.Function == 5 {
			// an Identify response to a multicast request: tshark calls it
			// a response
			answer = true
		}
		if answer {
			c["ops."+p+".answers"]++
		}
		if op.RequestSeen != nil || op.Function == nil && op.Group == nil {
			continue // an answer alone
		}
		if answer && p == "profinet_dcp" && op.Result == "notification" {
			continue
		}
		switch {
		case op.Group != nil:
			c[fmt.Sprintf("ops.%s.ud.%d.%d", p, *op.Group, *op.Subfunction)]++
		case op.Unconfirmed:
			c[fmt.Sprintf("ops.%s.unconfirmed.%d", p, *op.Function)]++
		default:
			c[fmt.Sprintf("ops.%s.fn.%d", p, *op.Function)]++
		}
		for _, s := range op.Services {
			c[fmt.Sprintf("ops.%s.fn.%d", p, s.Service)]++
		}
		if op.MoreServices > 0 {
			t.Errorf("%s: a record drops %d CIP services; the count cannot be compared", file, op.MoreServices)
		}
	}
	return c
}

// TestOperationsLogTshark: on every shared capture, the operations log
// holds, per protocol, one record per request and notification, counted
// per function as tshark counts them, and one answer per answering PDU
// (tsharkOps says what each key counts). Differences are listed with
// their reasons in testdata/groundtruth-allowed.tsv under "ops." keys.
func TestOperationsLogTshark(t *testing.T) {
	files := sharedCaptures(t)
	tshark := needs.Tool(t, "tshark", "tshark")
	allow := readAllowed(t)
	writes := 0
	for _, file := range files {
		base := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		theirs, ours := tsharkOps(t, tshark, file), ourOps(t, file)
		for k, n := range ours {
			if strings.HasPrefix(k, "ops.modbus.fn.") {
				if fc, _ := strconv.Atoi(strings.TrimPrefix(k, "ops.modbus.fn.")); fc == 5 || fc == 6 || fc == 15 || fc == 16 || fc == 23 {
					writes += int(n)
				}
			}
		}
		compareCounts(t, base, base, theirs, ours, allow)
	}
	unusedAllowed(t, allow, true)
	if writes == 0 {
		t.Fatal("no Modbus write request logged on the shared captures")
	}
}
