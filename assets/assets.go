// Package assets embeds what Tapline ships inside its binaries: the app icon,
// the activation root of trust (public key only) and demo material. It holds
// no private key of any kind, and imports nothing of the GUI, so sensorcore
// may use it.
package assets

import _ "embed"

//go:embed icon.png
var iconPNG []byte

// IconPNG returns the application icon as PNG bytes.
func IconPNG() []byte { return iconPNG }

// activationRootPEM is the production activation root of trust: an Ed25519
// public key (PKIX PEM). Its private key is held offline by the license
// authority; see docs/formats.md.
//
//go:embed activation-root.pub
var activationRootPEM []byte

// ActivationRootPEM returns the production activation root public key as PEM.
func ActivationRootPEM() []byte { return activationRootPEM }
