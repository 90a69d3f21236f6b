package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// hardenEngine is the monitoring engine's first act: no_new_privs (nothing
// it could exec gains privileges), not dumpable (no other process of its
// user may ptrace it or read its memory), the kernel's first choice when
// memory runs out (oom_score_adj 1000: the engine, never serve), and a
// lower CPU priority than serve (nice 10), so a flood of packets costs
// monitoring, not the console. serve already started it as its own user
// with CAP_NET_RAW alone.
func hardenEngine() error {
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("1000\n"), 0); err != nil {
		return fmt.Errorf("oom_score_adj: %w", err)
	}
	// Last: once not dumpable, /proc/self belongs to root.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("not dumpable: %w", err)
	}
	if err := allThreads(unix.SYS_SETPRIORITY, unix.PRIO_PROCESS, 0, 10); err != nil {
		return fmt.Errorf("nice: %w", err)
	}
	return nil
}

// allThreads makes a per-thread system call on every thread of the
// process (Linux keeps no_new_privs and the nice value per thread, and the
// Go runtime has several by now); a build with cgo cannot, and makes it on
// this thread only, which threads started later inherit.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	if e == syscall.ENOTSUP {
		_, _, e = syscall.RawSyscall(trap, a1, a2, a3)
	}
	if e != 0 {
		return errors.New(e.Error())
	}
	return nil
}
