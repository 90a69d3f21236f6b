//go:build unix

package inventory

import (
	"os"

	"golang.org/x/sys/unix"
)

// readManufFile maps the registry read-only instead of copying its 2 MB
// onto the heap: the OUI keeps the bytes for its lazy index, and a
// mapping of the page cache costs no copy and no fresh pages. The mapping
// lives as long as the process (ReadManuf is called once per run); the
// file is replaced by rename on upgrade, which leaves it valid.
func readManufFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > 1<<30 {
		return os.ReadFile(path)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return os.ReadFile(path)
	}
	return data, nil
}
