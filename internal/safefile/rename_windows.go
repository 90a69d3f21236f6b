package safefile

import (
	"errors"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

// rename replaces newpath with oldpath. On Windows the replace fails while
// another program holds newpath open without delete sharing (a reader, a
// virus scanner, a backup agent) or replaces it at the same moment; such
// errors pass within moments, so rename tries again for up to two seconds,
// as Go's own toolchain does (cmd/go/internal/robustio).
func rename(oldpath, newpath string) error {
	const (
		errorAccessDenied     = syscall.Errno(5)
		errorSharingViolation = syscall.Errno(32)
	)
	deadline := time.Now().Add(2 * time.Second)
	wait := time.Millisecond
	for {
		err := os.Rename(oldpath, newpath)
		if err == nil || !(errors.Is(err, errorAccessDenied) || errors.Is(err, errorSharingViolation)) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait + rand.N(wait))
		wait = min(2*wait, 100*time.Millisecond)
	}
}
