package provision

import (
	"errors"
	"testing"

	"github.com/tapline/tapline/sensorcore/netconf"
)

// TestInterfaceNamePatternsRefused: on the laptop too, an inventory row
// whose interface is a pattern ("*", "e*": networkd would configure every
// link, the SPAN port included) is refused before any bundle is built,
// naming the field.
func TestInterfaceNamePatternsRefused(t *testing.T) {
	for _, name := range []string{"*", "e*", "eth[01]", "!eth0", "-eth0"} {
		r := Row{Sensor: "sensor-01", Address: "192.0.2.10", Interface: name, NewMask: "24"}
		_, err := r.Settings()
		var fe *netconf.FieldError
		if !errors.As(err, &fe) || fe.Field != "network.interface" {
			t.Errorf("interface %q: %v", name, err)
		}
	}
	r := Row{Sensor: "sensor-01", Address: "192.0.2.10", Interface: "enp3s0", NewMask: "24"}
	if _, err := r.Settings(); err != nil {
		t.Fatalf("enp3s0: %v", err)
	}
}
