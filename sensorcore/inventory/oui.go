package inventory

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// DefaultManuf is where Debian's libwireshark-data (pulled in by tshark)
// installs Wireshark's copy of the IEEE MA-L, MA-M and MA-S registries.
const DefaultManuf = "/usr/share/wireshark/manuf"

// OUI maps MAC address prefixes (24, 28 or 36 bits) to vendor names. It
// keeps the file's bytes and indexes them lazily: Resolve scans once for
// the few prefixes an inventory needs, the first other Lookup builds the
// full index. It is not safe for concurrent use.
type OUI struct {
	data []byte
	m    map[uint64]string // key: prefix bits << 56 | prefix value
	full bool
	done map[[6]byte]bool // MACs Resolve has answered for
}

// ParseManuf reads a Wireshark manuf file: lines "XX:XX:XX<TAB>short<TAB>
// long name" or "XX:XX:XX:XX:XX:XX/NN<TAB>short<TAB>long", '#' comments.
// Lines that do not parse are skipped. It scans bytes by hand: the file
// has some 50,000 lines and is read at every start.
func ParseManuf(r io.Reader) (*OUI, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inventory: manuf: %w", err)
	}
	return parseManuf(data)
}

func parseManuf(data []byte) (*OUI, error) {
	o := &OUI{data: data}
	found := false
	o.scan(func(uint64) bool { found = true; return false })
	if !found {
		return nil, fmt.Errorf("inventory: manuf file holds no OUI entries")
	}
	return o, nil
}

// scan walks the entries and stores the names of those want accepts.
// Before any index exists (o.m nil) it is a probe: it stops at the first
// entry want declines.
func (o *OUI) scan(want func(key uint64) bool) { o.scanSome(want, nil) }

// scanSome is scan, skipping lines that start with "XX:XX:XX" (every
// entry's first three octets) not marked in first (see ouiFilter) when
// first is not nil.
func (o *OUI) scanSome(want func(key uint64) bool, first *ouiFilter) {
	data := o.data
	for len(data) > 0 {
		// Resolve's common case, nearly every line of the registry: an
		// entry whose first three octets the filter rejects is stepped
		// over from one word of its start, without slicing the line out
		// (about 95 instructions a line instead of 110, most of them
		// IndexByte's). A line shorter than 8 bytes, whose word runs into
		// the next line, holds no entry either (a prefix has at least
		// "XX:XX:XX" before its tab).
		if first != nil && len(data) >= 8 {
			w := binary.LittleEndian.Uint64(data)
			if w&0x0000ff0000ff0000 == 0x00003a00003a0000 && !first.hasWord(w) { // ':' at 2 and 5
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					return
				}
				data = data[i+1:]
				continue
			}
		}
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		tab := bytes.IndexByte(line, '\t')
		if tab <= 0 {
			continue
		}
		v, bits, ok := parsePrefix(line[:tab])
		if !ok {
			continue
		}
		key := uint64(bits)<<56 | v
		if !want(key) {
			if o.m == nil {
				return // probe: one valid entry is enough
			}
			continue
		}
		rest := line[tab+1:]
		name := rest
		if j := bytes.IndexByte(rest, '\t'); j >= 0 {
			name = rest[:j]
			if long := bytes.TrimRight(bytes.TrimSpace(rest[j+1:]), ", \r"); len(long) > 0 {
				name = long
			}
		}
		if name = bytes.TrimSpace(name); len(name) > 0 && o.m != nil {
			o.m[key] = string(name)
		}
	}
}

func (o *OUI) index() {
	o.m = make(map[uint64]string, 56000)
	o.scan(func(uint64) bool { return true })
	o.full = true
}

// Resolve prepares lookups for macs with one scan of the registry and no
// full index.
func (o *OUI) Resolve(macs [][6]byte) {
	if o == nil || o.full || len(macs) == 0 {
		return
	}
	if o.m == nil {
		o.m = map[uint64]string{}
		o.done = map[[6]byte]bool{}
	}
	want := map[uint64]bool{}
	first := new(ouiFilter)
	for _, mac := range macs {
		if o.done[mac] {
			continue
		}
		o.done[mac] = true
		first.add(mac)
		v := macValue(mac)
		for _, bits := range [...]int{36, 28, 24} {
			want[uint64(bits)<<56|v>>uint(48-bits)] = true
		}
	}
	if len(want) > 0 {
		o.scanSome(func(k uint64) bool { return want[k] }, first)
	}
}

// ouiFilter is a bit set over a hash of a line's first eight bytes
// ("XX:XX:XX", case folded): a line whose bit is clear is not one of the
// wanted OUIs, so Resolve skips it without parsing. Collisions only cost
// a parse.
type ouiFilter [1024]uint64

func ouiText(b []byte) uint64 {
	// OR 0x20 folds A-F to a-f and leaves digits and ':' alone.
	return binary.LittleEndian.Uint64(b) | 0x2020202020202020
}

func (f *ouiFilter) bit(x uint64) (int, uint64) {
	h := x * 0x9e3779b97f4a7c15 >> 48
	return int(h >> 6), 1 << (h & 63)
}

func (f *ouiFilter) add(mac [6]byte) {
	const hexdigits = "0123456789abcdef"
	t := [8]byte{2: ':', 5: ':'}
	for i, j := 0, 0; i < 3; i, j = i+1, j+3 {
		t[j], t[j+1] = hexdigits[mac[i]>>4], hexdigits[mac[i]&15]
	}
	w, m := f.bit(ouiText(t[:]))
	f[w] |= m
}

// hasWord tests a line's first eight bytes, read little-endian.
func (f *ouiFilter) hasWord(text uint64) bool {
	w, m := f.bit(text | 0x2020202020202020) // as ouiText
	return f[w]&m != 0
}

func macValue(mac [6]byte) uint64 {
	var v uint64
	for _, b := range mac {
		v = v<<8 | uint64(b)
	}
	return v
}

// parsePrefix reads "XX:XX:XX" or "XX:XX:XX:XX:XX:XX/NN" (separators ':',
// '-' or '.') into the top bits-long prefix value.
func parsePrefix(p []byte) (uint64, int, bool) {
	bits := 24
	if i := bytes.IndexByte(p, '/'); i >= 0 {
		n, err := strconv.Atoi(string(p[i+1:]))
		if err != nil || n != 24 && n != 28 && n != 36 {
			return 0, 0, false
		}
		bits, p = n, p[:i]
	}
	var v uint64
	octets, digits := 0, 0
	for _, c := range p {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c == ':' || c == '-' || c == '.':
			if digits != 2 {
				return 0, 0, false
			}
			digits = 0
			continue
		default:
			return 0, 0, false
		}
		if digits == 0 {
			octets++
		}
		if digits == 2 || octets > 6 {
			return 0, 0, false
		}
		v = v<<4 | uint64(d)
		digits++
	}
	if digits != 2 || octets < 3 || octets*8 < bits {
		return 0, 0, false
	}
	v <<= uint(8 * (6 - octets))
	return v >> uint(48-bits), bits, true
}

// ReadManuf reads a manuf file by path; errors name the file.
func ReadManuf(path string) (*OUI, error) {
	data, err := readManufFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: OUI registry: %w (install libwireshark-data)", err)
	}
	o, err := parseManuf(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// Len is the number of prefixes in the registry.
func (o *OUI) Len() int {
	if o == nil {
		return 0
	}
	if !o.full {
		o.index()
	}
	return len(o.m)
}

// Lookup returns the vendor of mac, trying the longest prefix first, or "".
// Locally administered addresses (bit 1 of the first octet) have no vendor.
func (o *OUI) Lookup(mac [6]byte) string {
	if o == nil || mac[0]&0x02 != 0 {
		return ""
	}
	if !o.full && !o.done[mac] {
		o.index()
	}
	v := macValue(mac)
	for _, bits := range [...]int{36, 28, 24} {
		if s, ok := o.m[uint64(bits)<<56|v>>uint(48-bits)]; ok {
			return s
		}
	}
	return ""
}
