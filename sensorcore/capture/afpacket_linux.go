//go:build linux

package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Live captures from one interface through an AF_PACKET socket (packet(7))
// in promiscuous mode. It only receives.
type Live struct {
	Name    string
	fd      int
	ifindex int
	buf     []byte
	// recvmsg state, prepared once so reading does not allocate
	iov     unix.Iovec
	msg     unix.Msghdr
	control []byte
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
	// PACKET_AUXDATA (packet(7)) reports VLAN tags the kernel stripped
	// from received frames, so they can be put back.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fail("PACKET_AUXDATA", err)
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
	l := &Live{Name: iface, fd: fd, ifindex: ifc.Index, buf: make([]byte, snap+vlanRoom),
		control: make([]byte, unix.CmsgSpace(sizeofAuxdata))}
	l.iov.Base = &l.buf[vlanRoom]
	l.iov.SetLen(snap)
	l.msg.Iov = &l.iov
	l.msg.SetIovlen(1)
	l.msg.Control = &l.control[0]
	return l, nil
}

// sizeofAuxdata is sizeof(struct tpacket_auxdata).
const sizeofAuxdata = int(unsafe.Sizeof(unix.TpacketAuxdata{}))

// vlanRoom is kept free before each packet to re-insert an 802.1Q tag.
const vlanRoom = 4

// recv reads one frame with recvmsg(2) and re-inserts the VLAN tag the
// kernel reported in its PACKET_AUXDATA control message (struct
// tpacket_auxdata: TP_STATUS_VLAN_VALID, tp_vlan_tci, tp_vlan_tpid).
func (l *Live) recv() ([]byte, error) {
	l.msg.SetControllen(len(l.control))
	l.msg.Flags = 0
	n, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(l.fd), uintptr(unsafe.Pointer(&l.msg)), 0)
	if errno != 0 {
		return nil, errno
	}
	frame := l.buf[vlanRoom : vlanRoom+int(n)]
	ctl := l.control[:l.msg.Controllen]
	for len(ctl) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		clen := int(h.Len)
		if clen < unix.SizeofCmsghdr || clen > len(ctl) {
			break
		}
		if h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && clen >= unix.CmsgLen(sizeofAuxdata) {
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&ctl[unix.CmsgLen(0)]))
			if aux.Status&unix.TP_STATUS_VLAN_VALID != 0 && len(frame) >= 12 {
				tpid := uint16(0x8100)
				if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
					tpid = aux.Vlan_tpid
				}
				copy(l.buf[0:12], frame[:12])
				binary.BigEndian.PutUint16(l.buf[12:14], tpid)
				binary.BigEndian.PutUint16(l.buf[14:16], aux.Vlan_tci)
				frame = l.buf[:vlanRoom+int(n)]
			}
		}
		next := unix.CmsgSpace(clen - unix.SizeofCmsghdr)
		if next >= len(ctl) {
			break
		}
		ctl = ctl[next:]
	}
	return frame, nil
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
		frame, err := l.recv()
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, Info{}, fmt.Errorf("capture: %s: %w", l.Name, err)
		}
		l.packets.Add(1)
		return frame, Info{Timestamp: time.Now(), CaptureLen: len(frame), Length: len(frame), LinkType: LinkEthernet}, nil
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
