package sshdtest

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogsWhileSSHDWrites reads the log while sshd writes to it: clients
// that send a bad banner make sshd log an error each, and Logs is called
// all the while (the race detector watches the buffer).
func TestLogsWhileSSHDWrites(t *testing.T) {
	Require(t)
	s := Start(t, Options{HostKeyTypes: []string{"ed25519"}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = s.Logs()
			}
		}
	}()
	for i := 0; i < 20; i++ {
		c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("NOT-SSH\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		c.Close()
	}
	const want = `invalid protocol identifier "NOT-SSH"`
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.Logs(), want) < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if n := strings.Count(s.Logs(), want); n != 20 {
		t.Fatalf("sshd logged %d of the 20 bad banners:\n%s", n, s.Logs())
	}
}
