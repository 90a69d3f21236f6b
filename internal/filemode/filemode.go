// Package filemode lets tests check that a file is as private, or as
// shared, as Tapline made it, on every system the laptop runs: on Unix its
// permission bits; on Windows, where those mean nothing, its ACL (a private
// file has a protected ACL that grants the current user alone).
package filemode

import "io/fs"

// Is reports whether path is what perm says: on Unix exactly those
// permission bits; on Windows, for a private perm (no group or other
// bits), an ACL for the current user alone, and for any other perm an ACL
// that is not that. Under Wine, which keeps no file ACLs, the Windows check
// cannot be made and Is reports true (UnderWine).
func Is(path string, perm fs.FileMode) (bool, error) { return is(path, perm) }

// Private is Is(path, 0o600) for files and Is(path, 0o700) for folders.
func Private(path string) (bool, error) { return private(path) }
