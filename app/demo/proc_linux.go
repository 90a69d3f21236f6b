package demo

import (
	"os/exec"
	"syscall"
)

// setParentDeath makes the kernel stop a sensor if the demo itself dies
// without running Stop (kill -9), so no process outlives it.
func setParentDeath(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
