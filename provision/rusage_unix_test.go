//go:build !windows

package provision_test

import (
	"os"
	"syscall"
)

// maxRSSKiB is a finished process's peak resident memory (KiB on Linux).
func maxRSSKiB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
