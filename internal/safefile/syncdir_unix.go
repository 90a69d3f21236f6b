//go:build !windows

package safefile

import "os"

// SyncDir fsyncs a directory, so a rename or removal in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
