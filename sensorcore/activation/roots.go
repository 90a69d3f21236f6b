package activation

import (
	"crypto/ed25519"
	"fmt"

	"github.com/tapline/tapline/assets"
)

// ProductionRoots returns the root of trust Tapline ships (assets,
// activation-root.pub). Its private key is held offline by the license
// authority and is in no repository.
func ProductionRoots() ([]ed25519.PublicKey, error) {
	pub, err := ParsePublicKey(assets.ActivationRootPEM())
	if err != nil {
		return nil, fmt.Errorf("activation: shipped root: %w", err)
	}
	return []ed25519.PublicKey{pub}, nil
}
