//go:build !linux

package natstest

import "os/exec"

// setParentDeath: only Linux can tie a child's life to its parent's; the
// tests that start nats-server run on Linux.
func setParentDeath(*exec.Cmd) {}
