// Package examplesite gives tests the time at which the committed example
// site (examples/site-a, made by `tapline batch example`) is checked.
package examplesite

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tapline/tapline/sensorcore/activation"
)

// CheckTime is a time inside the example activation files' upload window:
// a day after they were made. Tests that check the committed example site,
// or make certificates to check beside it, use it rather than today's
// clock, so they hold on any date. dir is the example site's folder.
func CheckTime(dir string) (time.Time, error) {
	path := filepath.Join(dir, "activation", "sensor-01.tapact")
	raw, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	f, err := activation.Parse(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	return f.Payload.IssuedAt.Add(24 * time.Hour).UTC().Truncate(time.Second), nil
}
