// Package userpath resolves the paths an engineer types or writes in an
// inventory, the way their own system reads them: "~" for the home folder
// (%USERPROFILE% on Windows, where OpenSSH for Windows keeps .ssh too),
// and on Windows backslashes, drive letters and UNC paths. A relative path
// is relative to the folder of the file that names it.
//
// An inventory written on Windows works unchanged on Linux and macOS when
// its paths are relative: a backslash there is taken as a folder separator
// (no one names a file with a backslash in it). A drive letter or UNC path
// cannot mean anything there and is refused with what to write instead.
package userpath

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Expand replaces a leading "~" (alone, or before / or \) with the home
// folder. Other paths are returned as they are.
func Expand(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, filepath.FromSlash(strings.ReplaceAll(p[1:], `\`, "/")))
		}
	}
	return p
}

// HomeEnv is the environment variable the home folder comes from:
// USERPROFILE on Windows, HOME elsewhere (os.UserHomeDir reads it).
func HomeEnv() string {
	if runtime.GOOS == "windows" {
		return "USERPROFILE"
	}
	return "HOME"
}

// Resolve makes p absolute against dir, the folder of the file that names
// it. An empty p stays empty.
func Resolve(dir, p string) (string, error) {
	return resolve(runtime.GOOS, dir, p)
}

// windowsAbs reports whether p is a drive-letter or UNC path.
func windowsAbs(p string) bool {
	return len(p) >= 3 && isLetter(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/') ||
		strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func resolve(goos, dir, p string) (string, error) {
	if p == "" {
		return "", nil
	}
	p = Expand(p)
	if goos == "windows" {
		switch {
		case filepath.IsAbs(p):
			return filepath.Clean(p), nil
		case len(p) >= 2 && isLetter(p[0]) && p[1] == ':':
			return "", fmt.Errorf("%q is relative to the current folder of drive %s: write the whole path (%s\\%s)", p, p[:2], p[:2], p[2:])
		case strings.HasPrefix(p, `\`) || strings.HasPrefix(p, "/"):
			return filepath.Clean(filepath.VolumeName(dir) + p), nil // the root of the inventory's drive
		}
		return filepath.Join(dir, p), nil
	}
	if windowsAbs(p) {
		return "", fmt.Errorf("%q is a Windows path, which means nothing on this %s machine: give the path relative to the inventory's folder (certs/sensor-01.crt)", p, goos)
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	return filepath.Join(dir, strings.ReplaceAll(p, `\`, "/")), nil
}
