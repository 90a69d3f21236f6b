package dissect

import "encoding/binary"

// DNP3 object headers (IEEE 1815-2012 §4.2.2.7): group (1), variation (1),
// qualifier (1: bit 7 reserved, bits 4-6 object prefix code, bits 0-3
// range specifier code, tables 4-9 and 4-10), then the range field, then,
// unless the function carries headers only, the objects themselves, each
// behind its prefix (an index or a size).

// dnp3HeadersOnly reports whether requests of function fc carry object
// headers without object data (§4.4: Read, the freeze functions without
// time, enable/disable unsolicited and assign class).
func dnp3HeadersOnly(fc byte) bool {
	switch fc {
	case 1, 7, 8, 9, 10, 20, 21, 22:
		return true
	}
	return false
}

// dnp3ObjectSize is the size of one object of group g variation v in
// octets, or in bits for packed objects (bits > 0); ok is false when the
// size is not known (device attributes, variable-size objects without a
// size prefix, variations this table lacks). IEEE 1815-2012 annex A.
func dnp3ObjectSize(g, v uint8) (octets, bits int, ok bool) {
	switch g {
	case 1: // binary input
		switch v {
		case 1:
			return 0, 1, true
		case 2:
			return 1, 0, true
		}
	case 2: // binary input event
		return sizeOf(v, 1, 7, 3)
	case 3: // double-bit binary input
		switch v {
		case 1:
			return 0, 2, true
		case 2:
			return 1, 0, true
		}
	case 4: // double-bit binary input event
		return sizeOf(v, 1, 7, 3)
	case 10: // binary output
		switch v {
		case 1:
			return 0, 1, true
		case 2:
			return 1, 0, true
		}
	case 11, 13: // binary output event, binary output command event
		return sizeOf(v, 1, 7)
	case 12: // binary command: CROB, pattern control block, pattern mask
		switch v {
		case 1, 2:
			return 11, 0, true
		case 3:
			return 0, 1, true
		}
	case 20: // counter
		return sizeOf(v, 5, 3, 5, 3, 4, 2, 4, 2)
	case 21: // frozen counter
		return sizeOf(v, 5, 3, 5, 3, 11, 9, 11, 9, 4, 2, 4, 2)
	case 22, 23: // counter event, frozen counter event
		return sizeOf(v, 5, 3, 5, 3, 11, 9, 11, 9)
	case 30: // analog input
		return sizeOf(v, 5, 3, 4, 2, 5, 9)
	case 31: // frozen analog input
		return sizeOf(v, 5, 3, 11, 9, 4, 2, 5, 9)
	case 32, 33, 42, 43: // analog input, frozen analog, analog output and analog command events
		return sizeOf(v, 5, 3, 11, 9, 5, 9, 11, 15)
	case 34: // analog input deadband
		return sizeOf(v, 2, 4, 4)
	case 40: // analog output status
		return sizeOf(v, 5, 3, 5, 9)
	case 41: // analog output block
		return sizeOf(v, 5, 3, 5, 9)
	case 50: // time and date
		return sizeOf(v, 6, 10, 6, 11)
	case 51: // common time of occurrence
		return sizeOf(v, 6, 6)
	case 52: // time delay
		return sizeOf(v, 2, 2)
	case 60: // class objects: never carry data
		if v >= 1 && v <= 4 {
			return 0, 0, true
		}
	case 80: // internal indications
		if v == 1 {
			return 0, 1, true
		}
	case 110, 111, 112, 113: // octet strings, virtual terminal: the variation is the length
		if v > 0 {
			return int(v), 0, true
		}
	case 121: // security statistic
		return sizeOf(v, 7)
	case 122: // security statistic event
		return sizeOf(v, 7, 13)
	}
	return 0, 0, false
}

// sizeOf returns sizes[v-1] when v is in range.
func sizeOf(v uint8, sizes ...int) (int, int, bool) {
	if v == 0 || int(v) > len(sizes) {
		return 0, 0, false
	}
	return sizes[v-1], 0, true
}

// dnp3Objects walks the object headers in objs (the fragment after its
// application header). headersOnly says the function carries no object
// data; whole says the fragment ends with objs, so a header, range field
// or object data that runs past it is malformed (otherwise the fragment
// continues in the next segment and the walk stops where objs ends). The
// walk also stops, without error, where it cannot go on: an object whose
// size is not known, a reserved qualifier code, an empty range (as
// Wireshark's dnp3 dissector, which reads no items there).
func dnp3Objects(objs []byte, headersOnly, whole bool, r *Result) error {
	overrun := func() error { return overrunErr(whole) }
	for len(objs) > 0 {
		if len(objs) < 3 {
			return overrun()
		}
		h := DNP3Header{Group: objs[0], Variation: objs[1], Qualifier: objs[2]}
		q := h.Qualifier
		prefix, rng := (q>>4)&7, q&0x0f // bit 7 is reserved (table 4-9)
		p := objs[3:]
		var n uint64 // number of objects
		switch rng {
		case 0x0, 0x1, 0x2, 0x3, 0x4, 0x5: // start and stop index (or virtual address), 1, 2 or 4 octets
			w := 1 << (rng % 3)
			if len(p) < 2*w {
				return overrun()
			}
			h.Range, h.Start, h.Stop = DNP3RangeStartStop, leUint(p[:w]), leUint(p[w:2*w])
			p = p[2*w:]
			if h.Stop < h.Start {
				r.addHeader(h)
				return nil // an empty range: what follows cannot be placed
			}
			n = uint64(h.Stop-h.Start) + 1
		case 0x6: // all objects, no range field
			h.Range = DNP3RangeAll
		case 0x7, 0x8, 0x9: // count, 1, 2 or 4 octets
			w := 1 << (rng - 0x7)
			if len(p) < w {
				return overrun()
			}
			h.Range, h.Count = DNP3RangeCount, leUint(p[:w])
			p = p[w:]
			n = uint64(h.Count)
		case 0xb: // variable-format qualifier: 1-octet count, objects behind a size prefix
			if len(p) < 1 {
				return overrun()
			}
			h.Range, h.Count = DNP3RangeCount, uint32(p[0])
			p = p[1:]
			n = uint64(h.Count)
			if prefix < 4 || prefix > 6 {
				r.addHeader(h)
				return nil // objects without their sizes: cannot be walked
			}
		default:
			// A reserved range specifier: its range field's size is not
			// known, so the walk ends here (tshark reads no items either).
			r.addHeader(h)
			return nil
		}
		if prefix == 7 {
			r.addHeader(h)
			return nil // reserved prefix code
		}
		r.addHeader(h)
		if headersOnly || rng == 0x6 {
			objs = p
			continue
		}
		size, bits, known := dnp3ObjectSize(h.Group, h.Variation)
		pw := 0 // prefix width in octets
		switch prefix {
		case 1, 4:
			pw = 1
		case 2, 5:
			pw = 2
		case 3, 6:
			pw = 4
		}
		switch {
		case prefix >= 4: // each object behind its own size
			rest, ok, err := dnp3Sized(p, n, pw, whole)
			if !ok {
				return err
			}
			p = rest
		case !known:
			return nil // cannot tell where this header's objects end
		case bits > 0:
			if prefix != 0 {
				return nil // packed objects behind an index: not defined
			}
			total := (n*uint64(bits) + 7) / 8
			if uint64(len(p)) < total {
				return overrun()
			}
			p = p[total:]
		default:
			per := uint64(size + pw)
			if per > 0 && uint64(len(p))/per < n {
				if !whole {
					dnp3Controls(h, p, pw, r)
				}
				return overrun()
			}
			if h.Group == 12 && h.Variation == 1 {
				dnp3Controls(h, p[:n*per], pw, r)
			}
			p = p[n*per:]
		}
		objs = p
	}
	return nil
}

// dnp3Sized skips n objects, each behind a size prefix of pw octets. ok
// is false when they run past p: an error when the fragment ends with p,
// else the walk stops there.
func dnp3Sized(p []byte, n uint64, pw int, whole bool) (rest []byte, ok bool, err error) {
	for i := uint64(0); i < n; i++ {
		if len(p) < pw {
			return nil, false, overrunErr(whole)
		}
		sz := uint64(leUint(p[:pw]))
		p = p[pw:]
		if uint64(len(p)) < sz {
			return nil, false, overrunErr(whole)
		}
		p = p[sz:]
	}
	return p, true, nil
}

// overrunErr is what running past the data is: malformed when the
// fragment ends there, nothing when it continues in the next segment.
func overrunErr(whole bool) error {
	if whole {
		return errLength
	}
	return nil
}

// dnp3Controls reads the CROBs of a group 12 variation 1 header from p
// (objects of 11 octets behind an index prefix of pw octets, or numbered
// from the header's start index): control code (1), count (1), on time
// (4), off time (4), status (1), §A.8.1.
func dnp3Controls(h DNP3Header, p []byte, pw int, r *Result) {
	idx := h.Start
	for len(p) >= pw+11 {
		if pw > 0 {
			idx = leUint(p[:pw])
		}
		o := p[pw:]
		r.addControl(DNP3Control{Index: idx, Code: o[0], Count: o[1], OnTime: binary.LittleEndian.Uint32(o[2:6]),
			OffTime: binary.LittleEndian.Uint32(o[6:10]), Status: o[10] & 0x7f})
		p = p[pw+11:]
		idx++
	}
}

// leUint reads a 1, 2 or 4 octet little-endian unsigned integer.
func leUint(b []byte) uint32 {
	switch len(b) {
	case 1:
		return uint32(b[0])
	case 2:
		return uint32(binary.LittleEndian.Uint16(b))
	case 4:
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}
