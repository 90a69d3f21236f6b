package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/capture"
	"github.com/tapline/tapline/sensorcore/decode"
)

// relink rewrites one Ethernet frame for another link type, as a capture
// on that kind of interface would have recorded it; ok is false for a
// frame that link cannot carry (not IP on a raw or loopback link).
type relink struct {
	name     string
	linkType int
	frame    func(eth []byte) (out []byte, ok bool)
}

// ipOf strips the Ethernet header and any VLAN tags: the IP packet and its
// version, or ok false.
func ipOf(eth []byte) (ip []byte, v6 bool, ok bool) {
	if len(eth) < 14 {
		return nil, false, false
	}
	et, b := binary.BigEndian.Uint16(eth[12:14]), eth[14:]
	for (et == decode.EtherTypeVLAN || et == decode.EtherTypeQinQ) && len(b) >= 4 {
		et, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
	}
	switch et {
	case decode.EtherTypeIPv4:
		return b, false, true
	case decode.EtherTypeIPv6:
		return b, true, true
	}
	return nil, false, false
}

var relinks = []relink{
	{"802.1Q", decode.LinkEthernet, func(e []byte) ([]byte, bool) {
		if len(e) < 14 {
			return nil, false
		}
		out := append([]byte{}, e[:12]...)
		out = append(out, 0x81, 0x00, 0x00, 100) // VLAN 100
		return append(out, e[12:]...), true
	}},
	{"sll", decode.LinkLinuxSLL, func(e []byte) ([]byte, bool) {
		if len(e) < 14 {
			return nil, false
		}
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], e[6:12])
		copy(h[14:], e[12:14])
		return append(h, e[14:]...), true
	}},
	{"sll2", decode.LinkLinuxSLL2, func(e []byte) ([]byte, bool) {
		if len(e) < 14 {
			return nil, false
		}
		h := make([]byte, 20)
		copy(h[0:], e[12:14])
		binary.BigEndian.PutUint32(h[4:], 2) // interface index
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		h[11] = 6
		copy(h[12:], e[6:12])
		return append(h, e[14:]...), true
	}},
	{"raw", decode.LinkRaw, func(e []byte) ([]byte, bool) {
		ip, _, ok := ipOf(e)
		return append([]byte{}, ip...), ok
	}},
	{"null", decode.LinkNull, func(e []byte) ([]byte, bool) {
		ip, v6, ok := ipOf(e)
		af := uint32(2)
		if v6 {
			af = 30 // macOS
		}
		return append(binary.LittleEndian.AppendUint32(nil, af), ip...), ok
	}},
	{"loop", decode.LinkLoop, func(e []byte) ([]byte, bool) {
		ip, v6, ok := ipOf(e)
		af := uint32(2)
		if v6 {
			af = 24
		}
		return append(binary.BigEndian.AppendUint32(nil, af), ip...), ok
	}},
}

// relinkFile writes the Ethernet capture file as a pcap of another link
// type into dir; ok is false when the file is not Ethernet.
func relinkFile(t *testing.T, file, dir string, rl relink) (string, bool) {
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	buf.Write(pcapHeader(rl.linkType))
	for {
		data, ci, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ci.LinkType != decode.LinkEthernet {
			return "", false
		}
		out, ok := rl.frame(data)
		if !ok {
			continue
		}
		writeRecord(&buf, ci.Timestamp(), ci.Length+len(out)-len(data), out)
	}
	p := filepath.Join(dir, rl.name+"-"+filepath.Base(file))
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, true
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestGroundTruthLinkTypes: the smallest Ethernet capture of each protocol
// folder, rewritten for every other link type sensorcore decodes (802.1Q
// tagged, Linux SLL and SLL2, raw IP, BSD NULL and OpenBSD LOOP; two per
// folder in turn, each on at least two protocols), gives
// tshark's counts there too, with the same allowed differences as the
// original file.
func TestGroundTruthLinkTypes(t *testing.T) {
	files := sharedCaptures(t)
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		needs.Missing(t, "needs tshark (Debian package tshark; make test installs it)")
	}
	allow := readAllowed(t)
	dir := t.TempDir()
	sort.SliceStable(files, func(i, j int) bool { return fileSize(files[i]) < fileSize(files[j]) })
	done := map[string]bool{}
	covered := map[string]int{}
	for _, file := range files {
		folder := filepath.Base(filepath.Dir(file))
		if done[folder] {
			continue
		}
		base := folder + "/" + filepath.Base(file)
		// Two link types per folder, in turn, so every link type meets
		// several protocols without a tshark run for every pair.
		for i := 0; i < 2; i++ {
			rl := relinks[(2*len(done)+i)%len(relinks)]
			p, ok := relinkFile(t, file, dir, rl)
			if !ok {
				break // not Ethernet: the next file of the folder
			}
			covered[rl.name]++
			compareCounts(t, base+" as "+rl.name, base, tsharkCounts(t, tshark, p), ourCounts(t, p), allow)
			if i == 1 {
				done[folder] = true
			}
		}
	}
	for _, rl := range relinks {
		if covered[rl.name] < 2 {
			t.Errorf("link type %s compared on %d captures only", rl.name, covered[rl.name])
		}
	}
}
