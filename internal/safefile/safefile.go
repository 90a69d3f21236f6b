package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteFile atomically replaces path with data, mode perm (see the package
// comment). The directory must exist.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for content that is streamed: write receives the
// temporary file and returns an error to abandon it, which leaves path
// untouched (a caller that checks what it wrote, a hash say, refuses the
// content this way before it ever carries the final name).
func Write(path string, perm fs.FileMode, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp: a random name, O_EXCL, mode 0600: nobody else's file,
	// nobody else's writer, nothing readable before the mode is set.
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if perm&0o077 == 0 {
		// A private file (0600, 0400): on Windows, an ACL for the user
		// alone, set while the file is still empty.
		if err = restrict(f); err != nil {
			return err
		}
	}

	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = rename(tmp, path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = SyncDir(dir); err != nil {
		// The file is in place; only its durability across a power cut is
		// unproven. Say so rather than pretend the write failed.
		return fmt.Errorf("%s: written, but fsync of %s failed: %w", path, dir, err)
	}
	return nil
}

// TooLargeError is ReadFile's refusal of a file over its limit.
type TooLargeError struct {
	Path string
	Size int64 // at least this many bytes
	Max  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %d bytes or more, larger than the %d bytes allowed for it", e.Path, e.Size, e.Max)
}

// ErrTooLarge matches every *TooLargeError with errors.Is.
var ErrTooLarge = errors.New("safefile: file too large")

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ReadFile reads path, refusing (with *TooLargeError) a file larger than
// max bytes, also one that grows while it is read. It reads regular files
// only: a directory, device or pipe is refused before a byte is read.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, path, max)
}

// ReadFileIn is ReadFile for a name inside root (os.Root: it cannot leave
// that directory).
func ReadFileIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, filepath.Join(root.Name(), name), max)
}

func readAll(f *os.File, path string, max int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, &TooLargeError{Path: path, Size: fi.Size(), Max: max}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, &TooLargeError{Path: path, Size: int64(len(b)), Max: max}
	}
	return b, nil
}

// RemoveStale removes the temporary files a crash in the middle of Write
// left in dir (".NAME.tmpRANDOM"), when they are older than age: a
// younger one may belong to a write still running.
func RemoveStale(dir string, age time.Duration) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-age)
	for _, e := range es {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, ".") || !strings.Contains(n, ".tmp") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
