package inventory

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// DefaultManuf is where Debian's libwireshark-data (pulled in by tshark)
// installs Wireshark's copy of the IEEE MA-L, MA-M and MA-S registries.
const DefaultManuf = "/usr/share/wireshark/manuf"

// OUI maps MAC address prefixes (24, 28 or 36 bits) to vendor names.
type OUI struct {
	m map[uint64]string // key: prefix bits << 56 | prefix value
}

// ParseManuf reads a Wireshark manuf file: lines "XX:XX:XX<TAB>short<TAB>
// long name" or "XX:XX:XX:XX:XX:XX/NN<TAB>short<TAB>long", '#' comments.
func ParseManuf(r io.Reader) (*OUI, error) {
	o := &OUI{m: make(map[uint64]string, 50000)}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		f := strings.Split(strings.TrimSpace(t), "\t")
		if len(f) < 2 || f[0] == "" {
			continue
		}
		prefix := f[0]
		bits := 24
		if i := strings.IndexByte(prefix, '/'); i >= 0 {
			b, err := strconv.Atoi(prefix[i+1:])
			if err != nil {
				continue
			}
			bits = b
			prefix = prefix[:i]
		}
		var v uint64
		n := 0
		for _, part := range strings.FieldsFunc(prefix, func(r rune) bool { return r == ':' || r == '-' || r == '.' }) {
			x, err := strconv.ParseUint(part, 16, 8)
			if err != nil {
				n = -1
				break
			}
			v = v<<8 | x
			n++
		}
		if n < 3 || n > 6 || bits != 24 && bits != 28 && bits != 36 {
			continue
		}
		v <<= uint(8 * (6 - n))
		v >>= uint(48 - bits)
		name := f[1]
		if len(f) >= 3 && strings.TrimSpace(f[2]) != "" {
			name = strings.TrimRight(strings.TrimSpace(f[2]), ", ")
		}
		o.m[uint64(bits)<<56|v] = name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("inventory: manuf line %d: %w", line, err)
	}
	if len(o.m) == 0 {
		return nil, fmt.Errorf("inventory: manuf file holds no OUI entries")
	}
	return o, nil
}

// ReadManuf reads a manuf file by path; errors name the file.
func ReadManuf(path string) (*OUI, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: OUI registry: %w (install libwireshark-data)", err)
	}
	defer f.Close()
	o, err := ParseManuf(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// Len is the number of prefixes known.
func (o *OUI) Len() int {
	if o == nil {
		return 0
	}
	return len(o.m)
}

// Lookup returns the vendor of mac, trying the longest prefix first, or "".
// Locally administered addresses (bit 1 of the first octet) have no vendor.
func (o *OUI) Lookup(mac [6]byte) string {
	if o == nil || mac[0]&0x02 != 0 {
		return ""
	}
	var v uint64
	for _, b := range mac {
		v = v<<8 | uint64(b)
	}
	for _, bits := range [...]int{36, 28, 24} {
		if s, ok := o.m[uint64(bits)<<56|v>>uint(48-bits)]; ok {
			return s
		}
	}
	return ""
}
