package natstest

import (
	"os/exec"
	"syscall"
)

// setParentDeath makes the kernel kill the server if the test binary dies
// without stopping it.
func setParentDeath(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
