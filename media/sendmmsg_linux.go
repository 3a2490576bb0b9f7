//go:build linux && (amd64 || arm64)

package media

import (
	"net/netip"
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
	raw syscall.RawConn
	gso gsoState // UDP_SEGMENT (gso_linux.go)
}

func (c *batchConn) initSend() {
	raw, err := c.UDPConn.SyscallConn()
	if err != nil {
		panic("media: UDP socket without a file descriptor: " + err.Error()) // never for *net.UDPConn
	}
	c.sys.raw = raw
	c.sys.initGSO()
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
	g    gsoPlan // the messages of the next send (gso_linux.go)

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
	b.g.init()
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
	r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.g.msgs[b.off])), uintptr(len(b.g.msgs)-b.off), 0, 0, 0)
	if e == unix.EAGAIN {
		return false
	}
	b.sent, b.errno = int(r), e
	return true
}
