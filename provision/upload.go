package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// PartSuffix ends every temporary upload name; sensorcore apply ignores files
// ending in it (the appliance contract), so a cut upload is never applied.
const PartSuffix = ".part"

// ReadBackLimit is the largest upload re-read over SFTP to compare its
// SHA-256. Larger bundles rely on the SSH transport's MAC for the bytes and
// on apply, which verifies every file of the bundle against its manifest
// before using any of it; the size is always checked.
const ReadBackLimit = 4 << 20

// UploadResult describes a finished upload.
type UploadResult struct {
	Name     string // final remote path
	Size     int64
	SHA256   string // hex, of the local file as sent
	ReadBack bool   // the remote copy was re-read and its hash compared
	Fsynced  bool   // fsync@openssh.com was offered and done
	Posix    bool   // posix-rename@openssh.com was used
}

// UploadError says an upload failed and where.
type UploadError struct {
	Op, Remote string
	Err        error
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("provision: upload %s: %s: %v", e.Remote, e.Op, e.Err)
}

func (e *UploadError) Unwrap() error { return e.Err }

// NewSFTP opens an SFTP client tuned for uploads: concurrent writes (without
// them uploads are about 10x slower) with 64 requests in flight per file.
func NewSFTP(c *ssh.Client) (*sftp.Client, error) {
	return sftp.NewClient(c,
		sftp.UseConcurrentWrites(true),
		sftp.MaxConcurrentRequestsPerFile(64),
		sftp.UseFstat(true))
}

// Upload copies the local file to dir/name on the server (UploadReader).
func Upload(ctx context.Context, c *sftp.Client, local, dir, name string, progress func(done, total int64)) (UploadResult, error) {
	final := path.Join(dir, name)
	f, err := os.Open(local)
	if err != nil {
		return UploadResult{Name: final}, &UploadError{"open local file", final, err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return UploadResult{Name: final}, &UploadError{"stat local file", final, err}
	}
	return UploadReader(ctx, c, f, st.Size(), dir, name, progress)
}

// UploadBytes sends data from memory to dir/name on the server
// (UploadReader): how a bundle holding a private key travels, so the key
// never touches the laptop's disk.
func UploadBytes(ctx context.Context, c *sftp.Client, data []byte, dir, name string, progress func(done, total int64)) (UploadResult, error) {
	return UploadReader(ctx, c, bytes.NewReader(data), int64(len(data)), dir, name, progress)
}

// UploadReader copies size bytes from src to dir/name on the server in the
// way of restic's sftp backend Save: an exclusively created temporary name
// ending in PartSuffix, chmod 0600 while still empty, concurrent writes,
// the byte count checked, fsync when the server offers fsync@openssh.com,
// then a rename into place (posix-rename@openssh.com when offered). On
// failure the temporary file is removed when the connection still allows
// it; when the connection was cut, only a *.part file can remain, which
// apply ignores. progress gets bytes sent so far; it may be nil.
func UploadReader(ctx context.Context, c *sftp.Client, src io.Reader, size int64, dir, name string, progress func(done, total int64)) (UploadResult, error) {
	final := path.Join(dir, name)
	res := UploadResult{Name: final, Size: size}
	if strings.HasSuffix(name, PartSuffix) || strings.Contains(name, "/") || name == "" {
		return res, &UploadError{"name", final, errors.New("the remote name must be a plain file name not ending in " + PartSuffix)}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, "."+name+"."+hex.EncodeToString(rnd[:])+PartSuffix)

	rf, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return res, &UploadError{"create " + tmp, final, err}
	}
	ok := false
	defer func() {
		if !ok {
			rf.Close()
			_ = c.Remove(tmp) // best effort: a cut connection leaves only *.part
		}
	}()
	if err := rf.Chmod(0o600); err != nil {
		return res, &UploadError{"chmod 0600", final, err}
	}
	h := sha256.New()
	cr := &countingReader{ctx: ctx, r: src, h: h, total: res.Size, progress: progress}
	n, err := rf.ReadFrom(cr)
	if err != nil {
		return res, &UploadError{"write", final, err}
	}
	if n != res.Size {
		return res, &UploadError{"write", final, fmt.Errorf("sent %d bytes of %d", n, res.Size)}
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	if _, has := c.HasExtension("fsync@openssh.com"); has {
		if err := rf.Sync(); err != nil {
			return res, &UploadError{"fsync", final, err}
		}
		res.Fsynced = true
	}
	if err := rf.Close(); err != nil {
		return res, &UploadError{"close", final, err}
	}
	rst, err := c.Stat(tmp)
	if err != nil {
		return res, &UploadError{"stat " + tmp, final, err}
	}
	if rst.Size() != res.Size {
		return res, &UploadError{"size check", final, fmt.Errorf("remote holds %d bytes, sent %d", rst.Size(), res.Size)}
	}
	if res.Size <= ReadBackLimit {
		sum, err := remoteSHA256(ctx, c, tmp)
		if err != nil {
			return res, &UploadError{"read back", final, err}
		}
		if sum != res.SHA256 {
			return res, &UploadError{"hash check", final, fmt.Errorf("remote SHA-256 %s, sent %s", sum, res.SHA256)}
		}
		res.ReadBack = true
	}
	if _, has := c.HasExtension("posix-rename@openssh.com"); has {
		err = c.PosixRename(tmp, final)
		res.Posix = true
	} else {
		err = c.Rename(tmp, final)
	}
	if err != nil {
		return res, &UploadError{"rename into place", final, err}
	}
	ok = true
	return res, nil
}

func remoteSHA256(ctx context.Context, c *sftp.Client, p string) (string, error) {
	f, err := c.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := f.WriteTo(&ctxWriter{ctx: ctx, w: h}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w *ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

// countingReader hashes what it reads, reports progress and stops on ctx.
type countingReader struct {
	ctx      context.Context
	r        io.Reader
	h        hash.Hash
	done     int64
	total    int64
	progress func(done, total int64)
}

// Len tells pkg/sftp how much is left, so ReadFrom writes concurrently.
func (c *countingReader) Len() int { return int(c.total - c.done) }

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.h.Write(p[:n])
		c.done += int64(n)
		if c.progress != nil {
			c.progress(c.done, c.total)
		}
	}
	return n, err
}
