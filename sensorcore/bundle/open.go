package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/tapline/tapline/internal/safefile"
	"github.com/tapline/tapline/sensorcore/netconf"
)

// Bundle is an opened, integrity-checked bundle.
type Bundle struct {
	Manifest *Manifest
	Files    map[Role][]byte
	Settings *netconf.Settings
	raw      []byte // manifest.json as read
}

// File returns a role's content, nil when absent.
func (b *Bundle) File(r Role) []byte { return b.Files[r] }

// Open reads a bundle directory or a .tapbundle archive and verifies every
// file's size and SHA-256 against the manifest. Settings are parsed but not
// validated (call Settings.Validate).
func Open(path string) (*Bundle, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errorf(CodeUnreadable, "%v", err)
	}
	if fi.IsDir() {
		return openDir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf(CodeUnreadable, "%v", err)
	}
	defer f.Close()
	b, err := ReadArchive(f)
	if err != nil {
		var be *Error
		if errors.As(err, &be) {
			be.Msg = filepath.Base(path) + ": " + be.Msg
		}
		return nil, err
	}
	return b, nil
}

func openDir(dir string) (*Bundle, error) {
	raw, err := readLimited(filepath.Join(dir, ManifestName), MaxManifestSize)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errorf(CodeMissing, "%s has no %s; it is not a bundle directory", dir, ManifestName)
		}
		return nil, errorf(CodeUnreadable, "%v", err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	files := map[Role][]byte{}
	listed := map[string]bool{ManifestName: true}
	for _, e := range m.Files {
		listed[e.Name] = true
		p := filepath.Join(dir, e.Name)
		st, err := os.Lstat(p)
		if err != nil {
			return nil, errorf(CodeMissing, "%s is listed in the manifest but missing; rebuild the bundle", e.Name)
		}
		if !st.Mode().IsRegular() {
			return nil, errorf(CodeMalformed, "%s is not a regular file", e.Name)
		}
		d, err := readLimited(p, MaxFileSize)
		if err != nil {
			return nil, errorf(CodeUnreadable, "%v", err)
		}
		if err := check(e, d); err != nil {
			return nil, err
		}
		files[e.Role] = d
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, errorf(CodeUnreadable, "%v", err)
	}
	for _, de := range ents {
		if !listed[de.Name()] {
			return nil, errorf(CodeUnexpected, "%s is in the bundle directory but not in the manifest; remove it or rebuild the bundle", de.Name())
		}
	}
	return finish(m, raw, files)
}

func readLimited(path string, max int64) ([]byte, error) {
	d, err := safefile.ReadFile(path, max)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, errorf(CodeMalformed, "%s is larger than %d bytes", filepath.Base(path), max)
	}
	return d, err
}

func check(e Entry, d []byte) error {
	if int64(len(d)) != e.Size {
		return errorf(CodeAltered, "%s is %d bytes, the manifest says %d: it changed after the bundle was made", e.Name, len(d), e.Size)
	}
	s := sha256.Sum256(d)
	if hex.EncodeToString(s[:]) != e.SHA256 {
		return errorf(CodeAltered, "%s SHA-256 differs from the manifest: it changed after the bundle was made", e.Name)
	}
	return nil
}

func finish(m *Manifest, raw []byte, files map[Role][]byte) (*Bundle, error) {
	s, err := netconf.Parse(files[RoleSettings])
	if err != nil {
		return nil, errorf(CodeMalformed, "%s: %v", fileNames[RoleSettings], err)
	}
	if err := checkUplinkFiles(s, files); err != nil {
		return nil, err
	}
	return &Bundle{Manifest: m, Files: files, Settings: s, raw: raw}, nil
}

// checkUplinkFiles: settings.json's uplink and the uplink files come
// together. An uplink needs the servers' CA and a credential, and a
// client certificate of its own unless it uses the proxy's; uplink files
// without an uplink are refused (nothing would read them).
func checkUplinkFiles(s *netconf.Settings, files map[Role][]byte) error {
	has := func(r Role) bool { _, ok := files[r]; return ok }
	u := s.Uplink
	if u == nil {
		for _, r := range []Role{RoleUplinkCA, RoleUplinkClientCert, RoleUplinkClientKey, RoleUplinkCredential} {
			if has(r) {
				return errorf(CodeUnexpected, "%s is in the bundle but %s has no uplink", fileNames[r], fileNames[RoleSettings])
			}
		}
		return nil
	}
	need := []Role{RoleUplinkCA, RoleUplinkCredential}
	if u.ClientCert == netconf.UplinkCertProxy {
		need = append(need, RoleProxyClientCert, RoleProxyClientKey)
		if has(RoleUplinkClientCert) {
			return errorf(CodeUnexpected, "%s is in the bundle but the uplink uses the proxy client certificate", fileNames[RoleUplinkClientCert])
		}
	} else {
		need = append(need, RoleUplinkClientCert, RoleUplinkClientKey)
	}
	for _, r := range need {
		if !has(r) {
			return errorf(CodeMissing, "%s has an uplink but the bundle carries no %s (%s)", fileNames[RoleSettings], r, fileNames[r])
		}
	}
	return nil
}

// ReadArchive reads a packed bundle: manifest.json first, then exactly the
// listed files, regular files only.
func ReadArchive(r io.Reader) (*Bundle, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		return nil, errorf(CodeMalformed, "not a bundle archive: %v", err)
	}
	if h.Name != ManifestName || h.Typeflag != tar.TypeReg {
		return nil, errorf(CodeMalformed, "archive starts with %q, want %s", h.Name, ManifestName)
	}
	raw, err := readEntry(tr, h, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	byName := map[string]Entry{}
	for _, e := range m.Files {
		byName[e.Name] = e
	}
	files := map[Role][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errorf(CodeMalformed, "archive: %v", err)
		}
		e, ok := byName[h.Name]
		if !ok {
			return nil, errorf(CodeUnexpected, "archive holds %q, which the manifest does not list", h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, errorf(CodeMalformed, "archive entry %s is not a regular file", h.Name)
		}
		if _, dup := files[e.Role]; dup {
			return nil, errorf(CodeMalformed, "archive holds %s twice", h.Name)
		}
		d, err := readEntry(tr, h, MaxFileSize)
		if err != nil {
			return nil, err
		}
		if err := check(e, d); err != nil {
			return nil, err
		}
		files[e.Role] = d
	}
	for _, e := range m.Files {
		if _, ok := files[e.Role]; !ok {
			return nil, errorf(CodeMissing, "%s is listed in the manifest but missing from the archive", e.Name)
		}
	}
	return finish(m, raw, files)
}

func readEntry(tr *tar.Reader, h *tar.Header, max int64) ([]byte, error) {
	if h.Size > max || h.Size < 0 {
		return nil, errorf(CodeMalformed, "archive entry %s is %d bytes, over %d", h.Name, h.Size, max)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(tr, max+1)); err != nil {
		return nil, errorf(CodeMalformed, "archive entry %s: %v", h.Name, err)
	}
	if int64(buf.Len()) != h.Size {
		return nil, errorf(CodeMalformed, "archive entry %s is truncated", h.Name)
	}
	return buf.Bytes(), nil
}
