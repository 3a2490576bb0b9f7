//go:build linux && (amd64 || arm64)

package media

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxBatchLen is how many datagrams one recvmmsg(2) reads at most.
const rxBatchLen = 16

// rxReader reads one socket of the ICE UDP port with recvmmsg(2), made as a
// raw system call for the reason sends are (sendmmsg_linux.go: a
// syscall.Syscall wakes the scheduler's sysmon after every idle gap). The
// socket is non-blocking: recvmmsg returns what is queued, and on EAGAIN the
// poller waits for more (RawConn.Read). Fast-path media (rxfast.go) is
// delivered in the reading goroutine; read returns the rest, one by one.
//
// Each datagram comes with its kernel receive time (SO_TIMESTAMPNS control
// data, rxstamp_linux.go), which the reader notes for RTP in the arrival
// table (latency.go), in the same system call.
//
// One goroutine reads a reader: Pion's UDP mux read loop when the port has
// one socket, the reader's pump otherwise (rxport.go). Nothing allocates
// per datagram.
type rxReader struct {
	conn     *net.UDPConn
	raw      syscall.RawConn
	fast     *fastTable    // nil: no fast path (tests)
	out      *batchConn    // held while one read's fast-path media is delivered (passhold.go); nil: not held
	holding  bool          // out is held by this reader
	heldAt   time.Time     // since when
	arrivals *arrivalTable // nil: arrivals not noted (tests)

	n, next int           // datagrams in the batch, and the next one to look at
	errno   syscall.Errno // the last recvmmsg's error
	fn      func(fd uintptr) bool
	hdrs    [rxBatchLen]mmsghdr
	iovs    [rxBatchLen]unix.Iovec
	sas     [rxBatchLen]unix.RawSockaddrInet4
	ctrl    [rxBatchLen][rxStampLen]byte
	bufs    [rxBatchLen][rxSlot]byte
	dst     [rxSlot]byte // the fast path decrypts into it
}

func newRxReader(c *net.UDPConn, fast *fastTable, arrivals *arrivalTable) *rxReader {
	raw, err := c.SyscallConn()
	if err != nil {
		panic("media: UDP socket without a file descriptor: " + err.Error()) // never for *net.UDPConn
	}
	r := &rxReader{conn: c, raw: raw, fast: fast}
	if arrivals != nil && enableRxStamps(raw) == nil {
		r.arrivals = arrivals
	}
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.sas[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		if r.arrivals != nil {
			h.Control = &r.ctrl[i][0]
		}
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(rxSlot)
	}
	r.fn = r.recvmmsg
	return r
}

// recvmmsg is run by RawConn.Read with the socket's descriptor; false asks
// the poller to wait for the next datagram.
func (r *rxReader) recvmmsg(fd uintptr) bool {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Namelen = unix.SizeofSockaddrInet4 // the kernel writes the lengths back
		if r.arrivals != nil {
			h.SetControllen(rxStampLen)
		}
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), rxBatchLen, 0, 0, 0)
	if e == unix.EAGAIN {
		return false
	}
	r.n, r.errno = int(n), e
	return true
}

// read returns the next datagram that is not fast-path media, valid until
// the next call.
func (r *rxReader) read() ([]byte, netip.AddrPort, error) {
	for {
		for r.next < r.n {
			i := r.next
			r.next++
			sa := &r.sas[i]
			if sa.Family != unix.AF_INET {
				continue // the socket is udp4
			}
			p := r.bufs[i][:r.hdrs[i].len]
			from := netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), sa.Port>>8|sa.Port<<8)
			if r.arrivals != nil && isRTPDatagram(p) {
				r.arrivals.note(p, rxStampNs(r.ctrl[i][:r.hdrs[i].hdr.Controllen]))
			}
			if r.fast != nil {
				r.hold()
				if r.fast.take(p, from, r.dst[:]) {
					continue
				}
			}
			r.release()
			return p, from, nil
		}
		r.release()
		r.n, r.next, r.errno = 0, 0, 0
		if err := r.raw.Read(r.fn); err != nil {
			return nil, netip.AddrPort{}, err
		}
		if r.errno != 0 {
			return nil, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Source: r.conn.LocalAddr(), Err: os.NewSyscallError("recvmmsg", r.errno)}
		}
	}
}

// holdOn makes the reader hold b while it delivers the fast-path media of
// one read (passhold.go).
func (r *rxReader) holdOn(b *batchConn) { r.out = b }

// hold holds the batch, before a fast-path delivery, if more datagrams of
// this read follow; a hold older than holdMax is ended first, which bounds
// what it adds to a packet's latency.
func (r *rxReader) hold() {
	if r.holding && time.Since(r.heldAt) > holdMax {
		r.release()
	}
	if !r.holding && r.out != nil && r.next < r.n {
		r.out.beginHold()
		r.holding, r.heldAt = true, time.Now()
	}
}

// release ends the reader's hold: what its deliveries queued leaves now.
func (r *rxReader) release() {
	if r.holding {
		r.holding = false
		r.out.endHold()
	}
}

// listenRx opens the ICE UDP port as k sockets. With more than one, they
// share the port through SO_REUSEPORT: the kernel gives each flow (by its
// addresses and ports) to one socket, so a publisher's packets stay in order
// on one reader while different publishers are read on different cores. One
// socket does not set the option (no other socket may join its port).
func listenRx(addr *net.UDPAddr, k int) ([]*net.UDPConn, error) {
	if k <= 1 {
		c, err := net.ListenUDP("udp4", addr)
		if err != nil {
			return nil, err
		}
		return []*net.UDPConn{c}, nil
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	var conns []*net.UDPConn
	fail := func(err error) ([]*net.UDPConn, error) {
		for _, c := range conns {
			_ = c.Close()
		}
		return nil, err
	}
	at := addr.String()
	for range k {
		pc, err := lc.ListenPacket(context.Background(), "udp4", at)
		if err != nil {
			return fail(err)
		}
		c := pc.(*net.UDPConn)
		conns = append(conns, c)
		// The others join the first one's port (it was 0: ephemeral).
		at = net.JoinHostPort(addr.IP.String(), strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port))
	}
	return conns, nil
}
