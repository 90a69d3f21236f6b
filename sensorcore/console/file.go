package console

import (
	"os"
	"time"
)

// fileStamp tells whether a file changed on disk: an atomic replacement
// gives it a new inode, an edit in place a new size or time.
type fileStamp struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{ino: inode(fi), size: fi.Size(), mtime: fi.ModTime()}, nil
}
