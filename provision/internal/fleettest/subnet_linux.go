package fleettest

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// HostSubnets reserves n consecutive /24s of 198.19.0.0/16 ("198.19.X")
// for a test that puts addresses or routes on this host's side of a
// namespace, and holds them until the test ends. Tests of several
// packages, and several runs of make test, share the host: each /24 is
// taken by an exclusive lock on a file in the temporary folder (the kernel
// drops it when the process ends, however it ends), and one the host
// already routes is passed over, so two tests never share a subnet and
// none touches a route it did not make.
func HostSubnets(t testing.TB, n int) []string {
	t.Helper()
	const first, last = 100, 254 // 198.19.100.0 - 198.19.254.0
	span := last - first + 1 - (n - 1)
	off, _ := rand.Int(rand.Reader, big.NewInt(int64(span)))
	for i := 0; i < span; i++ {
		x := first + (int(off.Int64())+i)%span
		locks, ok := lockSubnets(x, n)
		if !ok {
			continue
		}
		nets := make([]string, n)
		for j := range nets {
			nets[j] = fmt.Sprintf("198.19.%d", x+j)
		}
		t.Cleanup(func() {
			for _, f := range locks {
				f.Close()
			}
		})
		return nets
	}
	t.Fatalf("no %d free consecutive /24s in 198.19.%d.0-198.19.%d.0 (all locked by other tests or routed on this host)", n, first, last)
	return nil
}

// lockSubnets takes the locks of 198.19.x ... 198.19.x+n-1, or none.
func lockSubnets(x, n int) ([]*os.File, bool) {
	var locks []*os.File
	release := func() {
		for _, f := range locks {
			f.Close()
		}
	}
	for j := 0; j < n; j++ {
		p := filepath.Join(os.TempDir(), fmt.Sprintf("tapline-test-198.19.%d.lock", x+j))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			release()
			return nil, false
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			release()
			return nil, false
		}
		locks = append(locks, f)
		// Routed already (by something that takes no lock): not ours.
		if out, _ := exec.Command("ip", "-4", "route", "show", "to", "match", fmt.Sprintf("198.19.%d.1", x+j)).Output(); strings.Contains(string(out), "198.19.") {
			release()
			return nil, false
		}
	}
	return locks, true
}
