//go:build !linux

package demo

import (
	"context"
	"strings"
	"testing"
)

// TestStartOffLinux: off Linux the demo says where it runs instead of
// starting processes that cannot work.
func TestStartOffLinux(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: t.TempDir(), Sensorcore: "sensorcore"})
	if err == nil || !strings.Contains(err.Error(), "Linux only") {
		t.Fatalf("started off Linux: %v", err)
	}
}
