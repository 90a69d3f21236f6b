package alert

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sample() Alert {
	fc := 41
	return Alert{ID: 7, Time: t0, Severity: SevCritical, Rule: "s7-plc-stop", Title: "S7 PLC stop | now",
		Message: "A client told a PLC to stop (src=192.0.2.1 a=b)", Protocol: "s7comm", Function: &fc,
		Src: "192.0.2.1", Dst: "192.0.2.2", Status: StatusNew}
}

func TestFormatRFC5424(t *testing.T) {
	a := sample()
	got := FormatRFC5424(&a, "sensor-01", "1.2.3", 16)
	want := `<130>1 2026-11-21T08:00:00.000000Z sensor-01 sensorcore - s7-plc-stop - CEF:0|Tapline|sensorcore|1.2.3|s7-plc-stop|S7 PLC stop \| now|10|externalId=7 rt=1795248000000 src=192.0.2.1 dst=192.0.2.2 app=s7comm cs1Label=function cs1=41 msg=A client told a PLC to stop (src\=192.0.2.1 a\=b)`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestSyslogUDP sends through a real UDP listener on 127.0.0.1.
func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := NewSyslog(SyslogOptions{Network: "udp", Addr: pc.LocalAddr().String(), Hostname: "sensor-01"})
	if err != nil {
		t.Fatal(err)
	}
	s.Send(sample())
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	msg := string(buf[:n])
	if !strings.HasPrefix(msg, "<130>1 ") || !strings.Contains(msg, "CEF:0|Tapline|sensorcore|") {
		t.Fatalf("received %q", msg)
	}
	if s.Sent.Load() != 1 {
		t.Fatalf("sent %d", s.Sent.Load())
	}
}

// TestSyslogTCP reads octet-counted frames (RFC 6587 §3.4.1) from a real
// TCP listener on 127.0.0.1.
func TestSyslogTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		var msgs []string
		for len(msgs) < 2 {
			l, err := r.ReadString(' ')
			if err != nil {
				break
			}
			n, _ := strconv.Atoi(strings.TrimSpace(l))
			b := make([]byte, n)
			if _, err := readFull(r, b); err != nil {
				break
			}
			msgs = append(msgs, string(b))
		}
		got <- msgs
	}()
	s, err := NewSyslog(SyslogOptions{Network: "tcp", Addr: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	a := sample()
	s.Send(a)
	a.ID, a.Severity = 8, SevLow
	s.Send(a)
	s.Close()
	msgs := <-got
	if len(msgs) != 2 || !strings.HasPrefix(msgs[0], "<130>1 ") || !strings.HasPrefix(msgs[1], "<133>1 ") || !strings.Contains(msgs[1], "externalId=8") {
		t.Fatalf("received %q", msgs)
	}
}

func TestSyslogOptions(t *testing.T) {
	if _, err := NewSyslog(SyslogOptions{Network: "sctp", Addr: "127.0.0.1:514"}); err == nil {
		t.Error("sctp accepted")
	}
	if _, err := NewSyslog(SyslogOptions{Network: "udp", Addr: "127.0.0.1"}); err == nil {
		t.Error("address without port accepted")
	}
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
