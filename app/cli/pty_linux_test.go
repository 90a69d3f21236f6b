package cli

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tapline/tapline/internal/needs"
)

// openPTY opens a pseudo-terminal pair (master, slave) with /dev/ptmx.
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		needs.Missing(t, "this test needs pseudo-terminals (/dev/ptmx: %v)", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		needs.Missing(t, "this test needs pseudo-terminals (unlockpt: %v)", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		needs.Missing(t, "this test needs pseudo-terminals (ptsname: %v)", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		needs.Missing(t, "this test needs pseudo-terminals (open pts: %v)", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// echoOn reports whether the terminal tty echoes what is typed.
func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}
