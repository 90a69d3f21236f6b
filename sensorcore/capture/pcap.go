package capture

import (
	"encoding/binary"
	"io"
)

// pcapMagic reports the byte order and timestamp resolution a classic pcap
// magic number announces (tcpdump.org pcap file format §3, "Magic Number":
// 0xA1B2C3D4 microseconds, 0xA1B23C4D nanoseconds).
func pcapMagic(b []byte) (order binary.ByteOrder, nano bool, ok bool) {
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		return binary.LittleEndian, false, true
	case 0xa1b23c4d:
		return binary.LittleEndian, true, true
	}
	switch binary.BigEndian.Uint32(b) {
	case 0xa1b2c3d4:
		return binary.BigEndian, false, true
	case 0xa1b23c4d:
		return binary.BigEndian, true, true
	}
	return nil, false, false
}

// PcapReader reads the classic libpcap format.
type PcapReader struct {
	// src is the capture, held in the reader itself: the per-record path
	// reads its buffer and offset without a pointer to follow.
	src   memSource
	order binary.ByteOrder
	big   bool // order is big-endian (read without interface calls)
	// fracNanos is nanoseconds per unit of the records' second
	// fraction: 1000 (microseconds) or 1 (a nanosecond file).
	fracNanos int64
	linkType  int
	snapLen   int
}

func newPcap(src *memSource) (*PcapReader, error) {
	h, err := src.take(24)
	if err != nil {
		return nil, corrupt("file header cut short (a pcap file header has 24 bytes)")
	}
	order, nano, _ := pcapMagic(h[:4])
	p := &PcapReader{src: *src, order: order, big: order == binary.BigEndian, fracNanos: 1000}
	if nano {
		p.fracNanos = 1
	}
	p.snapLen = int(order.Uint32(h[16:20]))
	// The link type is the low 16 bits of the last header word (the upper
	// bits carry FCS information, pcap format §3 "LinkType and additional
	// information").
	p.linkType = int(order.Uint32(h[20:24]) & 0xffff)
	return p, nil
}

// LinkType is the file's LINKTYPE_* value.
func (p *PcapReader) LinkType() int { return p.linkType }

// Next returns the next record (pcap format §4, "Packet Record").
func (p *PcapReader) Next() ([]byte, Info, error) {
	var ci Info
	data, err := p.NextInfo(&ci)
	return data, ci, err
}

// NextInfo is Next filling *ci in place (see InfoReader).
func (p *PcapReader) NextInfo(ci *Info) ([]byte, error) {
	// A record whole in the buffer, the common case, in about 50
	// instructions: one bounds check for the rest of the buffer, none for
	// the header and the data, fields read in the file's byte order
	// directly, the fraction scaled by a multiplication, not a branch.
	if rest := p.src.data[p.src.off:]; len(rest) >= 16 {
		hdr := rest[:16]
		var sec, frac, incl, orig uint32
		if p.big {
			sec, frac = binary.BigEndian.Uint32(hdr[0:]), binary.BigEndian.Uint32(hdr[4:])
			incl, orig = binary.BigEndian.Uint32(hdr[8:]), binary.BigEndian.Uint32(hdr[12:])
		} else {
			sec, frac = binary.LittleEndian.Uint32(hdr[0:]), binary.LittleEndian.Uint32(hdr[4:])
			incl, orig = binary.LittleEndian.Uint32(hdr[8:]), binary.LittleEndian.Uint32(hdr[12:])
		}
		if incl <= MaxSnapLen && int(incl) <= len(rest)-16 {
			end := 16 + int(incl)
			p.src.off += end
			ci.UnixNano = int64(sec)*1e9 + int64(frac)*p.fracNanos
			ci.CaptureLen, ci.Length, ci.LinkType = int(incl), int(orig), p.linkType
			return rest[16:end:end], nil
		}
		// oversized, truncated or across the buffer's end: the general
		// path reads on or reports it
	}
	return p.next(ci)
}

// next is NextInfo's general path: a record that is not whole in the
// buffer (refilled from the file first), or a damaged one.
func (p *PcapReader) next(ci *Info) ([]byte, error) {
	hdr, err := p.src.take(16)
	if err != nil {
		return nil, err
	}
	sec := int64(p.order.Uint32(hdr[0:4]))
	frac := int64(p.order.Uint32(hdr[4:8]))
	incl := int(p.order.Uint32(hdr[8:12]))
	orig := int(p.order.Uint32(hdr[12:16]))
	if incl > MaxSnapLen {
		return nil, corrupt("record of %d bytes exceeds %d", incl, MaxSnapLen)
	}
	data, err := p.src.take(incl)
	if err == io.EOF {
		err = errCutShort
	}
	if err != nil {
		return nil, err
	}
	*ci = Info{UnixNano: sec*1e9 + frac*p.fracNanos, CaptureLen: incl, Length: orig, LinkType: p.linkType}
	return data, nil
}
