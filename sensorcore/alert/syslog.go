package alert

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SyslogOptions configure forwarding to one syslog receiver.
type SyslogOptions struct {
	Network  string // "udp" or "tcp"
	Addr     string // host:port
	Hostname string // RFC 5424 HOSTNAME; "-" when empty
	Version  string // sensorcore version, CEF Device Version
	// Facility is the RFC 5424 facility; 0 picks local0 (16).
	Facility int
}

// Syslog forwards alerts as RFC 5424 messages whose MSG is a CEF record.
// TCP uses octet-counting framing (RFC 6587 §3.4.1) and reconnects on
// failure; UDP sends one message per datagram (RFC 5426). Send never
// blocks: a full queue drops the alert and counts it.
type Syslog struct {
	opts    SyslogOptions
	q       chan Alert
	done    chan struct{}
	wg      sync.WaitGroup
	Sent    atomic.Uint64
	Dropped atomic.Uint64
	Errors  atomic.Uint64
}

// NewSyslog starts a forwarder. Close stops it after draining the queue.
func NewSyslog(o SyslogOptions) (*Syslog, error) {
	if o.Network != "udp" && o.Network != "tcp" {
		return nil, fmt.Errorf("alert: syslog network %q: use udp or tcp", o.Network)
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return nil, fmt.Errorf("alert: syslog address %q: %v (use host:port)", o.Addr, err)
	}
	if o.Facility == 0 {
		o.Facility = 16
	}
	s := &Syslog{opts: o, q: make(chan Alert, 1024), done: make(chan struct{})}
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

// Send queues a for forwarding.
func (s *Syslog) Send(a Alert) {
	select {
	case s.q <- a:
	default:
		s.Dropped.Add(1)
	}
}

// Close drains the queue and stops the forwarder.
func (s *Syslog) Close() error {
	close(s.q)
	s.wg.Wait()
	return nil
}

func (s *Syslog) loop() {
	defer s.wg.Done()
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for a := range s.q {
		msg := FormatRFC5424(&a, s.opts.Hostname, s.opts.Version, s.opts.Facility)
		for attempt := 0; attempt < 2; attempt++ {
			if conn == nil {
				c, err := net.DialTimeout(s.opts.Network, s.opts.Addr, 3*time.Second)
				if err != nil {
					s.Errors.Add(1)
					break
				}
				conn = c
			}
			conn.SetWriteDeadline(time.Now().Add(3 * time.Second))
			var err error
			if s.opts.Network == "tcp" {
				_, err = conn.Write([]byte(strconv.Itoa(len(msg)) + " " + msg))
			} else {
				_, err = conn.Write([]byte(msg))
			}
			if err == nil {
				s.Sent.Add(1)
				break
			}
			s.Errors.Add(1)
			conn.Close()
			conn = nil
		}
	}
}

// syslogSeverity maps alert severity to RFC 5424 §6.2.1 severities.
func syslogSeverity(sev string) int {
	switch sev {
	case SevCritical:
		return 2
	case SevHigh:
		return 3
	case SevMedium:
		return 4
	}
	return 5
}

// cefSeverity maps alert severity to CEF's 0-10 scale.
func cefSeverity(sev string) int {
	switch sev {
	case SevCritical:
		return 10
	case SevHigh:
		return 8
	case SevMedium:
		return 5
	}
	return 3
}

// FormatRFC5424 renders a as "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID
// MSGID SD MSG" (RFC 5424 §6) with APP-NAME sensorcore, MSGID the rule id
// and MSG a CEF:0 record (ArcSight CEF "Implementing ArcSight Common
// Event Format" rev 25: header fields escape | and \, extension values
// escape = and \ and encode newlines).
func FormatRFC5424(a *Alert, hostname, version string, facility int) string {
	if hostname == "" {
		hostname = "-"
	}
	if version == "" {
		version = "dev"
	}
	pri := facility*8 + syslogSeverity(a.Severity)
	ts := a.Time.UTC().Format("2006-01-02T15:04:05.000000Z")
	var b strings.Builder
	fmt.Fprintf(&b, "<%d>1 %s %s sensorcore - %s - ", pri, ts, sdName(hostname), sdName(a.Rule))
	fmt.Fprintf(&b, "CEF:0|Tapline|sensorcore|%s|%s|%s|%d|", cefHeader(version), cefHeader(a.Rule), cefHeader(a.Title), cefSeverity(a.Severity))
	ext := []string{"externalId=" + strconv.FormatUint(a.ID, 10), "rt=" + strconv.FormatInt(a.Time.UnixMilli(), 10)}
	if a.Src != "" {
		ext = append(ext, "src="+cefValue(a.Src))
	}
	if a.Dst != "" {
		ext = append(ext, "dst="+cefValue(a.Dst))
	}
	if a.Protocol != "" {
		ext = append(ext, "app="+cefValue(a.Protocol))
	}
	if a.Function != nil {
		ext = append(ext, "cs1Label=function", "cs1="+strconv.Itoa(*a.Function))
	}
	ext = append(ext, "msg="+cefValue(a.Message))
	b.WriteString(strings.Join(ext, " "))
	return b.String()
}

// sdName keeps printable US-ASCII without spaces (RFC 5424 §6.2 PRINTUSASCII).
func sdName(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c < 33 || c > 126 {
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

func cefHeader(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, "|", `\|`)
}

func cefValue(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "=", `\=`)
	s = strings.ReplaceAll(s, "\r", `\r`)
	return strings.ReplaceAll(s, "\n", `\n`)
}
