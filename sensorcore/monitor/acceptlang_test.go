package monitor

import (
	"slices"
	"testing"
)

// TestAcceptLanguages: the browser's languages in the order it wants
// them, each with its primary subtag; q=0, wildcards and junk left out.
func TestAcceptLanguages(t *testing.T) {
	for h, want := range map[string][]string{
		"":                               nil,
		"de":                             {"de"},
		"de-AT,de;q=0.9,en;q=0.8":        {"de-at", "de", "en"},
		"en;q=0.5, fr-CH, de;q=0.7":      {"fr-ch", "fr", "de", "en"},
		"*;q=0.1, de;q=0":                nil,
		"en;q=abc, de\"><script>, DE-de": {"de-de", "de"},
		"fr;q=2, it":                     {"it"},
	} {
		if got := AcceptLanguages(h); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", h, got, want)
		}
	}
}
