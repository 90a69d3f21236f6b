//go:build !windows

package monitor

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time (user+system). On a machine shared
// with other work, CPU time per packet is steadier than wall time: run
// with GOMAXPROCS=1 (taskset -c 1) so it is the benchmark loop's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
