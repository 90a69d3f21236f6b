package gui

import (
	"testing"

	"github.com/tapline/tapline/internal/sensorcorebin"
)

// sensorcoreBin is sensorcore built once for the tests that drive a real
// sensor (CGO_ENABLED=0, as on the appliance).
var sensorcoreBin string

func TestMain(m *testing.M) { sensorcorebin.Main(m, &sensorcoreBin) }
