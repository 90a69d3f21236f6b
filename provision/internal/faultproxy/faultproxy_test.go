package faultproxy

import (
	"io"
	"net"
	"testing"
	"time"
)

func echoServer(t *testing.T) (string, chan []byte) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan []byte, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				b, _ := io.ReadAll(c)
				got <- b
				c.Close()
			}()
		}
	}()
	return l.Addr().String(), got
}

func TestCutAfterRefuseRetarget(t *testing.T) {
	addr, got := echoServer(t)
	p, err := New(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.CutAfter(10)
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("0123456789abcdef"))
	select {
	case b := <-got:
		if string(b) != "0123456789" {
			t.Fatalf("server got %q, want exactly 10 bytes", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the proxy did not cut")
	}
	c.Close()
	if p.Up.Load() != 10 {
		t.Fatalf("Up = %d", p.Up.Load())
	}
	p.CutAfter(0)
	p.Refuse(true)
	c, _ = net.Dial("tcp", p.Addr)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("refused connection stayed open")
	}
	c.Close()
	p.Refuse(false)
	c, _ = net.Dial("tcp", p.Addr)
	c.Write([]byte("whole"))
	c.(*net.TCPConn).CloseWrite()
	if b := <-got; string(b) != "whole" {
		t.Fatalf("after refuse off: %q", b)
	}
	c.Close()
}
