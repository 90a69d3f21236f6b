//go:build !windows

package filemode

import (
	"io/fs"
	"os"
)

func is(path string, perm fs.FileMode) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return fi.Mode().Perm() == perm, nil
}

func private(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return fi.Mode().Perm()&0o077 == 0, nil
}

// UnderWine is false off Windows.
func UnderWine() bool { return false }
