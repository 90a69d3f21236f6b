package activation

import (
	"crypto/ed25519"
	"testing"
)

func BenchmarkCheck(b *testing.B) {
	a := newTestAuthority(b, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	data := a.issue(b, localReq(), t0)
	o := VerifyOptions{Roots: []ed25519.PublicKey{a.rootPub}, SensorName: "sensor-01", Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Check(data, o); err != nil {
			b.Fatal(err)
		}
	}
}
