package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Meta is what Write records about a bundle besides its files.
type Meta struct {
	Sensor           Sensor
	CreatedAt        time.Time
	Creator          string
	AcceptedWarnings []string
	CertName         string // Manifest.CertName
	KeepCertificate  bool   // Manifest.KeepCertificate: no cert or key in files
}

// Write creates dir (which must not exist, or be empty) holding the files
// and their manifest. Secret files (key, settings, proxy key) are 0600 and
// the directory 0700. The laptop never calls it for a bundle with a key:
// it builds the archive in memory (Archive) and streams it to the sensor.
func Write(dir string, meta Meta, files map[Role][]byte) (*Manifest, error) {
	m, mb, roles, err := manifestFor(meta, files)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	} else if len(ents) > 0 {
		return nil, fmt.Errorf("bundle: %s is not empty; choose a new directory", dir)
	}
	for _, r := range roles {
		mode := os.FileMode(0o644)
		if secret(r) {
			mode = 0o600
		}
		if err := writeSync(filepath.Join(dir, fileNames[r]), files[r], mode); err != nil {
			return nil, err
		}
	}
	if err := writeSync(filepath.Join(dir, ManifestName), mb, 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// Archive builds the packed bundle (the .tapbundle bytes Pack would write
// for the same files) in memory, and verifies it as ReadArchive reads it.
// Nothing touches the disk: this is how the laptop makes a bundle holding a
// private key, which then goes straight to the sensor over SFTP.
func Archive(meta Meta, files map[Role][]byte) ([]byte, *Manifest, error) {
	m, mb, _, err := manifestFor(meta, files)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := writeArchive(&buf, m, mb, files); err != nil {
		return nil, nil, err
	}
	if _, err := ReadArchive(bytes.NewReader(buf.Bytes())); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), m, nil
}

// manifestFor makes the manifest of files (sorted by role) and its JSON,
// checked by ParseManifest.
func manifestFor(meta Meta, files map[Role][]byte) (*Manifest, []byte, []Role, error) {
	m := &Manifest{Format: FormatV1, Sensor: meta.Sensor, CreatedAt: meta.CreatedAt.UTC().Truncate(time.Second),
		Creator: meta.Creator, AcceptedWarnings: meta.AcceptedWarnings, CertName: meta.CertName, KeepCertificate: meta.KeepCertificate}
	roles := make([]Role, 0, len(files))
	for r := range files {
		if _, ok := fileNames[r]; !ok {
			return nil, nil, nil, fmt.Errorf("bundle: unknown role %q", r)
		}
		roles = append(roles, r)
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i] < roles[j] })
	for _, r := range roles {
		d := files[r]
		s := sha256.Sum256(d)
		m.Files = append(m.Files, Entry{Role: r, Name: fileNames[r], Size: int64(len(d)), SHA256: hex.EncodeToString(s[:])})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, nil, err
	}
	mb = append(mb, '\n')
	if _, err := ParseManifest(mb); err != nil {
		return nil, nil, nil, err
	}
	return m, mb, roles, nil
}

func writeSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("bundle: %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("bundle: %s: %w", path, err)
	}
	return f.Close()
}

// Pack writes the bundle in dir as one uncompressed tar archive, manifest
// first, after verifying it with Open.
func Pack(dir string, w io.Writer) error {
	b, err := Open(dir)
	if err != nil {
		return err
	}
	return b.WriteArchive(w)
}

// WriteArchive writes the opened bundle as one uncompressed tar archive,
// manifest first (the .tapbundle format).
func (b *Bundle) WriteArchive(w io.Writer) error {
	return writeArchive(w, b.Manifest, b.raw, b.Files)
}

func writeArchive(w io.Writer, m *Manifest, raw []byte, files map[Role][]byte) error {
	tw := tar.NewWriter(w)
	add := func(name string, data []byte, mode int64) error {
		h := &tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(ManifestName, raw, 0o644); err != nil {
		return fmt.Errorf("bundle: pack: %w", err)
	}
	for _, e := range m.Files {
		if err := add(e.Name, files[e.Role], 0o600); err != nil {
			return fmt.Errorf("bundle: pack: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("bundle: pack: %w", err)
	}
	return nil
}
