package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tapline/tapline/internal/filemode"
	"github.com/tapline/tapline/internal/needs"
	"github.com/tapline/tapline/sensorcore/netconf"
)

var created = time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)

func sampleFiles() map[Role][]byte {
	s := netconf.Settings{Network: netconf.Network{Interface: "eth0", Address: "192.0.2.10", Mask: "24", Gateway: "192.0.2.1"}}
	return map[Role][]byte{
		RoleActivation: []byte(`{"format":"tapline-activation/1"}`),
		RoleCert:       []byte("-----BEGIN CERTIFICATE-----\n"),
		RoleKey:        []byte("-----BEGIN PRIVATE KEY-----\n"),
		RoleSettings:   s.Marshal(),
	}
}

func writeSample(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := Write(dir, Meta{Sensor: Sensor{Name: "sensor-01", ID: "S-1"}, CreatedAt: created, Creator: "test"}, sampleFiles()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteOpenPack(t *testing.T) {
	dir := writeSample(t)
	if ok, err := filemode.Is(filepath.Join(dir, "sensor.key"), 0o600); err != nil || !ok {
		t.Fatalf("key not private: %v", err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.File(RoleKey), sampleFiles()[RoleKey]) || b.Settings.Network.Address != "192.0.2.10" {
		t.Fatal("content differs")
	}
	arch := filepath.Join(t.TempDir(), ArchiveName("sensor-01", created))
	if filepath.Base(arch) != "sensor-01-20261121T103000Z.tapbundle" {
		t.Fatalf("archive name %s", arch)
	}
	var buf bytes.Buffer
	if err := Pack(dir, &buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(arch, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b2, err := Open(arch)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Manifest.Sensor.Name != "sensor-01" || len(b2.Files) != 4 {
		t.Fatalf("archive: %+v", b2.Manifest)
	}
	if _, err := Write(dir, Meta{Sensor: Sensor{Name: "x"}, CreatedAt: created}, sampleFiles()); err == nil {
		t.Error("wrote into a non-empty directory")
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		code string
		msg  string
	}{
		{"altered", func(t *testing.T, d string) { appendTo(t, filepath.Join(d, "sensor.crt"), "x") }, CodeAltered, "sensor.crt is"},
		{"altered same size", func(t *testing.T, d string) {
			p := filepath.Join(d, "sensor.key")
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			os.WriteFile(p, b, 0o600)
		}, CodeAltered, "SHA-256 differs"},
		{"missing", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "activation.tapact")) }, CodeMissing, "activation.tapact is listed"},
		{"extra", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "evil.sh"), []byte("x"), 0o600) }, CodeUnexpected, "evil.sh"},
		{"no manifest", func(t *testing.T, d string) { os.Remove(filepath.Join(d, ManifestName)) }, CodeMissing, "no manifest.json"},
		{"symlink", func(t *testing.T, d string) {
			p := filepath.Join(d, "sensor.crt")
			os.Remove(p)
			if runtime.GOOS == "windows" {
				t.Skip("bundle folders are read on the appliance (Linux); Windows links are another kind of file")
			}
			elsewhere := filepath.Join(t.TempDir(), "elsewhere.crt") // a file outside the bundle
			os.WriteFile(elsewhere, []byte("x"), 0o600)
			if err := os.Symlink(elsewhere, p); err != nil {
				needs.Missing(t, "this test needs symbolic links (on Windows a privilege): %v", err)
			}
		}, CodeMalformed, "not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSample(t)
			c.edit(t, dir)
			_, err := Open(dir)
			var be *Error
			if !errors.As(err, &be) || be.Code != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %s containing %q", err, c.code, c.msg)
			}
		})
	}
}

func appendTo(t *testing.T, p, s string) {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func TestArchiveRefusals(t *testing.T) {
	dir := writeSample(t)
	var buf bytes.Buffer
	if err := Pack(dir, &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	// Flip one byte inside the last file's data: a hash mismatch.
	bad := bytes.Clone(good)
	i := bytes.Index(bad, []byte("-----BEGIN PRIVATE KEY"))
	bad[i] = '+'
	if _, err := ReadArchive(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "sensor.key") {
		t.Fatalf("altered archive: %v", err)
	}
	if _, err := ReadArchive(bytes.NewReader(good[:len(good)/2])); err == nil {
		t.Fatal("truncated archive accepted")
	}
	if _, err := ReadArchive(strings.NewReader("not a tar")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestParseManifestRefusals(t *testing.T) {
	for name, m := range map[string]string{
		"format":   `{"format":"x","sensor":{"name":"a"},"created_at":"2026-01-01T00:00:00Z","files":[]}`,
		"unknown":  `{"format":"tapline-bundle/1","bogus":1}`,
		"required": `{"format":"tapline-bundle/1","sensor":{"name":"a"},"created_at":"2026-01-01T00:00:00Z","files":[]}`,
		"path":     `{"format":"tapline-bundle/1","sensor":{"name":"a"},"created_at":"2026-01-01T00:00:00Z","files":[{"role":"cert","name":"../x","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}]}`,
	} {
		if _, err := ParseManifest([]byte(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	dir := f.TempDir()
	if _, err := Write(filepath.Join(dir, "b"), Meta{Sensor: Sensor{Name: "s"}, CreatedAt: created}, sampleFiles()); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(filepath.Join(dir, "b", ManifestName))
	f.Add(seed)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err == nil && (m.Format != FormatV1 || m.Sensor.Name == "") {
			t.Fatal("accepted an invalid manifest")
		}
	})
}

func FuzzReadArchive(f *testing.F) {
	dir := f.TempDir()
	if _, err := Write(filepath.Join(dir, "b"), Meta{Sensor: Sensor{Name: "s"}, CreatedAt: created}, sampleFiles()); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Pack(filepath.Join(dir, "b"), &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadArchive(bytes.NewReader(data))
	})
}

// Archive builds in memory exactly the archive Write then Pack make on disk.
func TestArchiveInMemoryEqualsPack(t *testing.T) {
	meta := Meta{Sensor: Sensor{Name: "sensor-01", ID: "S-1"}, CreatedAt: created, Creator: "test", AcceptedWarnings: []string{"TL-CERT-020"}}
	mem, m, err := Archive(meta, sampleFiles())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := Write(dir, meta, sampleFiles()); err != nil {
		t.Fatal(err)
	}
	var disk bytes.Buffer
	if err := Pack(dir, &disk); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mem, disk.Bytes()) {
		t.Fatal("Archive and Write+Pack differ")
	}
	if m.Sensor.Name != "sensor-01" || len(m.Files) != 4 {
		t.Fatalf("manifest %+v", m)
	}
	if _, _, err := Archive(Meta{Sensor: Sensor{Name: "s"}, CreatedAt: created}, map[Role][]byte{"nonsense": []byte("x")}); err == nil {
		t.Fatal("an unknown role was packed")
	}
}
