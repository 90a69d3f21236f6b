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
	// TPACKET_V3 ring state (ring == nil: recvmsg mode)
	ring      []byte
	blockSize int
	blockNr   int
	block     int  // current block
	held      bool // current block is ours until released
	left      int  // packets left in the current block
	off       int  // offset of the next packet in the current block
	pfd       [1]unix.PollFd
	drops     atomic.Uint64
	packets   atomic.Uint64
	closed    atomic.Bool
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
	l.pfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN | unix.POLLERR}
	if !o.NoRing {
		if err := l.setupRing(o.RingBlocks); err != nil {
			return fail("TPACKET_V3 ring", err)
		}
	}
	l.iov.Base = &l.buf[vlanRoom]
	l.iov.SetLen(snap)
	l.msg.Iov = &l.iov
	l.msg.SetIovlen(1)
	l.msg.Control = &l.control[0]
	return l, nil
}

// sizeofAuxdata is sizeof(struct tpacket_auxdata).
const sizeofAuxdata = int(unsafe.Sizeof(unix.TpacketAuxdata{}))

// ringBlockSize is one TPACKET_V3 block; the kernel fills a block with
// packets and hands it over when it is full or 50 ms old.
const ringBlockSize = 1 << 20

// setupRing switches the socket to TPACKET_V3 (packet(7), PACKET_VERSION)
// and maps a PACKET_RX_RING of blocks 1 MiB each.
func (l *Live) setupRing(blocks int) error {
	if blocks <= 0 {
		blocks = 32
	}
	if err := unix.SetsockoptInt(l.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return err
	}
	const frame = 2048
	req := unix.TpacketReq3{Block_size: ringBlockSize, Block_nr: uint32(blocks), Frame_size: frame,
		Frame_nr: uint32(ringBlockSize / frame * blocks), Retire_blk_tov: 50}
	if err := unix.SetsockoptTpacketReq3(l.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return err
	}
	ring, err := unix.Mmap(l.fd, 0, ringBlockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	l.ring, l.blockSize, l.blockNr = ring, ringBlockSize, blocks
	return nil
}

// blockStatus points at block b's tpacket_hdr_v1.block_status (offset 8
// in struct tpacket_block_desc), shared with the kernel.
func (l *Live) blockStatus(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&l.ring[b*l.blockSize+8]))
}

// nextRing returns the next packet from the ring, waiting up to
// pollInterval; ok is false when none arrived.
func (l *Live) nextRing() (frame []byte, ci Info, ok bool, err error) {
	for {
		if l.held && l.left > 0 {
			base := l.block*l.blockSize + l.off
			if base+unix.SizeofTpacket3Hdr > (l.block+1)*l.blockSize {
				l.left = 0
				continue
			}
			h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&l.ring[base]))
			start, n := base+int(h.Mac), int(h.Snaplen)
			if start+n > (l.block+1)*l.blockSize {
				l.left = 0
				continue
			}
			frame = l.ring[start : start+n : start+n]
			if h.Status&unix.TP_STATUS_VLAN_VALID != 0 && n >= 12 && n+vlanRoom <= len(l.buf) {
				tpid := uint16(0x8100)
				if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
					tpid = h.Hv1.Vlan_tpid
				}
				copy(l.buf[0:12], frame[:12])
				binary.BigEndian.PutUint16(l.buf[12:14], tpid)
				binary.BigEndian.PutUint16(l.buf[14:16], uint16(h.Hv1.Vlan_tci))
				copy(l.buf[16:], frame[12:])
				frame = l.buf[:n+vlanRoom]
			}
			ci = Info{UnixNano: int64(h.Sec)*1e9 + int64(h.Nsec), CaptureLen: len(frame), Length: int(h.Len), LinkType: LinkEthernet}
			l.left--
			l.off += int(h.Next_offset)
			if h.Next_offset == 0 {
				l.left = 0
			}
			return frame, ci, true, nil
		}
		if l.held {
			// hand the block back (TP_STATUS_KERNEL) and move on
			atomic.StoreUint32(l.blockStatus(l.block), unix.TP_STATUS_KERNEL)
			l.held = false
			l.block = (l.block + 1) % l.blockNr
		}
		if atomic.LoadUint32(l.blockStatus(l.block))&unix.TP_STATUS_USER == 0 {
			_, err := unix.Poll(l.pfd[:], int(pollInterval/time.Millisecond))
			if err != nil && !errors.Is(err, unix.EINTR) {
				return nil, Info{}, false, err
			}
			if atomic.LoadUint32(l.blockStatus(l.block))&unix.TP_STATUS_USER == 0 {
				return nil, Info{}, false, nil
			}
		}
		hdr := (*unix.TpacketHdrV1)(unsafe.Pointer(&l.ring[l.block*l.blockSize+8]))
		l.held, l.left, l.off = true, int(hdr.Num_pkts), int(hdr.Offset_to_first_pkt)
	}
}

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
		if l.ring != nil {
			frame, ci, ok, err := l.nextRing()
			if err != nil {
				return nil, Info{}, fmt.Errorf("capture: %s: %w", l.Name, err)
			}
			if ok {
				l.packets.Add(1)
				return frame, ci, nil
			}
			continue
		}
		frame, err := l.recv()
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, Info{}, fmt.Errorf("capture: %s: %w", l.Name, err)
		}
		l.packets.Add(1)
		return frame, Info{UnixNano: time.Now().UnixNano(), CaptureLen: len(frame), Length: len(frame), LinkType: LinkEthernet}, nil
	}
}

// Next implements Reader, waiting without a deadline.
func (l *Live) Next() ([]byte, Info, error) { return l.NextContext(context.Background()) }

// Drops returns the packets the kernel dropped since OpenLive
// (PACKET_STATISTICS tp_drops; the kernel resets them on each read, so
// they are accumulated here).
func (l *Live) Drops() uint64 {
	if !l.closed.Load() {
		if l.ring != nil {
			if st, err := unix.GetsockoptTpacketStatsV3(l.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
				l.drops.Add(uint64(st.Drops))
			}
		} else if st, err := unix.GetsockoptTpacketStats(l.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			l.drops.Add(uint64(st.Drops))
		}
	}
	return l.drops.Load()
}

// Packets returns the packets received.
func (l *Live) Packets() uint64 { return l.packets.Load() }

// Close releases the socket.
// Close releases the socket and the ring. Call it only once the goroutine
// reading from l has returned from NextContext.
func (l *Live) Close() error {
	l.Drops()
	if l.closed.Swap(true) {
		return nil
	}
	if l.ring != nil {
		unix.Munmap(l.ring)
	}
	return unix.Close(l.fd)
}
