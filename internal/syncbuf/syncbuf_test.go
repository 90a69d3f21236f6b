package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Readers and a writer at once (the race detector watches), and nothing
// written is lost.
func TestConcurrentWriteAndRead(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 1000 {
			b.Write([]byte("line\n"))
		}
	}()
	go func() {
		defer wg.Done()
		for range 1000 {
			_ = b.String()
		}
	}()
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 1000 {
		t.Fatalf("%d lines, want 1000", n)
	}
	b.Reset()
	if b.String() != "" {
		t.Fatal("Reset left text behind")
	}
}
