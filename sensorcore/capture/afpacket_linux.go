//go:build linux

package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Live captures from one interface through an AF_PACKET socket (packet(7))
// in promiscuous mode. It only receives.
type Live struct {
	Name    string
	fd      int
	ifindex int
	buf     []byte
	drops   atomic.Uint64
	packets atomic.Uint64
	closed  atomic.Bool
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// pollInterval bounds how long NextContext waits before rechecking its
// context.
const pollInterval = 200 * time.Millisecond

// OpenLive opens iface for capture: a SOCK_RAW AF_PACKET socket bound to
// the interface for all protocols (ETH_P_ALL), PACKET_MR_PROMISC
// membership, and the optional BPF filter attached with SO_ATTACH_FILTER.
// It needs CAP_NET_RAW.
func OpenLive(iface string, o LiveOptions) (*Live, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("capture: interface %q: %w", iface, err)
	}
	prog, err := ParseFilter(o.Filter)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, fmt.Errorf("capture: %s: AF_PACKET socket: %w (needs root or CAP_NET_RAW)", iface, err)
	}
	fail := func(what string, err error) (*Live, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("capture: %s: %s: %w", iface, what, err)
	}
	if len(prog) > 0 {
		filt := make([]unix.SockFilter, len(prog))
		for i, ins := range prog {
			filt[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		}
		fp := unix.SockFprog{Len: uint16(len(filt)), Filter: &filt[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
			return fail("attach BPF filter", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		return fail("bind", err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifc.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fail("promiscuous mode", err)
	}
	tv := unix.NsecToTimeval(int64(pollInterval))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("receive timeout", err)
	}
	// Reset the kernel counters so Drops counts from now.
	unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	snap := o.SnapLen
	if snap <= 0 || snap > MaxSnapLen {
		snap = 65535
	}
	return &Live{Name: iface, fd: fd, ifindex: ifc.Index, buf: make([]byte, snap)}, nil
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("capture: live capture closed")

// NextContext waits for the next packet or ctx's end. The data aliases the
// capture's buffer until the next call.
func (l *Live) NextContext(ctx context.Context) ([]byte, Info, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, Info{}, err
		}
		if l.closed.Load() {
			return nil, Info{}, ErrClosed
		}
		n, err := unix.Read(l.fd, l.buf)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, Info{}, fmt.Errorf("capture: %s: %w", l.Name, err)
		}
		l.packets.Add(1)
		return l.buf[:n], Info{Timestamp: time.Now(), CaptureLen: n, Length: n, LinkType: LinkEthernet}, nil
	}
}

// Next implements Reader, waiting without a deadline.
func (l *Live) Next() ([]byte, Info, error) { return l.NextContext(context.Background()) }

// Drops returns the packets the kernel dropped since OpenLive
// (PACKET_STATISTICS tp_drops; the kernel resets them on each read, so
// they are accumulated here).
func (l *Live) Drops() uint64 {
	if !l.closed.Load() {
		if st, err := unix.GetsockoptTpacketStats(l.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			l.drops.Add(uint64(st.Drops))
		}
	}
	return l.drops.Load()
}

// Packets returns the packets received.
func (l *Live) Packets() uint64 { return l.packets.Load() }

// Close releases the socket.
func (l *Live) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	l.Drops()
	return unix.Close(l.fd)
}
