//go:build !windows

package safefile

import "os"

// rename replaces newpath with oldpath (rename(2) is atomic).
func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
