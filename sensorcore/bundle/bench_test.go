package bundle

import (
	"bytes"
	"path/filepath"
	"testing"
)

func BenchmarkReadArchive(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "b")
	if _, err := Write(dir, Meta{Sensor: Sensor{Name: "s"}, CreatedAt: created}, sampleFiles()); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Pack(dir, &buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadArchive(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
