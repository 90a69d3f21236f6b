package provision_test

import (
	"crypto/ed25519"
	"encoding/json"

	"github.com/tapline/tapline/sensorcore/activation"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func activationParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	return activation.ParsePublicKey(b)
}
