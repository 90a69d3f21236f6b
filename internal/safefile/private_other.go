//go:build !windows

package safefile

import "os"

// restrict: on Unix the mode given to Write (set while the file is empty)
// already keeps a private file to its owner.
func restrict(*os.File) error { return nil }

// MkdirPrivate makes dir (and its parents) when missing, mode 0700.
func MkdirPrivate(dir string) error { return os.MkdirAll(dir, 0o700) }

// Restrict makes an existing file private: mode 0600.
func Restrict(path string) error { return os.Chmod(path, 0o600) }
