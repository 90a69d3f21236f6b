package version

import "testing"

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.2.10", "1.2.9", 1}, {"v0.1.0", "0.1.0", 0}, {"0.1.0-dev", "0.1.0", 0},
		{"0.9", "0.10.0", -1}, {"2", "1.99.99", 1}, {"1.0 (build 7)", "1.0", 0}, {"", "0.0.1", -1},
	} {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
