package certs

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestCanonicalTimeAgreesWithCryptobyte checks the non-allocating date check
// of the CRL index against what crypto/x509 uses (cryptobyte): for every
// string in the canonical layout, over every month and day and leap-year
// edge, both must give the same answer, so the index never accepts a CRL
// crypto/x509 refuses.
func TestCanonicalTimeAgreesWithCryptobyte(t *testing.T) {
	check := func(s string, generalized bool) {
		t.Helper()
		tag := cbasn1.UTCTime
		if generalized {
			tag = cbasn1.GeneralizedTime
		}
		var b cryptobyte.Builder
		b.AddASN1(tag, func(c *cryptobyte.Builder) { c.AddBytes([]byte(s)) })
		der := cryptobyte.String(b.BytesOrPanic())
		var tm time.Time
		var want bool
		if generalized {
			want = der.ReadASN1GeneralizedTime(&tm)
		} else {
			want = der.ReadASN1UTCTime(&tm)
		}
		if got := canonicalTime([]byte(s), generalized); got && !want {
			t.Errorf("%q (generalized %v): canonicalTime accepts what cryptobyte refuses", s, generalized)
		} else if !got && want && len(s) == map[bool]int{false: 13, true: 15}[generalized] && s[len(s)-1] == 'Z' {
			t.Errorf("%q (generalized %v): canonicalTime refuses a canonical date cryptobyte accepts", s, generalized)
		}
	}
	for _, yy := range []int{0, 1, 4, 50, 68, 69, 96, 99} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				check(fmt.Sprintf("%02d%02d%02d120000Z", yy, m, d), false)
			}
		}
	}
	for _, yyyy := range []int{1900, 1999, 2000, 2024, 2100, 2400, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				check(fmt.Sprintf("%04d%02d%02d120000Z", yyyy, m, d), true)
			}
		}
	}
	for _, s := range []string{"261121235959Z", "261121240000Z", "261121236000Z", "261121235960Z", "2611212359Z", "261121235959+0100", "26112123595Z", "2611212359590", "a61121235959Z", "261121235959z"} {
		check(s, false)
	}
	for _, s := range []string{"20261121235959Z", "20261121235959.5Z", "20261121235959+0000", "2026112123595Z"} {
		check(s, true)
	}
}
