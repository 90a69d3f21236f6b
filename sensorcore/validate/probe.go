package validate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Ping sends up to three ICMP echo requests to addr, a second apart at
// most, and returns the first round trip. It uses a raw ICMP socket
// (CAP_NET_RAW, as serve has) or, failing that, the kernel's unprivileged
// ping socket.
func Ping(ctx context.Context, addr netip.Addr) (time.Duration, error) {
	addr = addr.Unmap()
	raw, dgram, proto := "ip4:icmp", "udp4", 1
	var echo, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if addr.Is6() {
		raw, dgram, proto = "ip6:ipv6-icmp", "udp6", 58
		echo, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	c, err := icmp.ListenPacket(raw, "")
	var dst net.Addr = &net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
	unprivileged := false
	if err != nil {
		if c, err = icmp.ListenPacket(dgram, ""); err != nil {
			return 0, fmt.Errorf("no ICMP socket (%v): the sensor may not send ping", err)
		}
		dst, unprivileged = &net.UDPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}, true
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	var idb [2]byte
	rand.Read(idb[:])
	id := int(binary.BigEndian.Uint16(idb[:]))
	buf := make([]byte, 1500)
	last := errors.New("no answer")
	for seq := 1; seq <= 3; seq++ {
		msg, _ := (&icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("tapline validate")}}).Marshal(nil)
		sent := time.Now()
		if _, err := c.WriteTo(msg, dst); err != nil {
			return 0, err
		}
		c.SetReadDeadline(sent.Add(time.Second))
		for {
			n, peer, err := c.ReadFrom(buf)
			if err != nil {
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				last = errors.New("no answer within 1 s (3 tries)")
				break
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || m.Type != reply {
				continue
			}
			e, ok := m.Body.(*icmp.Echo)
			// The ping socket rewrites the id; the sequence still matches.
			if !ok || e.Seq != seq || (!unprivileged && e.ID != id) || !samePeer(peer, addr) {
				continue
			}
			return time.Since(sent), nil
		}
	}
	return 0, last
}

func samePeer(a net.Addr, want netip.Addr) bool {
	var ip net.IP
	switch p := a.(type) {
	case *net.IPAddr:
		ip = p.IP
	case *net.UDPAddr:
		ip = p.IP
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == want.Unmap()
}

// DNSAnswer is what a DNS server said about a name.
type DNSAnswer struct {
	RCode string       // NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...
	Addrs []netip.Addr // the name's A (or, with none, AAAA) records
}

// AskDNS asks the server (UDP port 53) for name's A records, and its AAAA
// records when it has no A record: two tries of 2 s each.
func AskDNS(ctx context.Context, server netip.Addr, name string) (DNSAnswer, error) {
	return askDNS(ctx, netip.AddrPortFrom(server, 53), name)
}

func askDNS(ctx context.Context, server netip.AddrPort, name string) (DNSAnswer, error) {
	a, err := question(ctx, server, name, dnsmessage.TypeA)
	if err != nil || a.RCode != "NOERROR" || len(a.Addrs) > 0 {
		return a, err
	}
	if b, err := question(ctx, server, name, dnsmessage.TypeAAAA); err == nil && len(b.Addrs) > 0 {
		return b, nil
	}
	return a, nil
}

func question(ctx context.Context, server netip.AddrPort, name string, typ dnsmessage.Type) (DNSAnswer, error) {
	if name != "." && name[len(name)-1] != '.' {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return DNSAnswer{}, fmt.Errorf("%q is not a DNS name", name)
	}
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	q, err := (&dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: typ, Class: dnsmessage.ClassINET}}}).Pack()
	if err != nil {
		return DNSAnswer{}, err
	}
	var last error
	for try := 0; try < 2; try++ {
		a, err := exchange(ctx, server, q, id)
		if err == nil {
			return a, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return DNSAnswer{}, last
}

func exchange(ctx context.Context, server netip.AddrPort, q []byte, id uint16) (DNSAnswer, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", server.String())
	if err != nil {
		return DNSAnswer{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(q); err != nil {
		return DNSAnswer{}, err
	}
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return DNSAnswer{}, errors.New("no answer within 2 s")
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil || h.ID != id || !h.Response {
			continue // not the answer to this question
		}
		a := DNSAnswer{RCode: rcodeName(h.RCode)}
		if err := p.SkipAllQuestions(); err != nil {
			return a, nil
		}
		for {
			rh, err := p.AnswerHeader()
			if err != nil {
				break
			}
			switch rh.Type {
			case dnsmessage.TypeA:
				if r, err := p.AResource(); err == nil {
					a.Addrs = append(a.Addrs, netip.AddrFrom4(r.A))
				}
			case dnsmessage.TypeAAAA:
				if r, err := p.AAAAResource(); err == nil {
					a.Addrs = append(a.Addrs, netip.AddrFrom16(r.AAAA))
				}
			default:
				if p.SkipAnswer() != nil {
					return a, nil
				}
			}
		}
		return a, nil
	}
}

func rcodeName(r dnsmessage.RCode) string {
	switch r {
	case dnsmessage.RCodeSuccess:
		return "NOERROR"
	case dnsmessage.RCodeNameError:
		return "NXDOMAIN"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	}
	return fmt.Sprintf("RCODE%d", int(r))
}

// ClockState is the kernel clock's synchronisation.
type ClockState struct {
	Synchronised bool
	MaxError     time.Duration
}
