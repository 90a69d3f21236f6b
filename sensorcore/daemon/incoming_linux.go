package daemon

import (
	"os"
	"syscall"
	"time"
)

// lastChange is the later of a file's modification and inode change time.
func lastChange(fi os.FileInfo) time.Time {
	t := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if c := time.Unix(st.Ctim.Sec, st.Ctim.Nsec); c.After(t) {
			t = c
		}
	}
	return t
}
