package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// OperationsFile is the operations log's name inside the state directory;
// the previous half of the log is OperationsFile + ".1".
const OperationsFile = "operations.jsonl"

// DefaultOperationsCap bounds the operations log on disk.
const DefaultOperationsCap = 64 << 20

// Operations appends operations log records (JSON lines) to
// dir/operations.jsonl, keeping at most cap bytes on disk: when the file
// would pass half the cap it becomes operations.jsonl.1 (replacing the
// older half) and a new file starts. Each Write must hold whole lines.
type Operations struct {
	dir  string
	cap  int64
	f    *os.File
	size int64
}

// OpenOperations opens (creating dir 0750 and the file 0640) the
// operations log in dir; cap <= 0 picks DefaultOperationsCap.
func OpenOperations(dir string, cap int64) (*Operations, error) {
	if cap <= 0 {
		cap = DefaultOperationsCap
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	o := &Operations{dir: dir, cap: cap}
	if err := o.open(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Operations) path() string { return filepath.Join(o.dir, OperationsFile) }

func (o *Operations) open() error {
	f, err := os.OpenFile(o.path(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("store: %w", err)
	}
	o.f, o.size = f, fi.Size()
	return nil
}

// Write appends whole lines, rotating first when they would pass half the
// cap.
func (o *Operations) Write(p []byte) (int, error) {
	if o.size > 0 && o.size+int64(len(p)) > o.cap/2 {
		o.f.Close()
		if err := os.Rename(o.path(), o.path()+".1"); err != nil {
			return 0, fmt.Errorf("store: rotating %s: %w", o.path(), err)
		}
		if err := o.open(); err != nil {
			return 0, err
		}
	}
	n, err := o.f.Write(p)
	o.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("store: %s: %w", o.path(), err)
	}
	return n, nil
}

// Close closes the file.
func (o *Operations) Close() error { return o.f.Close() }

// ReadOperations returns the last max records in dir (oldest first) for
// which keep reports true (nil keeps every one); the lines are JSON
// objects as written.
func ReadOperations(dir string, max int, keep func(line []byte) bool) ([][]byte, error) {
	var out [][]byte
	for _, name := range []string{OperationsFile + ".1", OperationsFile} {
		f, err := os.Open(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if len(bytes.TrimSpace(line)) == 0 || keep != nil && !keep(line) {
				continue
			}
			out = append(out, append([]byte(nil), line...))
			if max > 0 && len(out) > 2*max {
				out = append(out[:0], out[len(out)-max:]...)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", name, err)
		}
	}
	if max > 0 && len(out) > max {
		out = out[len(out)-max:]
	}
	return out, nil
}
