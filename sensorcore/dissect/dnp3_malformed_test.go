package dissect

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/decode"
	"github.com/tapline/tapline/sensorcore/internal/pcaptest"
)

// dnp3LastHeader returns the user-data offset of the qualifier of the
// last object header of a whole application fragment in link frame f, or
// -1 when the frame holds no such fragment or its objects cannot be
// walked to the end.
func dnp3LastHeader(f []byte) int {
	var user []byte
	for body := f[10:]; len(body) > 2; {
		n := min(16, len(body)-2)
		user = append(user, body[:n]...)
		body = body[n+2:]
	}
	if len(user) < 3 || f[3]&0x40 == 0 || user[0]&0xc0 != 0xc0 {
		return -1
	}
	fc := user[2]
	at := 3
	if fc >= 129 {
		at = 5
	}
	last := -1
	for at < len(user) {
		if at+3 > len(user) {
			return -1
		}
		g, v, q := user[at], user[at+1], user[at+2]
		last = at + 2
		prefix, rng := int(q>>4&7), q&0x0f
		p := at + 3
		var n uint64
		switch rng {
		case 0, 1, 2:
			w := 1 << rng
			if p+2*w > len(user) {
				return -1
			}
			start, stop := leUint(user[p:p+w]), leUint(user[p+w:p+2*w])
			if stop < start {
				return -1
			}
			n, p = uint64(stop-start)+1, p+2*w
		case 6:
		case 7, 8:
			w := 1 << (rng - 7)
			if p+w > len(user) {
				return -1
			}
			n, p = uint64(leUint(user[p:p+w])), p+w
		default:
			return -1
		}
		if !(dnp3HeadersOnly(fc) && user[1]&0x80 == 0 || rng == 6) {
			size, bits, ok := dnp3ObjectSize(g, v)
			pw := [...]int{0, 1, 2, 4, 1, 2, 4, 0}[prefix]
			switch {
			case !ok || prefix >= 4:
				return -1
			case bits > 0:
				p += int((n*uint64(bits) + 7) / 8)
			default:
				p += int(n) * (size + pw)
			}
		}
		if p > len(user) {
			return -1
		}
		at = p
	}
	return last
}

// dnp3TsharkStops lists the changed frames tshark does not mark, and why.
var dnp3TsharkStops = map[string]string{
	"opendnp3-conformance-8_15_2.pcap 10": "its first object is group 51 variation 2 (unsynchronized common time of occurrence, " +
		"IEEE 1815-2012 A.27.2, 6 octets), which tshark 4.0 calls an unknown object and stops reading the fragment at; the changed header comes after it",
}

// TestDNP3MalformedObjectsTshark makes a malformed-DNP3 capture out of the
// real shared ones: in every DNP3 frame that holds a whole application
// fragment with object headers, the last header's qualifier becomes a
// 4-octet count (0x09) of 2^32-1 objects, so its range or its objects
// run past the end of the fragment, with every CRC fixed so only the
// object layer is wrong.
// tshark 4.0 must mark as malformed exactly the frames DecodeDNP3 calls
// malformed, and that must be every frame changed, except where
// dnp3TsharkStops says why tshark cannot see it.
func TestDNP3MalformedObjectsTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		needs.Missing(t, "needs tshark (Debian package tshark; make test installs it)")
	}
	files, _ := filepath.Glob(filepath.Join(sharedDir(t), "dnp3*", "*.pcap"))
	if len(files) == 0 {
		needs.Missing(t, "needs the shared DNP3 captures in %s", sharedDir(t))
	}
	changed, total := 0, 0
	for _, file := range files {
		recs := pcaptest.Read(t, file)
		ours, mine := map[int]bool{}, 0
		for i := range recs {
			off, pkt, ok := pcaptest.Payload(recs[i].Data, recs[i].LinkType)
			if !ok || pkt.SrcPort != 20000 && pkt.DstPort != 20000 {
				continue
			}
			f := recs[i].Data[off:]
			if DNP3Len(f) != len(f) || !MatchDNP3(f) {
				continue
			}
			q := dnp3LastHeader(f)
			if q < 0 {
				continue
			}
			f[pcaptest.DNP3UserOffset(q)] = 0x09
			for j := 1; j <= 4 && pcaptest.DNP3UserOffset(q+j) < len(f)-2; j++ {
				f[pcaptest.DNP3UserOffset(q+j)] = 0xff // a count of 2^32-1, where there is room for one
			}
			pcaptest.DNP3FixCRCs(f)
			changed++
			mine++
			var r Result
			if DecodeDNP3(f, decode.DirUnknown, &r) != nil {
				ours[i+1] = true
			}
		}
		total += len(recs)
		out := filepath.Join(t.TempDir(), "malformed-"+filepath.Base(file))
		pcaptest.Write(t, out, recs)
		cmd := exec.Command(tshark, "-n", "-r", out, "-T", "fields", "-e", "frame.number", "-e", "_ws.malformed", "-Y", "dnp3")
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", out, err)
		}
		theirs := map[int]bool{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			if len(f) == 2 && f[1] != "" {
				n, _ := strconv.Atoi(f[0])
				theirs[n] = true
			}
		}
		for n := range theirs {
			if !ours[n] {
				t.Errorf("%s frame %d: tshark marks it malformed, sensorcore does not", filepath.Base(file), n)
			}
		}
		for n := range ours {
			if !theirs[n] && dnp3TsharkStops[filepath.Base(file)+" "+strconv.Itoa(n)] == "" {
				t.Errorf("%s frame %d: sensorcore calls it malformed, tshark does not", filepath.Base(file), n)
			}
		}
		if len(ours) != mine {
			t.Errorf("%s: %d frames changed, %d malformed", filepath.Base(file), mine, len(ours))
		}
		t.Logf("%s: %d frames, %d made malformed; tshark marks %d, sensorcore %d", filepath.Base(file), len(recs), mine, len(theirs), len(ours))
	}
	if changed < 20 {
		t.Fatalf("only %d DNP3 frames could be made malformed", changed)
	}
}
