//go:build !linux

package daemon

import (
	"os"
	"time"
)

// lastChange is a file's modification time.
func lastChange(fi os.FileInfo) time.Time { return fi.ModTime() }
