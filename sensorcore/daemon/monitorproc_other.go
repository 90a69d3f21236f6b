//go:build !linux

package daemon

import (
	"fmt"
	"os"
	"syscall"
)

// monitorUser: outside Linux the engine runs as the daemon's own user.
type monitorUser struct{ UID uint32 }

func (u *monitorUser) String() string { return fmt.Sprintf("uid %d, the daemon's own", u.UID) }

func resolveMonitorUser(string) (*monitorUser, error) {
	return &monitorUser{UID: uint32(os.Geteuid())}, nil
}

func (u *monitorUser) sysProcAttr() *syscall.SysProcAttr { return nil }

func (u *monitorUser) own(string) error { return nil }

func signalName(s syscall.Signal) string { return s.String() }

func closeOnExecInherited() {}

func engineExecutable() string { return Executable }
