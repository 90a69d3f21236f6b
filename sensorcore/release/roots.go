package release

import (
	"crypto/ed25519"

	"github.com/tapline/tapline/sensorcore/activation"
)

// ProductionRoots are the roots a release must be signed under in
// production: the root of trust Tapline ships (assets/activation-root.pub),
// the same as activation files'. Its private key is held offline and is in
// no repository; so is the production release key it certifies.
func ProductionRoots() ([]ed25519.PublicKey, error) { return activation.ProductionRoots() }
