//go:build !(linux || darwin || freebsd)

package capture

import "os"

// mapFile maps nothing here: files are read through the buffer.
func mapFile(*os.File) []byte { return nil }

func unmapFile([]byte) error { return nil }

func releasePages([]byte) {}
