package daemon

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// monitorUser is who the engine runs as. Separate is false when serve does
// not run as root: then the engine runs as serve's own user and nothing
// can be dropped.
type monitorUser struct {
	Name     string
	UID, GID uint32
	Separate bool
}

func (u *monitorUser) String() string {
	if !u.Separate {
		return fmt.Sprintf("uid %d, the daemon's own (the daemon does not run as root: no privilege separation)", u.UID)
	}
	return fmt.Sprintf("%s (uid %d)", u.Name, u.UID)
}

// resolveMonitorUser finds the engine's user: spec ("NAME" or "UID:GID"),
// else sensorcore-monitor, else nobody. uid 0 is refused.
func resolveMonitorUser(spec string) (*monitorUser, error) {
	if os.Geteuid() != 0 {
		return &monitorUser{Name: "", UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}, nil
	}
	if spec != "" {
		u, err := lookupUser(spec)
		if err != nil {
			return nil, fmt.Errorf("config.json monitor_user %q: %v", spec, err)
		}
		return u, nil
	}
	for _, n := range []string{DefaultMonitorUser, "nobody"} {
		if u, err := lookupUser(n); err == nil {
			return u, nil
		}
	}
	return nil, fmt.Errorf("monitor: neither %s nor nobody exists to run the monitoring engine as: create the system user (useradd --system --no-create-home --shell /usr/sbin/nologin %s) or set monitor_user in config.json", DefaultMonitorUser, DefaultMonitorUser)
}

func lookupUser(spec string) (*monitorUser, error) {
	var uid, gid uint64
	var err error
	name := spec
	if a, b, ok := strings.Cut(spec, ":"); ok {
		if uid, err = strconv.ParseUint(a, 10, 32); err == nil {
			gid, err = strconv.ParseUint(b, 10, 32)
		}
		if err != nil {
			return nil, fmt.Errorf("give a user name or UID:GID")
		}
		name = "uid " + a
	} else {
		u, err := user.Lookup(spec)
		if err != nil {
			return nil, err
		}
		if uid, err = strconv.ParseUint(u.Uid, 10, 32); err != nil {
			return nil, err
		}
		if gid, err = strconv.ParseUint(u.Gid, 10, 32); err != nil {
			return nil, err
		}
	}
	if uid == 0 || gid == 0 {
		return nil, fmt.Errorf("the monitoring engine never runs as root (uid or gid 0)")
	}
	return &monitorUser{Name: name, UID: uint32(uid), GID: uint32(gid), Separate: true}, nil
}

// sysProcAttr starts the engine as its user, with no supplementary groups
// and only CAP_NET_RAW (ambient: it survives the exec, and is all the
// engine has; capture opens AF_PACKET sockets with it), and SIGKILL when
// serve ends. The engine itself then sets no_new_privs, so nothing it runs
// could gain more.
func (u *monitorUser) sysProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if u.Separate {
		a.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{}}
		a.AmbientCaps = []uintptr{unix.CAP_NET_RAW}
	}
	return a
}

// own gives the state directory to the engine's user: the directory, and
// the files an earlier monitor running as root left (only root's, and only
// files with one link, so a link the engine made to another file is never
// followed into a chown).
func (u *monitorUser) own(dir string) error {
	if !u.Separate {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if err := os.Lchown(dir, int(u.UID), int(u.GID)); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || st.Uid != 0 || (!fi.IsDir() && (!fi.Mode().IsRegular() || st.Nlink != 1)) {
			return nil
		}
		return os.Lchown(p, int(u.UID), int(u.GID))
	})
}

// signalName is a signal's name as people know it ("SIGKILL").
func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}

// closeOnExecInherited marks every descriptor serve inherited (beyond
// standard input, output and error) close-on-exec: Go marks its own, not
// those its parent left open, and the engine must get only the two it is
// given.
func closeOnExecInherited() {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range es {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// engineExecutable is serve's own program, through /proc/self/exe: the
// kernel resolves it to the running binary (the engine's user needs no
// search permission on its directory), the same version as serve even
// after install-core renamed a new one over it.
func engineExecutable() string { return "/proc/self/exe" }
