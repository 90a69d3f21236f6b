package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tapline/tapline/internal/needs"
)

// writePcap encodes packets as classic pcap in the given byte order and
// resolution.
func writePcap(order binary.ByteOrder, nano bool, pkts [][]byte, ts []time.Time) []byte {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	h := make([]byte, 24)
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 65535)
	order.PutUint32(h[20:], LinkEthernet)
	b.Write(h)
	for i, p := range pkts {
		r := make([]byte, 16)
		order.PutUint32(r[0:], uint32(ts[i].Unix()))
		if nano {
			order.PutUint32(r[4:], uint32(ts[i].Nanosecond()))
		} else {
			order.PutUint32(r[4:], uint32(ts[i].Nanosecond()/1000))
		}
		order.PutUint32(r[8:], uint32(len(p)))
		order.PutUint32(r[12:], uint32(len(p)+4))
		b.Write(r)
		b.Write(p)
	}
	return b.Bytes()
}

// writePcapNG encodes packets as pcapng with nanosecond if_tsresol.
func writePcapNG(order binary.ByteOrder, pkts [][]byte, ts []time.Time) []byte {
	var b bytes.Buffer
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		h := make([]byte, 8)
		order.PutUint32(h[0:], typ)
		order.PutUint32(h[4:], n)
		b.Write(h)
		b.Write(body)
		t := make([]byte, 4)
		order.PutUint32(t, n)
		b.Write(t)
	}
	shb := make([]byte, 16)
	order.PutUint32(shb[0:], 0x1a2b3c4d)
	order.PutUint16(shb[4:], 1)
	binary.LittleEndian.PutUint64(shb[8:], ^uint64(0))
	block(blockSHB, shb)
	idb := make([]byte, 8)
	order.PutUint16(idb[0:], LinkEthernet)
	order.PutUint32(idb[4:], 65535)
	opt := make([]byte, 4)
	order.PutUint16(opt[0:], 9)
	order.PutUint16(opt[2:], 1)
	idb = append(append(idb, opt...), 9, 0, 0, 0, 0, 0, 0, 0) // if_tsresol=9, opt_endofopt
	block(blockIDB, idb)
	for i, p := range pkts {
		e := make([]byte, 20)
		ns := uint64(ts[i].UnixNano())
		order.PutUint32(e[4:], uint32(ns>>32))
		order.PutUint32(e[8:], uint32(ns))
		order.PutUint32(e[12:], uint32(len(p)))
		order.PutUint32(e[16:], uint32(len(p)))
		block(blockEPB, append(e, p...))
	}
	block(0x00000005, []byte{1, 2, 3, 4}) // interface statistics: skipped
	return b.Bytes()
}

func readAll(t *testing.T, data []byte) ([][]byte, []Info) {
	p1, i1 := readWith(t, data, false)
	p2, i2 := readWith(t, data, true)
	if len(p1) != len(p2) {
		t.Fatalf("stream reader %d packets, bytes reader %d", len(p1), len(p2))
	}
	for i := range p1 {
		if !bytes.Equal(p1[i], p2[i]) || i1[i] != i2[i] {
			t.Fatalf("packet %d differs between the stream and the in-memory reader", i)
		}
	}
	return p1, i1
}

func readWith(t *testing.T, data []byte, inMemory bool) ([][]byte, []Info) {
	var r Reader
	var err error
	if inMemory {
		r, err = NewBytesReader(data)
	} else {
		r, err = NewReader(bytes.NewReader(data))
	}
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	var infos []Info
	for {
		p, ci, err := r.Next()
		if err == io.EOF {
			return pkts, infos
		}
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), p...))
		infos = append(infos, ci)
	}
}

func TestFormatsByMagic(t *testing.T) {
	pkts := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 1514), {3, 3, 3}}
	ts := []time.Time{time.Unix(1700000000, 123456789), time.Unix(1700000001, 5000), time.Unix(1700000002, 999999000)}
	cases := []struct {
		name string
		data []byte
		nano bool
	}{
		{"pcap little-endian microseconds", writePcap(binary.LittleEndian, false, pkts, ts), false},
		{"pcap big-endian microseconds", writePcap(binary.BigEndian, false, pkts, ts), false},
		{"pcap little-endian nanoseconds", writePcap(binary.LittleEndian, true, pkts, ts), true},
		{"pcap big-endian nanoseconds", writePcap(binary.BigEndian, true, pkts, ts), true},
		{"pcapng little-endian", writePcapNG(binary.LittleEndian, pkts, ts), true},
		{"pcapng big-endian", writePcapNG(binary.BigEndian, pkts, ts), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, infos := readAll(t, tc.data)
			if len(got) != len(pkts) {
				t.Fatalf("%d packets, want %d", len(got), len(pkts))
			}
			for i := range pkts {
				if !bytes.Equal(got[i], pkts[i]) {
					t.Errorf("packet %d differs", i)
				}
				want := ts[i]
				if !tc.nano {
					want = want.Truncate(time.Microsecond)
				}
				if !infos[i].Timestamp().Equal(want) {
					t.Errorf("packet %d time %v, want %v", i, infos[i].Timestamp(), want)
				}
				if infos[i].LinkType != LinkEthernet {
					t.Errorf("link type %d", infos[i].LinkType)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	if _, err := NewReader(bytes.NewReader([]byte("GIF89a..."))); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown magic: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(nil)); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("empty: %v", err)
	}
	data := writePcap(binary.LittleEndian, false, [][]byte{make([]byte, 100)}, []time.Time{time.Unix(1, 0)})
	r, err := NewReader(bytes.NewReader(data[:len(data)-10]))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated record: %v", err)
	}
	r, _ = NewBytesReader(data[:len(data)-10])
	if _, _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated record in memory: %v", err)
	}
	r, _ = NewBytesReader(data[:24+8])
	if _, _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated record header in memory: %v", err)
	}
	huge := writePcap(binary.LittleEndian, false, nil, nil)
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[8:], MaxSnapLen+1)
	r, _ = NewReader(bytes.NewReader(append(huge, rec...)))
	if _, _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("oversized record: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.pcap")); err == nil {
		t.Error("missing file opened")
	}
}

// TestSharedPcapVsPcapNG reads the same capture as pcap and as real
// pcapng (made by editcap) and expects identical packets and times.
func TestSharedPcapVsPcapNG(t *testing.T) {
	base := filepath.Join(needs.SharedDir(t), "pcaps", "iec104", "090813_diverse")
	a, err1 := os.ReadFile(base + ".pcap")
	b, err2 := os.ReadFile(base + ".pcapng")
	if err1 != nil || err2 != nil {
		needs.Missing(t, "needs the shared captures %s.pcap and .pcapng", base)
	}
	pa, ia := readAll(t, a)
	pb, ib := readAll(t, b)
	if len(pa) != len(pb) || len(pa) == 0 {
		t.Fatalf("%d vs %d packets", len(pa), len(pb))
	}
	for i := range pa {
		if !bytes.Equal(pa[i], pb[i]) || !ia[i].Timestamp().Equal(ib[i].Timestamp()) {
			t.Fatalf("packet %d differs between pcap and pcapng", i)
		}
	}
}

func TestParseFilter(t *testing.T) {
	// tcpdump -ddd 'tcp port 502' (Ethernet), abbreviated to its first
	// and last instructions with a valid count.
	prog, err := ParseFilter("3\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n")
	if err != nil || len(prog) != 3 || prog[1].K != 2048 || prog[1].Jf != 1 {
		t.Fatalf("prog %v err %v", prog, err)
	}
	for _, bad := range []string{"2\n40 0 0 12\n", "x\n", "1\n40 0 12\n", "1\n40 0 300 1\n"} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzReader(f *testing.F) {
	ts := []time.Time{time.Unix(1, 0)}
	f.Add(writePcap(binary.LittleEndian, false, [][]byte{{1, 2, 3}}, ts))
	f.Add(writePcap(binary.BigEndian, true, [][]byte{{1, 2, 3}}, ts))
	f.Add(writePcapNG(binary.LittleEndian, [][]byte{{1, 2, 3}}, ts))
	f.Add(writePcapNG(binary.BigEndian, [][]byte{{1, 2, 3}}, ts))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := NewBytesReader(data); err == nil {
			for i := 0; i < 1000; i++ {
				if _, _, err := r.Next(); err != nil {
					break
				}
			}
		}
		// read in place through a window of a few bytes: the same records
		if r, err := newReader(&memSource{data: data[:0:0], mapped: data, window: 7}); err == nil {
			sameRecords(t, "mapped", data, r)
		}
		r, err := NewReader(iotest.HalfReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		// read through the buffer in short reads: the records and the
		// ending are those of the same bytes in memory
		sameRecords(t, "stream", data, r)
	})
}

func FuzzParseFilter(f *testing.F) {
	f.Add("3\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n")
	f.Add("1,6 0 0 0")
	f.Fuzz(func(t *testing.T, s string) {
		prog, err := ParseFilter(s)
		if err == nil && len(prog) > 4096 {
			t.Fatal("program longer than the kernel accepts")
		}
	})
}
