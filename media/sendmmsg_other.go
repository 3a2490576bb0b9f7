//go:build !(linux && (amd64 || arm64))

package media

import (
	"log/slog"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// batchSys sends a batch with golang.org/x/net/ipv4 WriteBatch: sendmmsg on
// Linux, one datagram per call elsewhere.
type batchSys struct {
	pc *ipv4.PacketConn
}

func (c *batchConn) initSend() { c.sys.pc = ipv4.NewPacketConn(c.UDPConn) }

// sendBatch is one sendmmsg's worth of datagrams, with its own buffers and
// addresses so that queuing allocates nothing.
type sendBatch struct {
	n     int
	msgs  [batchLen]ipv4.Message
	bufs  [batchLen][maxDatagram]byte
	iov   [batchLen][1][]byte
	addrs [batchLen]net.UDPAddr
	ips   [batchLen][16]byte
}

func newSendBatch() *sendBatch {
	b := &sendBatch{}
	for i := range b.msgs {
		b.msgs[i].Buffers = b.iov[i][:]
	}
	return b
}

func fits(netip.AddrPort) bool { return true }

func (b *sendBatch) put(p []byte, addr netip.AddrPort) {
	b.commit(copy(b.slot(), p), addr)
}

// slot is the buffer of the next datagram; commit queues its first n bytes.
func (b *sendBatch) slot() []byte { return b.bufs[b.n][:] }

func (b *sendBatch) commit(n int, addr netip.AddrPort) {
	i := b.n
	b.n++
	b.iov[i][0] = b.bufs[i][:n]
	ip := addr.Addr().Unmap()
	a := &b.addrs[i]
	if ip.Is4() {
		v4 := ip.As4()
		copy(b.ips[i][:], v4[:])
		a.IP = b.ips[i][:4]
	} else {
		b.ips[i] = ip.As16()
		a.IP = b.ips[i][:16]
	}
	a.Port = int(addr.Port())
	b.msgs[i].Addr = a
}

func (b *sendBatch) reset() {
	for i := range b.n {
		b.msgs[i].Addr = nil
		b.iov[i][0] = nil
	}
	b.n = 0
}

// plan: no UDP GSO here, every datagram is a message of its own.
func (s *batchSys) plan(*sendBatch) {}

func (b *sendBatch) messages() int { return b.n }

func (s *batchSys) setLog(*slog.Logger) {}

// gsoCounts: nothing is sent with GSO here.
func (s *batchSys) gsoCounts() (msgs, segments uint64) { return 0, 0 }

// write sends b's datagrams from off on and returns how many left (each
// message is one datagram).
func (s *batchSys) write(b *sendBatch, off int) (msgs, datagrams int) {
	n, _ := s.pc.WriteBatch(b.msgs[off:b.n], 0)
	return n, n
}
