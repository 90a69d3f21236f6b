package sshd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"

	"github.com/tapline/tapline/sensorcore/release"
)

// MaxUploadSize is the largest file an SFTP client may make in the incoming
// directory: the largest legitimate upload, a sensorcore release
// (release.MaxBinarySize). A write past it or a setstat (truncate) to a
// larger size is refused, so a sparse file of terabytes cannot be made to
// exhaust whatever reads it.
const MaxUploadSize = release.MaxBinarySize

var errUploadTooLarge = fmt.Errorf("sshd: files larger than %d bytes are refused (the largest upload is a sensorcore release)", MaxUploadSize)

// rooted serves SFTP requests inside one directory through os.Root, which
// refuses any path that leaves it (.., absolute symlinks, symlinks out).
type rooted struct {
	root *os.Root
}

// Handlers returns pkg/sftp request handlers confined to dir.
func Handlers(dir string) (sftp.Handlers, io.Closer, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return sftp.Handlers{}, nil, err
	}
	h := &rooted{root: r}
	return sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}, r, nil
}

// rel maps an SFTP path ("/" is the incoming directory) to a Root path.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

func (h *rooted) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return h.root.Open(rel(r.Filepath))
}

func (h *rooted) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	return h.OpenFile(r)
}

func (h *rooted) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	f := r.Pflags()
	flags := 0
	switch {
	case f.Read && f.Write:
		flags = os.O_RDWR
	case f.Write:
		flags = os.O_WRONLY
	default:
		flags = os.O_RDONLY
	}
	if f.Creat {
		flags |= os.O_CREATE
	}
	if f.Trunc {
		flags |= os.O_TRUNC
	}
	if f.Excl {
		flags |= os.O_EXCL
	}
	if f.Append {
		flags |= os.O_APPEND
	}
	file, err := h.root.OpenFile(rel(r.Filepath), flags, 0o600)
	if err != nil {
		return nil, err
	}
	return capped{file}, nil
}

// capped refuses writes that would make an upload larger than
// MaxUploadSize (a write at a far offset makes a sparse file as surely as
// a truncate does).
type capped struct{ *os.File }

func (c capped) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > MaxUploadSize-int64(len(p)) {
		return 0, errUploadTooLarge
	}
	return c.File.WriteAt(p, off)
}

func (h *rooted) Filecmd(r *sftp.Request) error {
	p := rel(r.Filepath)
	switch r.Method {
	case "Setstat":
		a := r.AttrFlags()
		st := r.Attributes()
		if a.Permissions {
			// Uploads stay private data: read/write for the owner at most,
			// never executable, setuid or setgid; directories keep theirs.
			if fi, err := h.root.Lstat(p); err != nil {
				return err
			} else if !fi.Mode().IsRegular() {
				return os.ErrPermission
			}
			if err := h.root.Chmod(p, st.FileMode().Perm()&0o600); err != nil {
				return err
			}
		}
		if a.Size {
			if st.Size > MaxUploadSize {
				return errUploadTooLarge
			}
			f, err := h.root.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			err = f.Truncate(int64(st.Size))
			f.Close()
			if err != nil {
				return err
			}
		}
		if a.Acmodtime {
			return h.root.Chtimes(p, st.AccessTime(), st.ModTime())
		}
		return nil
	case "Rename":
		if _, err := h.root.Lstat(rel(r.Target)); err == nil {
			return os.ErrExist
		}
		return h.root.Rename(p, rel(r.Target))
	case "PosixRename":
		return h.root.Rename(p, rel(r.Target))
	case "Rmdir", "Remove":
		if p == "." {
			return os.ErrPermission
		}
		return h.root.Remove(p)
	case "Mkdir":
		return h.root.Mkdir(p, 0o700)
	case "Link", "Symlink":
		return sftp.ErrSSHFxOpUnsupported
	}
	return sftp.ErrSSHFxOpUnsupported
}

func (h *rooted) PosixRename(r *sftp.Request) error {
	return h.root.Rename(rel(r.Filepath), rel(r.Target))
}

type listerat []os.FileInfo

func (l listerat) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}

func (h *rooted) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	p := rel(r.Filepath)
	switch r.Method {
	case "List":
		d, err := h.root.Open(p)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		fis, err := d.Readdir(-1)
		if err != nil {
			return nil, err
		}
		return listerat(fis), nil
	case "Stat":
		fi, err := h.root.Stat(p)
		if err != nil {
			return nil, err
		}
		return listerat{fi}, nil
	case "Readlink":
		return nil, sftp.ErrSSHFxOpUnsupported
	}
	return nil, errors.New("unsupported")
}

// Lstat answers lstat without following links.
func (h *rooted) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := h.root.Lstat(rel(r.Filepath))
	if err != nil {
		return nil, err
	}
	return listerat{fi}, nil
}
