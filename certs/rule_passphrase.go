package certs

import "errors"

// rulePassphrase: the passphrase opens the key (docs/field-facts.md: the sensor
// says "Passphrase does not match to the key"). A PKCS#12 file's passphrase
// is reported while loading.
func rulePassphrase(b *bundle) []Finding {
	switch {
	case len(b.src.Key) == 0:
		return nil
	case errors.Is(b.keyErr, ErrPassphraseRequired):
		return []Finding{newFinding(CodePassphrase, "%s is encrypted and no passphrase was given", b.name("key"))}
	case errors.Is(b.keyErr, ErrIncorrectPassphrase):
		return []Finding{newFinding(CodePassphrase, "%s does not open with the given passphrase", b.name("key"))}
	}
	return nil
}
