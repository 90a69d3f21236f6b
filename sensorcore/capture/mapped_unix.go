//go:build linux || darwin || freebsd

package capture

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file whole, read-only, so its records are read
// in place instead of copied by read(2) into a buffer (mapping the pages
// costs less CPU time than the copy; see docs/monitoring.md). It returns
// nil, and no error, for a file that is
// not mapped: not a regular file (a pipe, a terminal, a device), empty,
// larger than the address space, or refused by the kernel; such a file
// is read through the buffer.
func mapFile(f *os.File) []byte {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() != int64(int(fi.Size())) {
		return nil
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

// unmapFile ends a mapping made by mapFile.
func unmapFile(b []byte) error { return unix.Munmap(b) }

// releasePages hands pages of a mapping back to the kernel: they leave
// the process's resident memory, and a later read of them maps them
// again from the page cache (the same bytes, never zeros: the mapping is
// of a file).
func releasePages(b []byte) { unix.Madvise(b, unix.MADV_DONTNEED) }
