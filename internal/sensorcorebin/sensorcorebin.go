// Package sensorcorebin builds the sensorcore binary once per test binary,
// for tests that run real "sensorcore serve" processes.
package sensorcorebin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main builds sensorcore (CGO_ENABLED=0, as it ships) into a temporary
// folder, stores its path in *bin, runs the tests and removes the folder.
// TAPLINE_TEST_SENSORCORE names a binary built elsewhere instead (for
// example from a clean checkout while sensorcore is being changed).
func Main(m *testing.M, bin *string) {
	if p := os.Getenv("TAPLINE_TEST_SENSORCORE"); p != "" {
		*bin = p
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sensorcore-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "building sensorcore:", err)
		os.Exit(1)
	}
	if *bin, err = Build(dir, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Build builds sensorcore as it ships (CGO_ENABLED=0) into dir and returns
// its path; version, when not "", is the version it reports (the linker's
// main.version).
func Build(dir, version string) (string, error) {
	bin := filepath.Join(dir, "sensorcore")
	args := []string{"build", "-o", bin}
	if version != "" {
		args = append(args, "-ldflags", "-X main.version="+version)
	}
	cmd := exec.Command("go", append(args, "github.com/tapline/tapline/sensorcore/cmd/sensorcore")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building sensorcore: %v\n%s", err, out)
	}
	return bin, nil
}
