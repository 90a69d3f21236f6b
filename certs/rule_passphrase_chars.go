package certs

import (
	"strconv"
	"strings"
)

// passphraseAllowed is the sensor's passphrase alphabet (docs/field-facts.md
// "Passphrase").
const passphraseAllowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%()+,-./:=?@[\\]^_{}~"

// rulePassphraseChars: every passphrase character is in the sensor's set. The
// message names the offending characters' positions, never the passphrase.
func rulePassphraseChars(b *bundle) []Finding {
	var bad []string
	i := -1 // character position, not byte offset
	for _, r := range string(b.src.Passphrase) {
		i++
		if !strings.ContainsRune(passphraseAllowed, r) {
			what := "character"
			if r == ' ' {
				what = "space"
			}
			bad = append(bad, what+" at position "+strconv.Itoa(i+1))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return []Finding{newFinding(CodePassphraseChars, "%s", strings.Join(bad, ", "))}
}
