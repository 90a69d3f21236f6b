//go:build unix && !linux

package capture

import "golang.org/x/sys/unix"

// release drops the pages of b (page-aligned, part of a read-only file
// mapping) from the process's resident memory; the page cache keeps them,
// and a later touch maps them again with the same bytes.
func release(b []byte) { unix.Madvise(b, unix.MADV_DONTNEED) }
