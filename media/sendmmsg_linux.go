//go:build linux && (amd64 || arm64)

package media

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSys sends a batch with one sendmmsg(2) made as a raw system call.
//
// Why not golang.org/x/net/ipv4 WriteBatch, which also makes sendmmsg: it
// goes through syscall.Syscall, which tells the Go scheduler the goroutine
// may block. A sendmmsg of a fan-out pass on loopback runs for tens to
// hundreds of microseconds (the kernel delivers to the receivers inside it),
// and with GOMAXPROCS=1 the scheduler's sysmon then takes the P away, hands it
// to another thread and wakes one: a context switch or two per pass, and a
// sysmon that never sleeps long (a fifth of the server's CPU in perf). The
// socket is non-blocking, so the call never blocks: it either sends or says
// EAGAIN, and then the poller waits for room as usual (RawConn.Write).
type batchSys struct {
	raw   syscall.RawConn
	reads sync.Pool // of *rawRead
}

func (c *batchConn) initSend() {
	raw, err := c.UDPConn.SyscallConn()
	if err != nil {
		panic("media: UDP socket without a file descriptor: " + err.Error()) // never for *net.UDPConn
	}
	c.sys.raw = raw
	c.sys.reads.New = func() any {
		r := &rawRead{arrivals: &c.arrivals}
		r.fn = r.recvfrom
		return r
	}
}

// mmsghdr is struct mmsghdr of sendmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// sendBatch is one sendmmsg's worth of datagrams, with its own buffers,
// addresses and headers, pointing at each other once and for all, so that
// queuing and sending allocate nothing.
type sendBatch struct {
	n    int
	hdrs [batchLen]mmsghdr
	iovs [batchLen]unix.Iovec
	sas  [batchLen]unix.RawSockaddrInet4
	bufs [batchLen][maxDatagram]byte

	// The raw call's arguments and results, and the function RawConn.Write
	// runs, made once per batch (a closure per call would allocate).
	off, sent int
	errno     syscall.Errno
	fn        func(fd uintptr) bool
}

func newSendBatch() *sendBatch {
	b := &sendBatch{}
	for i := range b.hdrs {
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.sas[i]))
		h.Namelen = unix.SizeofSockaddrInet4
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		b.iovs[i].Base = &b.bufs[i][0]
		b.sas[i].Family = unix.AF_INET
	}
	b.fn = b.sendmmsg
	return b
}

// fits: the ICE socket is udp4; anything else goes out on its own.
func fits(addr netip.AddrPort) bool { return addr.Addr().Unmap().Is4() }

func (b *sendBatch) put(p []byte, addr netip.AddrPort) {
	b.commit(copy(b.slot(), p), addr)
}

// slot is the buffer of the next datagram; commit queues its first n bytes.
func (b *sendBatch) slot() []byte { return b.bufs[b.n][:] }

func (b *sendBatch) commit(n int, addr netip.AddrPort) {
	i := b.n
	b.n++
	b.iovs[i].SetLen(n)
	sa := &b.sas[i]
	sa.Addr = addr.Addr().Unmap().As4()
	port := addr.Port()
	sa.Port = port>>8 | port<<8 // network byte order
}

func (b *sendBatch) reset() { b.n = 0 }

// sendmmsg is run by RawConn.Write with the socket's descriptor; false asks
// the poller to wait until the socket can take more.
func (b *sendBatch) sendmmsg(fd uintptr) bool {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[b.off])), uintptr(b.n-b.off), 0, 0, 0)
	if e == unix.EAGAIN {
		return false
	}
	b.sent, b.errno = int(r), e
	return true
}

// write sends b's datagrams from off on and returns how many left.
func (s *batchSys) write(b *sendBatch, off int) int {
	b.off, b.sent, b.errno = off, 0, 0
	if err := s.raw.Write(b.fn); err != nil || b.errno != 0 {
		return 0
	}
	return b.sent
}

// rawRead receives with recvfrom(2) as a raw system call, for the same
// reason sends are raw: a syscall.Syscall from the mux's read loop wakes the
// scheduler's sysmon out of its deep sleep after every idle gap (every burst
// of packets), and sysmon then polls every 20 µs for a millisecond before it
// backs off again. The socket is non-blocking: recvfrom returns at once, and
// on EAGAIN the poller waits for the next datagram (RawConn.Read). One
// rawRead is the arguments and results of one read; they are pooled, so that
// reading allocates nothing and no lock is held while waiting.
type rawRead struct {
	buf   []byte
	n     int
	from  unix.RawSockaddrInet4
	errno syscall.Errno
	fn    func(fd uintptr) bool

	arrivals *arrivalTable // where RTP datagrams' kernel receive times go (latency.go)
	stamp    unix.Timespec
}

func (r *rawRead) recvfrom(fd uintptr) bool {
	salen := uint32(unix.SizeofSockaddrInet4)
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.buf))), uintptr(len(r.buf)), 0,
		uintptr(unsafe.Pointer(&r.from)), uintptr(unsafe.Pointer(&salen)))
	if e == unix.EAGAIN {
		return false
	}
	r.n, r.errno = int(n), e
	if e == 0 && isRTPDatagram(r.buf[:n]) {
		// The kernel's receive time of the datagram just read (it stamps every
		// datagram once asked the first time): one more system call per incoming
		// RTP packet, none per forwarded one.
		if _, _, e := unix.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCGSTAMPNS, uintptr(unsafe.Pointer(&r.stamp))); e == 0 {
			r.arrivals.note(r.buf[:n], r.stamp.Nano())
		}
	}
	return true
}

// ReadFromAddrPort lets the ICE mux read without allocating and without
// waking sysmon.
func (c *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	r := c.sys.reads.Get().(*rawRead)
	defer c.sys.reads.Put(r)
	r.buf, r.n, r.errno = p, 0, 0
	err := c.sys.raw.Read(r.fn)
	r.buf = nil
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if r.errno != 0 {
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: os.NewSyscallError("recvfrom", r.errno)}
	}
	if r.from.Family != unix.AF_INET {
		return r.n, netip.AddrPort{}, nil
	}
	port := r.from.Port>>8 | r.from.Port<<8
	return r.n, netip.AddrPortFrom(netip.AddrFrom4(r.from.Addr), port), nil
}
