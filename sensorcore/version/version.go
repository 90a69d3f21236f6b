// Package version compares sensorcore release versions. The laptop (push
// preflight, --install-core, --min-core-version) and the appliance
// (install-core's downgrade refusal) must agree on which release is older,
// so both call Compare.
package version

import (
	"strconv"
	"strings"
)

// Compare compares dotted numeric versions ("1.2.10" > "1.2.9"); a leading
// "v" and anything after "-", "+" or a space are ignored, and a missing or
// non-numeric field counts as 0. It returns -1, 0 or 1.
func Compare(a, b string) int {
	x, y := fields(a), fields(b)
	for i := 0; i < max(len(x), len(y)); i++ {
		var p, q int
		if i < len(x) {
			p = x[i]
		}
		if i < len(y) {
			q = y[i]
		}
		if p != q {
			if p < q {
				return -1
			}
			return 1
		}
	}
	return 0
}

func fields(s string) []int {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(s, "-+ "); i >= 0 {
		s = s[:i]
	}
	var out []int
	for _, f := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}
