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
	src      memSource
	order    binary.ByteOrder
	big      bool // order is big-endian (read without interface calls)
	nano     bool
	linkType int
	snapLen  int
}

func newPcap(src *memSource) (*PcapReader, error) {
	h, err := src.take(24)
	if err != nil {
		return nil, corrupt("file header cut short (a pcap file header has 24 bytes)")
	}
	order, nano, _ := pcapMagic(h[:4])
	p := &PcapReader{src: *src, order: order, big: order == binary.BigEndian, nano: nano}
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
	if m := &p.src; len(m.data)-m.off >= 16 {
		// Whole in the buffer: one bounds check for the header and one for the
		// data, fields read in the file's byte order directly.
		hdr := m.data[m.off : m.off+16]
		var sec, frac int64
		var incl, orig int
		if p.big {
			sec, frac = int64(binary.BigEndian.Uint32(hdr[0:])), int64(binary.BigEndian.Uint32(hdr[4:]))
			incl, orig = int(binary.BigEndian.Uint32(hdr[8:])), int(binary.BigEndian.Uint32(hdr[12:]))
		} else {
			sec, frac = int64(binary.LittleEndian.Uint32(hdr[0:])), int64(binary.LittleEndian.Uint32(hdr[4:]))
			incl, orig = int(binary.LittleEndian.Uint32(hdr[8:])), int(binary.LittleEndian.Uint32(hdr[12:]))
		}
		if start := m.off + 16; incl <= MaxSnapLen && incl <= len(m.data)-start {
			m.off = start + incl
			if !p.nano {
				frac *= 1000
			}
			*ci = Info{UnixNano: sec*1e9 + frac, CaptureLen: incl, Length: orig, LinkType: p.linkType}
			return m.data[start:m.off:m.off], nil
		}
		// oversized, truncated or across the buffer's end: the general
		// path reads on or reports it
	}
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
	if !p.nano {
		frac *= 1000
	}
	*ci = Info{UnixNano: sec*1e9 + frac, CaptureLen: incl, Length: orig, LinkType: p.linkType}
	return data, nil
}
