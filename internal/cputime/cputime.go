// Package cputime reads the process's CPU time, which benchmarks report
// beside wall time: on a machine shared with other work it is the steadier
// of the two.
package cputime

import "time"

// Process is the CPU time (user and system) the process has used so far,
// or 0 when the system does not say.
func Process() time.Duration { return process() }
