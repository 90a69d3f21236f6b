package capture

import (
	"encoding/binary"
	"io"
)

// pcapng block types (draft-ietf-opsawg-pcapng §4 and §11.1).
const (
	blockSHB = 0x0a0d0d0a // Section Header Block
	blockIDB = 0x00000001 // Interface Description Block
	blockPB  = 0x00000002 // Packet Block (obsolete)
	blockSPB = 0x00000003 // Simple Packet Block
	blockEPB = 0x00000006 // Enhanced Packet Block
)

type ngIface struct {
	linkType int
	// tsDiv converts timestamp units to nanoseconds: ns = ts * mul / div.
	mul, div int64
}

// PcapNGReader reads pcapng, including several sections with different byte
// orders and several interfaces with their own link types and resolutions.
type PcapNGReader struct {
	src    *memSource
	order  binary.ByteOrder
	ifaces []ngIface
}

func newPcapNG(src *memSource) (*PcapNGReader, error) {
	return &PcapNGReader{src: src, order: binary.LittleEndian}, nil
}

// Next returns the next packet from an Enhanced, Simple or obsolete Packet
// Block, skipping every other block type.
func (p *PcapNGReader) Next() ([]byte, Info, error) {
	for {
		hdr, err := p.src.take(8)
		if err != nil {
			return nil, Info{}, err
		}
		typ := binary.LittleEndian.Uint32(hdr[0:4])
		var total int
		if typ == blockSHB {
			// The byte-order magic follows the length (§4.1); the length
			// itself is in that order.
			lenBytes := [4]byte(hdr[4:8])
			bom, err := p.src.peek(4)
			if err != nil {
				return nil, Info{}, errCutShort
			}
			switch {
			case binary.LittleEndian.Uint32(bom) == 0x1a2b3c4d:
				p.order = binary.LittleEndian
			case binary.BigEndian.Uint32(bom) == 0x1a2b3c4d:
				p.order = binary.BigEndian
			default:
				return nil, Info{}, corrupt("section header byte-order magic %x", bom)
			}
			p.ifaces = p.ifaces[:0]
			total = int(p.order.Uint32(lenBytes[:]))
		} else {
			typ = p.order.Uint32(hdr[0:4])
			total = int(p.order.Uint32(hdr[4:8]))
		}
		if total < 12 || total%4 != 0 || total > MaxSnapLen+64 {
			return nil, Info{}, corrupt("block length %d", total)
		}
		blk, err := p.src.take(total - 8)
		if err == io.EOF {
			err = errCutShort
		}
		if err != nil {
			return nil, Info{}, err
		}
		body := blk[:len(blk)-4] // drop the trailing length copy
		switch typ {
		case blockIDB:
			if len(body) < 8 {
				return nil, Info{}, corrupt("interface block too short")
			}
			p.ifaces = append(p.ifaces, p.parseIDB(body))
		case blockEPB:
			// §4.3: interface id, ts high, ts low, captured len, original len, data.
			if len(body) < 20 {
				return nil, Info{}, corrupt("enhanced packet block too short")
			}
			id := int(p.order.Uint32(body[0:4]))
			ts := uint64(p.order.Uint32(body[4:8]))<<32 | uint64(p.order.Uint32(body[8:12]))
			capLen := int(p.order.Uint32(body[12:16]))
			orig := int(p.order.Uint32(body[16:20]))
			if id >= len(p.ifaces) || capLen > len(body)-20 {
				return nil, Info{}, corrupt("enhanced packet block: interface %d or length %d invalid", id, capLen)
			}
			ifc := p.ifaces[id]
			return body[20 : 20+capLen], Info{UnixNano: ifc.unixNano(ts), CaptureLen: capLen, Length: orig, LinkType: ifc.linkType}, nil
		case blockSPB:
			// §4.4: original length then data, interface 0, no timestamp.
			if len(body) < 4 || len(p.ifaces) == 0 {
				return nil, Info{}, corrupt("simple packet block without interface")
			}
			orig := int(p.order.Uint32(body[0:4]))
			data := body[4:]
			if orig < len(data) {
				data = data[:orig]
			}
			return data, Info{CaptureLen: len(data), Length: orig, LinkType: p.ifaces[0].linkType}, nil
		case blockPB:
			// Appendix A: interface id (16), drops (16), ts high, ts low, caplen, len.
			if len(body) < 20 {
				return nil, Info{}, corrupt("packet block too short")
			}
			id := int(p.order.Uint16(body[0:2]))
			ts := uint64(p.order.Uint32(body[4:8]))<<32 | uint64(p.order.Uint32(body[8:12]))
			capLen := int(p.order.Uint32(body[12:16]))
			orig := int(p.order.Uint32(body[16:20]))
			if id >= len(p.ifaces) || capLen > len(body)-20 {
				return nil, Info{}, corrupt("packet block: interface %d or length %d invalid", id, capLen)
			}
			ifc := p.ifaces[id]
			return body[20 : 20+capLen], Info{UnixNano: ifc.unixNano(ts), CaptureLen: capLen, Length: orig, LinkType: ifc.linkType}, nil
		}
	}
}

// parseIDB reads the link type and the if_tsresol option (§4.2, option 9).
func (p *PcapNGReader) parseIDB(body []byte) ngIface {
	ifc := ngIface{linkType: int(p.order.Uint16(body[0:2])), mul: 1000, div: 1}
	opts := body[8:]
	for len(opts) >= 4 {
		code := p.order.Uint16(opts[0:2])
		l := int(p.order.Uint16(opts[2:4]))
		if code == 0 || 4+l > len(opts) {
			break
		}
		if code == 9 && l >= 1 {
			v := opts[4]
			if v&0x80 == 0 {
				// power of ten
				pow := int64(1)
				for i := 0; i < int(v&0x7f) && i < 18; i++ {
					pow *= 10
				}
				if pow >= 1e9 {
					ifc.mul, ifc.div = 1, pow/1e9
				} else {
					ifc.mul, ifc.div = 1e9/pow, 1
				}
			} else {
				// power of two: approximate with nanoseconds = ts*1e9 >> n
				n := int(v & 0x7f)
				if n > 62 {
					n = 62
				}
				ifc.mul, ifc.div = 1e9, int64(1)<<n
			}
		}
		opts = opts[4+(l+3)&^3:]
	}
	return ifc
}

// unixNano converts a timestamp in the interface's units to nanoseconds.
func (i ngIface) unixNano(ts uint64) int64 {
	if i.div == 1 {
		return int64(ts) * i.mul
	}
	if i.mul == 1 {
		return int64(ts) / i.div
	}
	sec := int64(ts) / i.div
	rem := int64(ts) % i.div
	return sec*1e9 + rem*i.mul/i.div
}
