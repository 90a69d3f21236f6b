package capture

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// populate maps the pages of b (page-aligned, part of a file mapping) in
// one call, MADV_POPULATE_READ (Linux 5.14): cheaper than a fault per few
// pages. False when the kernel does not support it.
//
// With more than one processor it is a raw system call, which keeps the
// prefault goroutine's processor through the call. An ordinary one lasts
// long enough (a 4 MB chunk, some 300 µs) for the runtime to hand the
// processor over: a spinning thread is woken to look for work there is
// none of, and sysmon goes back to polling every 20 µs, which cost more
// CPU time than the call itself saves over page faults. With one
// processor the reader must run while the kernel reads the pages from
// disk, so the call is an ordinary one.
func populate(b []byte) bool {
	if runtime.GOMAXPROCS(0) < 2 {
		return unix.Madvise(b, unix.MADV_POPULATE_READ) == nil
	}
	return rawMadvise(b, unix.MADV_POPULATE_READ) == nil
}

// release drops the pages of b (page-aligned, part of a read-only file
// mapping) from the process's resident memory; the page cache keeps them,
// and a later touch maps them again with the same bytes. It never waits
// for the disk, so it is a raw system call (see populate).
func release(b []byte) { rawMadvise(b, unix.MADV_DONTNEED) }

func rawMadvise(b []byte, advice int) error {
	if len(b) == 0 {
		return nil
	}
	_, _, e := unix.RawSyscall(unix.SYS_MADVISE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}
