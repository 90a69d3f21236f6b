package dissect

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Evidence describes in one line what a decoded PDU addresses, for an
// alert's message: "points=3 LATCH_ON,4 PULSE_ON CLOSE" (DNP3 CROBs),
// "class=0xa1 instance=1" (CIP), "block=DB1" (S7), "address=10
// quantity=2" (Modbus), "ioa=5" (IEC-104), "object=analog-value:1
// property=85" (BACnet), `station="plc-1" ip=192.0.2.9` (PROFINET DCP);
// "" when the PDU names nothing. It allocates, so it is for alerts, never
// the packet path.
func Evidence(r *Result) string {
	var parts []string
	add := func(f string, a ...any) { parts = append(parts, fmt.Sprintf(f, a...)) }
	switch r.Proto {
	case Modbus:
		if r.Address >= 0 {
			add("address=%d quantity=%d", r.Address, max(r.Quantity, 1))
		}
	case DNP3:
		if cs := r.DNP3Controls(); len(cs) > 0 {
			ps := make([]string, len(cs))
			for i, c := range cs {
				ps[i] = strconv.FormatUint(uint64(c.Index), 10) + " " + DNP3ControlName(c.Code)
			}
			add("points=%s", strings.Join(ps, ","))
		} else if hs := r.DNP3Headers(); len(hs) > 0 {
			os := make([]string, len(hs))
			for i, h := range hs {
				os[i] = fmt.Sprintf("g%dv%d", h.Group, h.Variation)
				switch h.Range {
				case DNP3RangeStartStop:
					os[i] += fmt.Sprintf(" %d-%d", h.Start, h.Stop)
				case DNP3RangeCount:
					os[i] += fmt.Sprintf(" x%d", h.Count)
				}
			}
			add("objects=%s", strings.Join(os, ","))
		}
	case ENIP:
		s := CIPService{Class: r.Class, Instance: r.Instance, Attribute: r.Attribute, Tag: r.Tag}
		if ss := r.CIPServices(); len(ss) > 0 && (s.Class < 0 || s.Class == 2 || s.Class == 6) {
			// the Message Router or Connection Manager only carries the
			// requests: name the first (a firmware transfer first)
			s = ss[0]
			for _, e := range ss {
				if e.Class == 0xa1 {
					s = e
					break
				}
			}
			add("service=0x%02x", s.Service)
		}
		if s.Class >= 0 {
			add("class=0x%02x", s.Class)
		}
		if s.Instance >= 0 {
			add("instance=%d", s.Instance)
		}
		if s.Attribute >= 0 {
			add("attribute=%d", s.Attribute)
		}
		if len(s.Tag) > 0 {
			add("tag=%q", s.Tag)
		}
	case S7comm:
		if r.Block.Type != 0 {
			add("block=%s%d", S7BlockTypeName(r.Block.Type), r.Block.Number)
		}
		if r.Group >= 0 {
			add("userdata=%q", S7UserdataName(r.Group, r.Subfunction))
		}
	case IEC104:
		if r.Address >= 0 {
			add("ioa=%d", r.Address)
		}
	case BACnet:
		if refs := r.BACnetRefs(); len(refs) > 0 {
			ref := refs[0]
			t := BACnetObjectTypeName(ref.Type)
			if t == "" {
				t = strconv.Itoa(int(ref.Type))
			}
			add("object=%s:%d", t, ref.Instance)
			if ref.Property >= 0 {
				add("property=%d", ref.Property)
			}
		}
	case PNDCP:
		if len(r.Station) > 0 {
			add("station=%q", r.Station)
		}
		if r.HasStationIP {
			add("ip=%s", netip.AddrFrom4([4]byte(r.StationIP[:4])))
		}
	}
	return strings.Join(parts, " ")
}
