package capture

import "golang.org/x/sys/unix"

// populate maps the pages of b (page-aligned, part of a file mapping) in
// one call, MADV_POPULATE_READ (Linux 5.14): cheaper than a fault per few
// pages. False when the kernel does not support it.
func populate(b []byte) bool { return unix.Madvise(b, unix.MADV_POPULATE_READ) == nil }
