package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOperationsCap: the log never holds more than its cap on disk, keeps
// the newest records, and reads them back oldest first, filtered.
func TestOperationsCap(t *testing.T) {
	dir := t.TempDir()
	o, err := OpenOperations(dir, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := fmt.Fprintf(o, "{\"n\":%d,\"server\":{\"ip\":\"192.0.2.%d\"}}\n", i, i%2); err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, n := range []string{OperationsFile, OperationsFile + ".1"} {
			if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
				total += fi.Size()
				if fi.Mode().Perm() != 0o640 {
					t.Fatalf("%s mode %v", n, fi.Mode())
				}
			}
		}
		if total > 4096 {
			t.Fatalf("after %d records: %d bytes on disk, cap 4096", i+1, total)
		}
	}
	o.Close()
	got, err := ReadOperations(dir, 3, func(l []byte) bool { return strings.Contains(string(l), "192.0.2.1\"") })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || string(got[2]) != `{"n":999,"server":{"ip":"192.0.2.1"}}` || string(got[0]) != `{"n":995,"server":{"ip":"192.0.2.1"}}` {
		t.Fatalf("read back %q", got)
	}
}
