package gui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sensorcoreBin is sensorcore built once for the tests that drive a real
// sensor (CGO_ENABLED=0, as on the appliance).
var sensorcoreBin string

func TestMain(m *testing.M) {
	// TAPLINE_TEST_SENSORCORE names a sensorcore built elsewhere (for
	// example from a clean checkout while sensorcore is being changed).
	if p := os.Getenv("TAPLINE_TEST_SENSORCORE"); p != "" {
		sensorcoreBin = p
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "gui-sensorcore")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sensorcoreBin = filepath.Join(dir, "sensorcore")
	cmd := exec.Command("go", "build", "-o", sensorcoreBin, "github.com/tapline/tapline/sensorcore/cmd/sensorcore")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building sensorcore: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
