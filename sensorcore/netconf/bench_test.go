package netconf

import "testing"

func BenchmarkValidate(b *testing.B) {
	s := good()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
